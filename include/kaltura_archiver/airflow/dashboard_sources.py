"""Where the dashboard's figures come from, read inside Airflow's API server.

Variables and connections are read server side (the API server is not a task); the stats table and the
latest health report come from the reports location, a folder or an S3 prefix; per-week figures and
the restores under way come from the metadata DB (the live runs' `summarize` results and the
`restore_entry` task instances).
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kaltura_archiver.airflow.settings import (
    DEFAULT_REPORTS_LOCATION,
    REPORTS_LOCATION_VARIABLE,
    VARIABLE_PREFIX,
)
from kaltura_archiver.config import ArchiverSettings, SettingsError
from kaltura_archiver.costs import PriceError, Prices
from kaltura_archiver.dashboard import (
    HEALTH_REPORTS,
    STATS_TABLE,
    Dashboard,
    WeekFigure,
    build,
    verdict_counts,
    weekly,
)
from kaltura_archiver.report_store import ReportLocation, ReportLocationError

PRICES_VARIABLE = f"{VARIABLE_PREFIX}prices"
AWS_CONN_ID = "aws_default"
ACTION_DAGS = {"kaltura_archive": "archive", "kaltura_restore": "restore"}
WEEKS_SHOWN = 12
UNDER_WAY = ("scheduled", "queued", "running", "deferred", "up_for_retry", "up_for_reschedule")
_health_cache: dict[str, tuple[tuple[Any, ...], int]] = {}


def variable(name: str, default: str | None = None) -> str | None:
    """A variable as the API server sees it: `AIRFLOW_VAR_<NAME>` first, then the metadata DB."""
    value = os.environ.get(f"AIRFLOW_VAR_{name.upper()}")
    if value is not None:
        return value
    from airflow.models.variable import Variable

    found = Variable.get(name, default_var=default)
    return None if found is None else str(found)


def archiver_settings() -> ArchiverSettings:
    """The `kaltura_archiver_*` settings (bucket, tags, storage class, restore tier)."""
    from kaltura_archiver.airflow.settings import settings_from_mapping

    names = [f.name for f in dataclasses.fields(ArchiverSettings) if f.name != "extra"]
    found = {name: variable(f"{VARIABLE_PREFIX}{name}") for name in names}
    return settings_from_mapping({k: v for k, v in found.items() if v is not None})


def location() -> ReportLocation:
    return ReportLocation.parse(variable(REPORTS_LOCATION_VARIABLE, DEFAULT_REPORTS_LOCATION) or "")


def s3_client() -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=AWS_CONN_ID).get_conn()


def read(name: str) -> bytes | None:
    """The bytes of report `name` in the reports location, or None when it does not exist (yet)."""
    where = location()
    if where.scheme == "file":
        path = Path(where.root) / name
        return path.read_bytes() if path.exists() else None
    from botocore.exceptions import ClientError

    key = f"{where.root}/{name}" if where.root else name
    try:
        return bytes(s3_client().get_object(Bucket=where.bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def stats_rows() -> list[dict[str, Any]]:
    """The stats table's rows, oldest first ([] before the first `kaltura_stats` run)."""
    import pandas as pd

    table = read(f"{STATS_TABLE}.csv")
    if table is None:
        return []
    frame = pd.read_csv(io.BytesIO(table), dtype={"as_of": str})
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _health_names() -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(name, version) of every health report; the version changes when the file does."""
    where = location()
    if where.scheme == "file":
        for path in (Path(where.root) / HEALTH_REPORTS).glob("*.tsv"):
            stat = path.stat()
            yield f"{HEALTH_REPORTS}{path.name}", (stat.st_size, stat.st_mtime)
        return
    prefix = f"{where.root}/{HEALTH_REPORTS}" if where.root else HEALTH_REPORTS
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".tsv"):
                yield HEALTH_REPORTS + item["Key"][len(prefix) :], (item["Size"], item.get("ETag"))


def latest_unhealthy() -> tuple[str, int | None]:
    """(report name, unhealthy entries) of the newest health report; ("", None) when there is none."""
    names = sorted(_health_names())
    if not names:
        return "", None
    name, version = names[-1]
    cached = _health_cache.get(name)
    if cached is not None and cached[0] == version:
        return name, cached[1]
    body = read(name)
    if body is None:
        return "", None
    unhealthy = verdict_counts(io.StringIO(body.decode("utf-8"), newline="")).get("unhealthy", 0)
    _health_cache[name] = (version, unhealthy)
    return name, unhealthy


def weekly_runs(today: date | None = None) -> list[WeekFigure]:
    """Entries archived and restored per week by live runs over the last `WEEKS_SHOWN` weeks."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    since = datetime.combine(today or date.today(), datetime.min.time(), UTC) - timedelta(weeks=WEEKS_SHOWN)
    query = (
        select(XComModel, DagRun.run_after)
        .join(DagRun, DagRun.id == XComModel.dag_run_id)
        .where(
            XComModel.dag_id.in_(list(ACTION_DAGS)),
            XComModel.task_id == "summarize",
            XComModel.key == "return_value",
            XComModel.map_index == -1,
            DagRun.run_after >= since,
        )
    )
    with create_session() as session:
        rows = [(x.dag_id, XComModel.deserialize_value(x), when) for x, when in session.execute(query).all()]
    return weekly(
        (when.date(), ACTION_DAGS[dag_id], value) for dag_id, value, when in rows if isinstance(value, dict)
    )


def restoring_entries() -> int:
    """Entries whose `restore_entry` task is under way (waiting for Glacier or for Kaltura)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    query = select(func.count(func.distinct(TaskInstance.rendered_map_index))).where(
        TaskInstance.dag_id == "kaltura_restore",
        TaskInstance.task_id == "restore_entry",
        TaskInstance.map_index >= 0,
        TaskInstance.state.in_(UNDER_WAY),
    )
    with create_session() as session:
        return int(session.scalar(query) or 0)


def load_dashboard() -> Dashboard:
    """Everything the page shows; what cannot be read is listed in `Dashboard.problems`, not raised."""
    problems: list[str] = []
    try:
        settings = archiver_settings()
    except SettingsError as exc:
        problems.append(f"Settings: {exc}")
        settings = ArchiverSettings()
    try:
        prices = Prices.from_setting(variable(PRICES_VARIABLE))
    except PriceError as exc:
        problems.append(f"Variable {PRICES_VARIABLE}: {exc}; the page uses the default prices")
        prices = Prices()
    rows: list[dict[str, Any]] = []
    health, unhealthy = "", None
    try:
        rows = stats_rows()
        health, unhealthy = latest_unhealthy()
    except (ReportLocationError, OSError, ValueError) as exc:
        problems.append(f"Reports location: {exc}")
    except Exception as exc:  # noqa: BLE001 - S3 errors arrive as botocore's own types
        problems.append(f"Reports location: {type(exc).__name__}: {exc}")
    if not rows:
        problems.append("No stats yet: unpause or trigger the kaltura_stats DAG (or backfill it).")
    board = build(
        rows,
        prices,
        settings.storage_class,
        settings.restore_tier,
        unhealthy=unhealthy,
        restoring=restoring_entries(),
        weeks=weekly_runs(),
    )
    board.health_report = health
    board.problems = problems
    return board
