"""Build the domain objects a task needs from its Airflow connections and variables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook

from kaltura_archiver.airflow.hooks.kaltura import KalturaHook
from kaltura_archiver.airflow.settings import load_archiver_settings
from kaltura_archiver.archive_store import ArchiveStore
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.kaltura_api import KalturaApi
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.selection import Selector


@dataclass
class TaskRuntime:
    """Settings, Kaltura API, archive store and selector of one task, sharing one call counter."""

    settings: ArchiverSettings
    api: KalturaApi
    store: ArchiveStore
    selector: Selector
    counter: CallCounter
    s3_client: Any


def build_runtime(
    kaltura_conn_id: str, aws_conn_id: str | None, log: Any, with_s3: bool = True
) -> TaskRuntime:
    """Connect to Kaltura (and S3 through the Amazon provider's S3Hook) for one task."""
    settings = load_archiver_settings()
    counter = CallCounter()
    api = KalturaHook(kaltura_conn_id).get_api(counter=counter)
    s3_client = S3Hook(aws_conn_id=aws_conn_id).get_conn() if with_s3 else None
    store = ArchiveStore(s3_client, settings.bucket, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(api, settings, inventory=store.inventory if with_s3 else None, log=log)
    return TaskRuntime(settings, api, store, selector, counter, s3_client)


def reference_time(context: Any) -> datetime:
    """The instant ages are computed from: the run's logical date, else when the run was due."""
    dag_run = context.get("dag_run")
    value = context.get("logical_date") or getattr(dag_run, "logical_date", None)
    if value is None and dag_run is not None:
        value = dag_run.run_after
    if value is None:
        raise ValueError("the run has neither a logical date nor a run_after time")
    return value
