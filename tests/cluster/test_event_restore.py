"""Event-driven restore on a real deployment: a message on the SQS queue starts a restore within seconds.

PostgreSQL, Redis, api-server, scheduler, dag-processor, triggerer and Celery workers run as separate
processes (`dev.event_restore.WatchingCluster`, `make cluster`'s deployment); the triggerer watches
the queue through the common messaging provider's `MessageQueueTrigger` (SQS scheme, the Amazon
provider's `SqsSensorTrigger`) on moto's SQS in the same server as S3. The test only sends messages
and reads Airflow through its REST API. Prints the time from a message to the Glacier restore
request. Skipped only where PostgreSQL or Redis are not installed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dev.cluster.rest import AirflowRestClient
from dev.cluster.services import missing_packages
from dev.event_restore import (
    WatchingCluster,
    create_queue,
    first_restore_request,
    make_placeholders,
    send_raw,
    send_request,
    start_watching_cluster,
)
from dev.local_airflow import PROJECT_ROOT
from dev.stack import LocalStack
from tests.fixtures.dag_stack import small_entry

pytestmark = pytest.mark.timeout(1200)

DAG_ID = "kaltura_restore_requests"
ARCHIVED, REPLACED = "archived_to_s3", "flavors_deleted"
RUN_TIMEOUT = 300


@dataclass
class Deployment:
    airflow: WatchingCluster
    api: AirflowRestClient
    stack: LocalStack
    queue_url: str
    placeholders: list[str]
    originals: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    missing = missing_packages()
    if missing:
        pytest.skip(f"needs the Debian packages {', '.join(missing)} (make setup installs them as root)")
    root = Path(tempfile.mkdtemp(prefix="kaltura-archiver-events-"))
    root.chmod(0o755)  # PostgreSQL runs as the postgres user when the test runs as root
    stack = LocalStack(root=root / "stack", glacier_restore_seconds=30, conversion_seconds=1.0)
    stack.with_ldap = False
    airflow: WatchingCluster | None = None
    try:
        stack.start()
        stack.s3_control.set_config(tier_seconds={"Expedited": 2, "Standard": 4, "Bulk": 30})
        now = time.time()
        ids = stack.kaltura_control.create_entries(
            [small_entry(now, 5, None, size=30_000), small_entry(now, 5, None, size=20_000)]
        )
        originals = {e: stack.kaltura_control.entry(e)["original_sha256"] for e in ids}
        make_placeholders(stack, ids[:1])
        queue_url = create_queue(stack.s3.endpoint_url if stack.s3 else "")
        airflow = start_watching_cluster(stack, root / "airflow", queue_url)
        yield Deployment(airflow, airflow.client(), stack, queue_url, ids[:1], originals | {"kept": ids[1]})
    finally:
        if airflow is not None:
            airflow.stop()
            kept = PROJECT_ROOT / ".stack" / "event-test-logs"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(root / "airflow" / "logs", kept, dirs_exist_ok=True)
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


def _runs_after(api: AirflowRestClient, known: set[str]) -> list[dict[str, Any]]:
    return [r for r in api.runs(DAG_ID) if r["dag_run_id"] not in known]


def _finish_new_runs(api: AirflowRestClient, known: set[str], timeout: float) -> list[dict[str, Any]]:
    """Wait for at least one run not in `known`, then for every such run to finish successfully."""
    runs = api.wait(lambda: _runs_after(api, known) or None, timeout, "an asset-triggered run")
    assert all(r["run_type"] == "asset_triggered" for r in runs), runs
    for run in runs:
        finished = api.wait_for_run(DAG_ID, run["dag_run_id"], RUN_TIMEOUT)
        assert finished["state"] == "success", api.task_instances(DAG_ID, run["dag_run_id"])
    known |= {r["dag_run_id"] for r in runs}
    return runs


def _rejected(api: AirflowRestClient, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for run in runs:
        out += api.xcom(DAG_ID, run["dag_run_id"], "read_requests", key="rejected") or []
    return out


def test_a_queue_message_restores_the_named_entries(deployment: Deployment) -> None:
    d, api = deployment, deployment.api
    endpoint = d.stack.s3.endpoint_url if d.stack.s3 else ""
    (urgent,) = d.placeholders
    known = {r["dag_run_id"] for r in api.runs(DAG_ID)}

    # a bad message is consumed and reported by a run of its own, and blocks nothing behind it
    send_raw(endpoint, d.queue_url, "this is not a restore request")
    bad = _finish_new_runs(api, known, timeout=240)
    assert [r["kind"] for r in _rejected(api, bad)] == ["malformed"]

    # the watcher is running: time a request from the message to the Glacier restore request
    sent_at = datetime.now(UTC)
    send_request(endpoint, d.queue_url, [urgent, "0_zzzzzzzz", d.originals["kept"]], "urgent", "help-desk #7")
    seconds = first_restore_request(d.stack, [urgent], timeout=240)[urgent]
    runs = _finish_new_runs(api, known, timeout=60)
    created = min(datetime.fromisoformat(r["queued_at"]) for r in runs)
    d.figures["message_to_run_s"] = round((created - sent_at).total_seconds(), 1)
    d.figures["message_to_restore_request_s"] = round(seconds, 1)
    entry = d.stack.kaltura_control.entry(urgent)
    assert REPLACED not in entry["tags"] and ARCHIVED in entry["tags"]
    assert entry["original_sha256"] == d.originals[urgent]
    tiers = {r["key"]: r["tier"] for r in d.stack.s3_control.restores()}
    assert tiers[urgent] == "Expedited"
    kinds = sorted(r["kind"] for r in _rejected(api, runs))
    assert kinds == ["not_replaced", "unknown"], kinds

    print(f"\nevent-driven restore: {d.figures}")
