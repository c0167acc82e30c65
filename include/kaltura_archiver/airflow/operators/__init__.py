"""Airflow layer: thin adapters from Airflow context to the domain modules."""
