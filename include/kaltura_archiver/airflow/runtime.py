"""Build the domain objects a task needs from its Airflow connections and variables.

The Kaltura client, boto3 and the domain modules that use them are imported when a task builds
its runtime, not when a DAG file is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kaltura_archiver.airflow.settings import load_archiver_settings
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.progress import CallCounter

if TYPE_CHECKING:
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.kaltura_api import KalturaApi
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
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from kaltura_archiver.airflow.hooks.kaltura import KalturaHook
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.selection import Selector

    settings = load_archiver_settings()
    counter = CallCounter()
    api = KalturaHook(kaltura_conn_id).get_api(counter=counter)
    s3_client = S3Hook(aws_conn_id=aws_conn_id).get_conn() if with_s3 else None
    store = ArchiveStore(s3_client, settings.bucket, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(api, settings, inventory=store.inventory if with_s3 else None, log=log)
    return TaskRuntime(settings, api, store, selector, counter, s3_client)


def reference_time(context: Any, explicit: Any = None) -> datetime:
    """The instant ages are computed from: an explicit value, else the run's logical date, else its
    data interval end, else when the run was due (runs triggered without a logical date), else now; UTC."""
    dag_run = context.get("dag_run")
    candidates = [
        explicit,
        context.get("logical_date"),
        getattr(dag_run, "logical_date", None),
        context.get("data_interval_end"),
        getattr(dag_run, "run_after", None),
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate:
            candidate = datetime.fromisoformat(candidate)
        if isinstance(candidate, datetime):
            return candidate if candidate.tzinfo else candidate.replace(tzinfo=UTC)
    return datetime.now(UTC)


def as_bool(value: Any) -> bool:
    """A templated flag: real bools, or strings such as "True" / "false" / "1"."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
