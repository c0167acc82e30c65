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


class LazyS3Client:
    """A boto3 S3 client through the Amazon provider's S3Hook (`ArchiveS3Hook`), built (connection
    look-up included) at its first use, once; attribute access is passed to it."""

    def __init__(self, aws_conn_id: str | None) -> None:
        self.aws_conn_id = aws_conn_id
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The boto3 client, built on first use."""
        if self._client is None:
            from kaltura_archiver.airflow.hooks.s3 import ArchiveS3Hook

            self._client = ArchiveS3Hook(aws_conn_id=self.aws_conn_id).get_conn()
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def build_runtime(
    kaltura_conn_id: str,
    aws_conn_id: str | None,
    log: Any,
    with_s3: bool = True,
    settings: ArchiverSettings | None = None,
) -> TaskRuntime:
    """Kaltura API and S3 store for one task; the settings given (else read from the Variables).

    Connections are looked up once each; the boto3 client is built when S3 is first used.
    """
    from kaltura_archiver.airflow.hooks.kaltura import KalturaHook
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.selection import Selector

    settings = settings if settings is not None else load_archiver_settings()
    counter = CallCounter()
    api = KalturaHook(kaltura_conn_id).get_api(counter=counter)
    s3_client = LazyS3Client(aws_conn_id) if with_s3 else None
    store = ArchiveStore(s3_client, settings.bucket, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(
        api,
        settings,
        inventory=store.inventory if with_s3 else None,
        log=log,
        prepare_inventory=store.list_bucket if with_s3 else None,
    )
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
