# Production image: the official Airflow image of the same Airflow and Python version, plus this package.
FROM apache/airflow:3.3.2-python3.11

USER root
# python-ldap needs the OpenLDAP and SASL headers to build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libldap2-dev libsasl2-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

USER airflow
COPY --chown=airflow:root requirements.txt /opt/kaltura-archiver/requirements.txt
RUN pip install --no-cache-dir -r /opt/kaltura-archiver/requirements.txt

COPY --chown=airflow:root pyproject.toml README.md /opt/kaltura-archiver/
COPY --chown=airflow:root include /opt/kaltura-archiver/include
RUN pip install --no-cache-dir --no-deps /opt/kaltura-archiver

COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
