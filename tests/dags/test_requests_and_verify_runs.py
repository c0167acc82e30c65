"""Real runs (`dag.test()`, triggers inline) of kaltura_restore_requests and kaltura_verify.

Requests: a manual run names entries like a queue message; bad ids, unknown entries and entries
that hold no placeholder are reported and dropped, the rest are restored at the tier their size and
urgency earn, falling back to Standard when S3 refuses Expedited. Verify: a random sample is
restored at Bulk, read once and compared; one archive corrupted on purpose fails the run under its
entry id, an old-tool archive without manifest is proved by its ETag, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dev.safety.crash import run_children
from kaltura_archiver.verification import HISTORY_NAME, read_history
from tests.fixtures.dag_stack import DagStack, small_entry

pytestmark = pytest.mark.timeout(300)

ARCHIVED, REPLACED = "archived_to_s3", "flavors_deleted"
FIGURES: dict[str, Any] = {}
ORIGINALS: dict[str, str] = {}


def _archive_and_replace(stack: DagStack, count: int, sizes: tuple[int, ...] = ()) -> list[str]:
    now = time.time()
    sizes = sizes or tuple(30_000 + 5_000 * i for i in range(count))
    ids = stack.emulator.control.create_entries([small_entry(now, 5, None, size=s) for s in sizes])
    ORIGINALS.update({e: stack.emulator.control.entry(e)["original_sha256"] for e in ids})
    for step in ("archive", "replace"):  # the project's own tasks, in forked children (quicker than DAG runs)
        for child in run_children([(step, entry_id, None, True) for entry_id in ids]):
            assert child.outcome and child.outcome["outcome"] == "done", child
    for entry_id in ids:
        assert REPLACED in stack.entry(entry_id)["tags"]
    return ids


def _xcom(dag_id: str, run_id: str, task_id: str, key: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=task_id, key=key)
        row = session.scalars(query).first()
        return XComModel.deserialize_value(row) if row is not None else None


def test_requested_entries_are_restored_at_their_tier_and_bad_ones_reported(
    dag_stack: DagStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, control = dag_stack, dag_stack.emulator.control
    small, big = _archive_and_replace(stack, 2, sizes=(30_000, 80_000))
    kept = control.create_entries([small_entry(time.time(), 5, None, size=20_000)])[0]
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_EXPEDITED_MAX_MB", "0")
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_STANDARD_MAX_MB", "1")
    stack.s3_server.control.set_config(glacier_restore_seconds=1, expedited_capacity=False)
    ids = [small, big, kept, "0_zzzzzzzz"]
    before = stack.snapshot([small, big, kept])
    stack.s3_server.control.reset_counts()
    dry = stack.run("kaltura_restore_requests", {"entry_ids": ids, "urgency": "urgent"})
    assert dry.state == "success", dry.tasks
    assert stack.snapshot([small, big, kept]) == before
    assert not any(k.startswith("Restore") for k in stack.s3_server.control.counts())
    run = stack.run(
        "kaltura_restore_requests",
        {"dry_run": False, "entry_ids": ids, "urgency": "urgent", "requested_by": "help-desk #42"},
    )
    assert run.state == "success", run.tasks
    assert sorted(run.value("read_requests")) == sorted([small, big])
    rejected = _xcom("kaltura_restore_requests", run.run_id, "read_requests", "rejected")
    assert {(r["entry_id"], r["kind"]) for r in rejected} == {
        (kept, "not_replaced"),
        ("0_zzzzzzzz", "unknown"),
    }
    plans = _xcom("kaltura_restore_requests", run.run_id, "read_requests", "requests")
    assert {e: p["tier"] for e, p in plans.items()} == {small: "Standard", big: "Standard"}
    outcomes = run.entry_outcomes("restore")
    assert {o["outcome"] for o in outcomes.values()} == {"done"}
    for entry_id in (small, big):
        entry = control.entry(entry_id)
        assert REPLACED not in entry["tags"] and entry["original_sha256"] == ORIGINALS[entry_id]
    assert run.value("summarize")["counts"]["done"] == 2


def test_an_urgent_small_entry_gets_expedited_and_falls_back_when_refused(dag_stack: DagStack) -> None:
    stack = dag_stack
    (fast,) = _archive_and_replace(stack, 1)
    stack.s3_server.control.set_config(tier_seconds={"Expedited": 0.5, "Standard": 1, "Bulk": 30})
    run = stack.run("kaltura_restore_requests", {"dry_run": False, "entry_ids": [fast], "urgency": "urgent"})
    assert run.state == "success", run.tasks
    outcome = run.entry_outcomes("restore")[fast]
    assert outcome["outcome"] == "done" and outcome["details"]["planned_tier"] == "Expedited"
    tiers = {r["key"]: r["tier"] for r in stack.s3_server.control.restores() if r["bucket"] == stack.bucket}
    assert tiers == {fast: "Expedited"}

    (slow,) = _archive_and_replace(stack, 1, sizes=(25_000,))
    stack.s3_server.control.set_config(expedited_capacity=False)
    run = stack.run("kaltura_restore_requests", {"dry_run": False, "entry_ids": [slow], "urgency": "urgent"})
    assert run.state == "success", run.tasks
    assert run.entry_outcomes("restore")[slow]["outcome"] == "done"
    tiers = {r["key"]: r["tier"] for r in stack.s3_server.control.restores() if r["bucket"] == stack.bucket}
    assert tiers == {fast: "Expedited", slow: "Standard"}  # S3 had no Expedited capacity: Standard


def test_verify_proves_good_archives_and_names_the_corrupted_one(dag_stack: DagStack) -> None:
    stack, s3 = dag_stack, dag_stack.s3
    ids = _archive_and_replace(stack, 4)
    legacy = stack.emulator.control.create_entries([small_entry(time.time(), 9, None, size=12_345)])[0]
    legacy_bytes = hashlib.sha256(legacy.encode()).digest() * 400
    s3.put_object(Bucket=stack.bucket, Key=legacy, Body=legacy_bytes, StorageClass="GLACIER")
    stack.s3_server.control.set_config(glacier_restore_seconds=0.5)

    good = stack.run("kaltura_verify")
    assert good.state == "success", good.tasks
    summary = good.value("record")
    assert summary["sampled"] == 5 and summary["good"] == 5 and summary["mismatches"] == []
    sizes = stack.keys()
    assert summary["bytes_read"] == sum(sizes[e] for e in [*ids, legacy])
    results = {
        good.value("verify_entry", r.map_index)["entry_id"]: good.value("verify_entry", r.map_index)
        for r in good.mapped("verify_entry")
    }
    assert results[legacy]["proof"] == "md5-etag" and results[ids[0]]["proof"] == "sha256"
    restores = {
        r["key"]: r["tier"] for r in stack.s3_server.control.restores() if r["bucket"] == stack.bucket
    }
    assert set(restores) == {*ids, legacy} and set(restores.values()) == {"Bulk"}

    # bit rot: the object keeps its size and storage class, one byte differs
    victim = ids[1]
    body = bytearray(s3.get_object(Bucket=stack.bucket, Key=victim)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket=stack.bucket, Key=victim, Body=bytes(body), StorageClass="GLACIER")
    before = stack.snapshot([*ids, legacy])
    stack.s3_server.control.reset_counts()
    bad = stack.run("kaltura_verify")
    assert bad.state == "failed"
    states = {r.rendered_map_index: r.state for r in bad.mapped("verify_entry")}
    assert states[victim] == "failed" and all(s == "success" for e, s in states.items() if e != victim)
    assert bad.task("record").state == "failed"
    rows = read_history(stack.reports / HISTORY_NAME)
    mismatched = [r for r in rows if r["run_id"] == bad.run_id and r["status"] == "mismatch"]
    assert [r["entry_id"] for r in mismatched] == [victim]
    assert "differs from the manifest" in mismatched[0]["detail"]
    after = stack.snapshot([*ids, legacy])
    assert after == before  # verification wrote nothing but restore requests
    writes = {
        k
        for k, v in stack.s3_server.control.counts().items()
        if v and k.startswith(("Put", "Delete", "Copy"))
    }
    assert writes == set()
    stats = stack.run("kaltura_stats", logical_date=datetime.now(UTC) + timedelta(days=1))  # as of midnight
    assert stats.state == "success", stats.tasks
    row = stats.value("stats")["row"]
    today = datetime.now(UTC).date().isoformat()
    assert row["last_proven_good"] == today and row["last_verification_ok"] is False
    assert row["archives_differing"] == 1 and row["verified_entries"] == 5
    FIGURES.update(
        sampled=len(rows) // 2,
        bytes_read=sum(int(r["bytes_read"]) for r in rows if r["run_id"] == bad.run_id),
        mismatches=len(mismatched),
    )
    print("verification figures:", json.dumps(FIGURES))
