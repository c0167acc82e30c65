"""Faults and crashes during an event-driven restore or a verification leave nothing lost and nothing
half-restored, and a verification never writes anything.

Real parts: the Kaltura emulator and the dev S3 server (Glacier delay, fault layer), the project's
operators in forked children killed at every step (dev.safety.crash), real DAG runs (`dag.test()`),
and the independent checker (dev.safety.checker: emulator control API and boto3 only).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from dev.safety.checker import SafetyChecker, record_baseline
from dev.safety.crash import run_children
from dev.safety.events import bucket_state, kill_requested_restores, kill_verification_mid_stream
from dev.safety.faults import FaultPlan
from tests.fixtures.dag_stack import DagStack, small_entry

pytestmark = pytest.mark.timeout(600)

REPLACED = "flavors_deleted"


def _placeholders(stack: DagStack, count: int) -> tuple[list[str], dict[str, Any]]:
    """`count` entries archived and replaced by the project's tasks in child processes, and their baseline."""
    now = time.time()
    ids = stack.emulator.control.create_entries(
        [small_entry(now, 5, None, size=20_000 + 3_000 * i) for i in range(count)]
    )
    baseline = record_baseline(stack.emulator.control, ids)
    for step in ("archive", "replace"):
        for child in run_children([(step, entry_id, None, True) for entry_id in ids]):
            assert child.outcome and child.outcome["outcome"] in ("done", "done_before"), child
    return ids, baseline


def _checker(stack: DagStack) -> SafetyChecker:
    import hashlib

    digest = hashlib.sha256(stack.placeholder.read_bytes()).hexdigest()
    return SafetyChecker(
        stack.emulator.control,
        stack.s3,
        stack.bucket,
        placeholder_sha256=digest,
        deep=True,
        restore=stack.s3_server.control.complete_restores,
    )


def test_a_requested_restore_killed_at_every_step_loses_nothing(dag_stack: DagStack) -> None:
    stack = dag_stack
    stack.s3_server.control.set_config(tier_seconds={"Expedited": 0.3, "Standard": 0.5, "Bulk": 5})
    ids, baseline = _placeholders(stack, 11)
    reference, children = kill_requested_restores(ids[0], ids[1:], "Expedited")
    assert reference.outcome and reference.outcome["outcome"] == "done", reference
    assert len(reference.steps) >= 3, reference.steps
    killed = [c for c in children if c.killed]
    assert len(killed) == len(reference.steps) + 1, [(c.kill_at, c.exit_code, c.error) for c in children]
    crashed = [c.entry_id for c in children]
    middle = _checker(stack).check({e: baseline[e] for e in crashed})
    assert middle.lost == [], middle.describe()  # half-way states (both tags, no content) are not losses
    for child in children:  # the tag goes last: an entry without it holds its verified real video
        entry = stack.emulator.control.entry(child.entry_id)
        if REPLACED not in entry["tags"]:
            assert entry["original_sha256"] == baseline[child.entry_id].sha256, child

    rerun = stack.run(
        "kaltura_restore_requests", {"dry_run": False, "entry_ids": crashed, "urgency": "urgent"}
    )
    assert rerun.state == "success", rerun.tasks
    outcomes = {o["outcome"] for o in rerun.entry_outcomes("restore").values()}
    assert outcomes <= {"done", "done_before"}, rerun.entry_outcomes("restore")
    report = _checker(stack).check(baseline)
    assert report.lost == [] and report.inconsistent == [], report.describe()
    for entry_id in [ids[0], *crashed]:
        entry = stack.emulator.control.entry(entry_id)
        assert REPLACED not in entry["tags"] and entry["original_sha256"] == baseline[entry_id].sha256


def test_faults_during_requests_and_verification_lose_nothing_and_raise_no_false_alarm(
    dag_stack: DagStack,
) -> None:
    stack = dag_stack
    stack.s3_server.control.set_config(glacier_restore_seconds=0.5)
    ids, baseline = _placeholders(stack, 6)
    requested = ids[:3]
    plan = FaultPlan(stack.emulator.control, stack.s3_server.control, stack.bucket, rate=0.10, seed=11)
    with plan:
        for _round in range(3):
            run = stack.run("kaltura_restore_requests", {"dry_run": False, "entry_ids": requested})
            if run.state == "success":
                break
        before = bucket_state(stack.s3, stack.bucket)
        verify = stack.run("kaltura_verify")
        if verify.state != "success":  # a task that ran out of retries under faults: the next run goes on
            verify = stack.run("kaltura_verify")
    assert sum(plan.injected().values()) > 0, plan.injected()
    assert run.state == "success", run.tasks
    assert verify.state == "success", verify.tasks
    summary = verify.value("record")
    assert summary["mismatches"] == [] and summary["sampled"] == len(ids)
    after = bucket_state(stack.s3, stack.bucket)
    assert {k: v for k, v in after.items() if not k.startswith("verification/")} == before
    report = _checker(stack).check(baseline)
    assert report.lost == [] and report.inconsistent == [], report.describe()
    for entry_id in requested:
        assert REPLACED not in stack.emulator.control.entry(entry_id)["tags"]


def test_a_verification_killed_mid_stream_writes_nothing_and_the_next_one_proves_it(
    dag_stack: DagStack,
) -> None:
    stack = dag_stack
    stack.s3_server.control.set_config(glacier_restore_seconds=0.3)
    ids, _baseline = _placeholders(stack, 2)
    first = stack.run("kaltura_verify")
    assert first.state == "success", first.tasks
    before = bucket_state(stack.s3, stack.bucket)
    status = kill_verification_mid_stream(ids[0])
    assert status == -9, status
    assert bucket_state(stack.s3, stack.bucket) == before
    again = stack.run("kaltura_verify", {"entry_ids": [ids[0]]})
    assert again.state == "success", again.tasks
    assert again.value("record")["good"] == 1
