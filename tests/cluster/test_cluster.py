"""The DAGs on a distributed Airflow (PostgreSQL, Redis, CeleryExecutor, two Celery workers), driven only
through Airflow's public REST API as an operator would: trigger, approve or reject through the HITL API,
read task instances, XComs, pools and logs, backfill through the backfill endpoint.

The Kaltura emulator and the S3 server are the test's world (seeded and inspected directly); Airflow
is touched only over HTTP. Skipped only where PostgreSQL or Redis are not installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dev.cluster.airflow_cluster import WORKER_NAMES, AirflowCluster
from dev.cluster.rest import AirflowRestClient
from dev.cluster.services import missing_packages
from dev.local_airflow import PROJECT_ROOT
from dev.stack import BUCKET, LocalStack
from tests.fixtures.dag_stack import small_entry

pytestmark = pytest.mark.timeout(1800)

ENTRIES = 240  # the archive filter matches all of them
MAX_ENTRIES = 30  # the archive run maps this many; the rest are reported as remaining
GLACIER_SECONDS = 40  # long enough to watch the restore tasks wait deferred
ARCHIVED, REPLACED = "archived_to_s3", "flavors_deleted"
RUN_TIMEOUT = 420


@dataclass
class Cluster:
    """The running deployment, its REST client, the local stack and the figures the test gathers."""

    airflow: AirflowCluster
    api: AirflowRestClient
    stack: LocalStack
    entry_ids: list[str]
    started: float
    figures: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    missing = missing_packages()
    if missing:
        pytest.skip(
            f"the cluster test needs the Debian packages {', '.join(missing)}, which are not installed "
            "and could not be installed here (make setup installs them as root)"
        )
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="kaltura-archiver-cluster-"))
    root.chmod(0o755)  # PostgreSQL runs as the postgres user when the test runs as root
    stack = LocalStack(root=root / "stack", glacier_restore_seconds=GLACIER_SECONDS, conversion_seconds=1.0)
    stack.with_ldap = False
    airflow = AirflowCluster(root / "airflow")
    try:
        stack.start()
        now = time.time()
        entry_ids = stack.kaltura_control.create_entries(
            [small_entry(now, 2 + (i % 20) / 100, None, size=20_000 + 97 * i) for i in range(ENTRIES)]
        )
        airflow.start(stack.settings_env())
        api = airflow.client()
        for key, value in {
            "kaltura_archiver_unattended": "false",  # live runs wait for a human approval
            "kaltura_archiver_replace_min_age_years": "1",
            "kaltura_archiver_ready_poll_seconds": "1",
            "kaltura_archiver_glacier_poll_seconds": "2",
        }.items():
            api.set_variable(key, value)
        yield Cluster(airflow, api, stack, entry_ids, started)
    finally:
        airflow.stop()
        stack.stop()
        kept = PROJECT_ROOT / ".stack" / "cluster-test-logs"  # for a look after a failure
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(root / "airflow" / "logs", kept, dirs_exist_ok=True)
        shutil.copytree(root / "airflow" / "airflow_home" / "logs", kept / "tasks", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def entry_tis(api: AirflowRestClient, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
    """The mapped task instances of `task_id` in one run, by map index."""
    tis = [t for t in api.task_instances(dag_id, run_id) if t["task_id"] == task_id and t["map_index"] >= 0]
    return sorted(tis, key=lambda t: t["map_index"])


def approve_when_asked(api: AirflowRestClient, dag_id: str, run_id: str, option: str) -> None:
    """Wait until the run's approval request is open, then answer it through the HITL API."""
    api.wait_for_task_state(dag_id, run_id, "approve", "awaiting_input", timeout=RUN_TIMEOUT)
    detail = api.approval_request(dag_id, run_id)
    assert detail["options"] == ["Approve", "Reject"] and detail["defaults"] == ["Reject"], detail
    api.answer_approval(dag_id, run_id, option)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_dags_on_a_celery_cluster(cluster: Cluster) -> None:
    api, stack = cluster.api, cluster.stack
    control, s3 = stack.kaltura_control, stack.s3_client()
    assert set(api.dag_ids()) >= {
        "kaltura_archive",
        "kaltura_replace",
        "kaltura_restore",
        "kaltura_repair",
        "kaltura_health",
        "kaltura_report",
        "kaltura_stats",
    }
    for dag_id in ("kaltura_archive", "kaltura_replace", "kaltura_restore", "kaltura_stats"):
        api.set_paused(dag_id, False)

    # -- archive: a live run over a filter matching all entries, approved through the HITL API
    phase = time.monotonic()
    run_id = api.trigger(
        "kaltura_archive", {"dry_run": False, "unplayed_for": 1.5, "max_entries": MAX_ENTRIES}
    )
    approve_when_asked(api, "kaltura_archive", run_id, "Approve")
    run = api.wait_for_run("kaltura_archive", run_id, RUN_TIMEOUT)
    assert run["state"] == "success", api.task_instances("kaltura_archive", run_id)
    selected = api.xcom("kaltura_archive", run_id, "select")
    plan = api.xcom("kaltura_archive", run_id, "select", key="plan")
    summary = api.xcom("kaltura_archive", run_id, "summarize")
    assert len(selected) == MAX_ENTRIES and set(selected) <= set(cluster.entry_ids)
    assert plan["remaining"] == ENTRIES - MAX_ENTRIES and plan["selected"] == MAX_ENTRIES
    assert summary["counts"]["done"] == MAX_ENTRIES and summary["counts"]["failed"] == 0
    assert summary["remaining"] == ENTRIES - MAX_ENTRIES and summary["approval"] == "approved"

    tis = entry_tis(api, "kaltura_archive", run_id, "archive_entry")
    assert [t["rendered_map_index"] for t in tis] == selected
    assert {t["state"] for t in tis} == {"success"}
    per_worker = Counter(t["hostname"] for t in tis)
    assert set(per_worker) == set(WORKER_NAMES), per_worker
    for entry_id in selected:  # in Glacier: checked by S3's own checksum against the verified manifest
        entry = control.entry(entry_id)
        head = s3.head_object(Bucket=BUCKET, Key=entry_id, ChecksumMode="ENABLED")
        body = s3.get_object(Bucket=BUCKET, Key=f"manifests/{entry_id}.json")["Body"].read()
        manifest = json.loads(body)
        assert head["ContentLength"] == entry["original_size"] == manifest["size_bytes"]
        assert head["StorageClass"] == "GLACIER" and manifest["verified_at"]
        assert manifest["sha256"] == entry["original_sha256"]
        assert head["ChecksumCRC32C"].split("-")[0] == manifest["checksum_crc32c"].split("-")[0]
        assert ARCHIVED in entry["tags"]
    unselected = [e for e in cluster.entry_ids if e not in selected]
    assert all(ARCHIVED not in control.entry(e, sha256=False)["tags"] for e in unselected[:20])

    index = 7
    log = api.task_log("kaltura_archive", run_id, "archive_entry", index)
    assert selected[index] in log and "archive" in log, log[-3000:]
    cluster.figures.update(
        entries_seeded=ENTRIES,
        archived=len(selected),
        remaining_reported=plan["remaining"],
        tasks_per_worker=dict(per_worker),
        archive_seconds=round(time.monotonic() - phase),
    )

    # -- replace three archived entries with the placeholder
    chosen = selected[:3]
    run_id = api.trigger("kaltura_replace", {"dry_run": False, "entry_ids": chosen})
    approve_when_asked(api, "kaltura_replace", run_id, "Approve")
    assert api.wait_for_run("kaltura_replace", run_id, RUN_TIMEOUT)["state"] == "success"
    placeholder_size = Path(stack.settings_env()["PLACEHOLDER_VIDEO"]).stat().st_size
    for entry_id in chosen:
        entry = control.entry(entry_id, sha256=False)
        assert REPLACED in entry["tags"] and entry["original_size"] == placeholder_size

    # -- restore them (no approval needed): the tasks wait for Glacier deferred, holding no worker slot
    wait_for_other_runs(api)
    for entry_id in chosen:
        control.play(entry_id)
    phase = time.monotonic()
    run_id = api.trigger("kaltura_restore", {"dry_run": False, "entry_ids": chosen})

    def all_deferred() -> list[dict[str, Any]] | None:
        tis = entry_tis(api, "kaltura_restore", run_id, "restore_entry")
        return tis if len(tis) == 3 and {t["state"] for t in tis} == {"deferred"} else None

    api.wait(all_deferred, RUN_TIMEOUT, "the restore tasks to defer")
    running = api.get("/dags/~/dagRuns/~/taskInstances", state="running", limit=1)["total_entries"]
    pool = api.get("/pools/default_pool")
    assert running == 0 and pool["running_slots"] == 0 and pool["deferred_slots"] >= 3, (running, pool)
    approval = api.xcom("kaltura_restore", run_id, "approve")
    assert approval["chosen_options"] == ["Approve"] and "destroys nothing" in approval["approved_by"]
    cluster.figures.update(
        slots_held_during_glacier_wait=running, deferred_during_wait=pool["deferred_slots"]
    )

    # -- meanwhile: a rejected approval ends its run cleanly, and a 7-day stats backfill runs
    rejected_ids = unselected[:3]
    reject_run = api.trigger("kaltura_archive", {"dry_run": False, "entry_ids": rejected_ids})
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    backfill = api.post(
        "/backfills",
        {
            "dag_id": "kaltura_stats",
            "from_date": (today - timedelta(days=10)).isoformat(),
            "to_date": (today - timedelta(days=4)).isoformat(),
            "max_active_runs": 1,
        },
    )
    approve_when_asked(api, "kaltura_archive", reject_run, "Reject")
    run = api.wait_for_run("kaltura_archive", reject_run, RUN_TIMEOUT)
    assert run["state"] == "success"
    summary = api.xcom("kaltura_archive", reject_run, "summarize")
    assert summary["approval"] == "rejected" and summary["rejected"] == 3
    assert summary["counts"]["failed"] == 0 and summary["failed"] == []
    skipped = {
        t["state"]
        for t in api.task_instances("kaltura_archive", reject_run)
        if t["task_id"] == "archive_entry"
    }
    assert skipped == {"skipped"}
    for entry_id in rejected_ids:
        assert ARCHIVED not in control.entry(entry_id, sha256=False)["tags"]
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=entry_id)

    run = api.wait_for_run("kaltura_restore", run_id, RUN_TIMEOUT)
    assert run["state"] == "success", api.task_instances("kaltura_restore", run_id)
    assert {r["key"] for r in stack.s3_control.restores() if r["bucket"] == BUCKET} == set(chosen)
    for entry_id in chosen:
        entry = control.entry(entry_id)
        body = s3.get_object(Bucket=BUCKET, Key=entry_id)["Body"].read()
        assert REPLACED not in entry["tags"] and entry["original_sha256"] == sha256(body)
    cluster.figures["restore_seconds"] = round(time.monotonic() - phase)

    def backfill_done() -> list[dict[str, Any]] | None:
        runs = [r for r in api.runs("kaltura_stats", run_type="backfill")]
        done = len(runs) == 7 and all(r["state"] in ("success", "failed") for r in runs)
        return runs if done else None

    runs = api.wait(backfill_done, RUN_TIMEOUT, f"backfill {backfill['id']} of kaltura_stats", interval=3)
    assert {r["state"] for r in runs} == {"success"}, runs
    days = sorted(datetime.fromisoformat(r["data_interval_end"]).date().isoformat() for r in runs)
    assert days == [(today - timedelta(days=d)).date().isoformat() for d in range(9, 2, -1)]
    table = (
        Path(stack.settings_env()["REPORTS_LOCATION"].removeprefix("file://")) / "stats" / "kaltura_stats.csv"
    )
    rows = {line.split(",")[0] for line in table.read_text().splitlines()[1:]}
    assert set(days) <= rows
    cluster.figures["wall_seconds"] = round(time.monotonic() - cluster.started)
    print(f"\ncluster figures: {cluster.figures}")


