"""Defaults every DAG of the package shares: owner, retries with backoff, start date, tags."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset

START_DATE = pendulum.datetime(2024, 1, 1, tz="UTC")
OWNER = "media-platform"


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults: owned by the media platform team, 3 retries with exponential backoff."""
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    }
    args.update(overrides)
    return args


def dag_tags(*extra: str) -> list[str]:
    return ["kaltura", "archive", *extra]


# "x-" schemes are left as they are by Airflow; any other scheme makes parsing load every provider's
# URI normaliser (the Amazon one imports boto3)
HEALTH_REPORT = Asset(name="kaltura_health_report", uri="x-kaltura-archiver://reports/health")
ENTRY_REPORT = Asset(name="kaltura_entry_report", uri="x-kaltura-archiver://reports/entries")
STATS_TABLE = Asset(name="kaltura_stats", uri="x-kaltura-archiver://reports/stats")
