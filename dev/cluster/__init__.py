"""`make cluster`: a distributed Airflow (PostgreSQL, Redis, CeleryExecutor, one process per
component, two Celery workers) plus the local Kaltura / S3 / LDAP stack, natively on this machine."""