APPROVAL_TIMEOUT_HOURS = 0.005  # 18 s; the scheduler's awaiting-input sweep runs every 15 s (stock)


def test_an_unanswered_approval_times_out_without_blocking_later_runs(cluster: Cluster) -> None:
    """An approval nobody answers within `kaltura_archiver_approval_timeout_hours` counts as rejected
    (the scheduler's awaiting-input sweep applies the Reject default): the run ends without an entry
    counted failed, and the DAG's next run (max_active_runs=1), queued meanwhile, goes on."""
    api, stack = cluster.api, cluster.stack
    control, s3 = stack.kaltura_control, stack.s3_client()
    wait_for_other_runs(api)
    api.set_paused("kaltura_archive", False)
    untouched: list[str] = []
    for entry_id in reversed(cluster.entry_ids):
        if len(untouched) < 2 and ARCHIVED not in control.entry(entry_id, sha256=False)["tags"]:
            untouched.append(entry_id)
    phase = time.monotonic()
    api.set_variable("kaltura_archiver_approval_timeout_hours", str(APPROVAL_TIMEOUT_HOURS))
    try:
        waiting = api.trigger("kaltura_archive", {"dry_run": False, "entry_ids": untouched})
        api.wait_for_task_state("kaltura_archive", waiting, "approve", "awaiting_input", RUN_TIMEOUT)
        later = api.trigger("kaltura_archive", {"dry_run": True, "entry_ids": untouched})
        assert api.run("kaltura_archive", later)["state"] == "queued", "max_active_runs=1 holds it back"
        run = api.wait_for_run("kaltura_archive", waiting, RUN_TIMEOUT)
    finally:
        api.set_variable("kaltura_archiver_approval_timeout_hours", "24")
    assert run["state"] == "success", api.task_instances("kaltura_archive", waiting)
    assert "Waiting up to 0:00:18 for an approval" in api.task_log("kaltura_archive", waiting, "approve", -1)
    detail = api.approval_request("kaltura_archive", waiting)
    assert detail["response_received"] and detail["chosen_options"] == ["Reject"], detail
    assert detail["responded_by_user"] is None, "nobody answered: the timeout's default was applied"
    summary = api.xcom("kaltura_archive", waiting, "summarize")
    assert summary["approval"] == "rejected" and summary["rejected"] == len(untouched)
    assert summary["reason"] == "rejected: no answer before the approval timeout"
    assert summary["counts"]["failed"] == 0 and summary["failed"] == []
    states = {t["task_id"]: t["state"] for t in api.task_instances("kaltura_archive", waiting)}
    assert states["approve"] == "success" and states["archive_entry"] == "skipped", states
    for entry_id in untouched:
        assert ARCHIVED not in control.entry(entry_id, sha256=False)["tags"]
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=entry_id)

    after = api.wait_for_run("kaltura_archive", later, RUN_TIMEOUT)
    assert after["state"] == "success", api.task_instances("kaltura_archive", later)
    later_summary = api.xcom("kaltura_archive", later, "summarize")
    assert later_summary["approval"] == "approved" and later_summary["counts"]["failed"] == 0
    cluster.figures["approval_timeout_phase_seconds"] = round(time.monotonic() - phase)
    print(f"\napproval timeout phase: {cluster.figures['approval_timeout_phase_seconds']} s")


def wait_for_other_runs(api: AirflowRestClient) -> None:
    """Wait until no run but queued ones is active, so the slot reading sees only the restore."""

    def idle() -> bool | None:
        for dag_id in ("kaltura_archive", "kaltura_replace", "kaltura_restore", "kaltura_stats"):
            if api.runs(dag_id, state=["running", "queued"]):
                return None
        return True

    api.wait(idle, RUN_TIMEOUT, "the other runs to finish", interval=2)
