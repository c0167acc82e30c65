"""The safety scenario in `make test`: lifecycle under faults, crashes at every step, bad input, secrets.

Four scenario processes (dev/safety/scenario.py, profile `test`) run side by side, one per group
of phases, each with its own local stack and Airflow home, driving the real DAGs; each ends with
the independent checker and the secrets scan. The summary table is printed (run with -s to see it)
and written to the module's temporary directory.
"""

from __future__ import annotations

import pytest

from dev.safety.bad_input import BAD_PARAMS
from dev.safety.scenario import PARALLEL_GROUPS, ScenarioFailed, ScenarioResult, run_parallel, summary_table

TIMEOUT_SECONDS = 420


@pytest.fixture(scope="module")
def safety(tmp_path_factory: pytest.TempPathFactory) -> ScenarioResult:
    """Run the phases in parallel processes and merge their results."""
    root = tmp_path_factory.mktemp("safety")
    try:
        merged = run_parallel("test", root, timeout=TIMEOUT_SECONDS)
    except ScenarioFailed as err:
        pytest.fail(str(err))
    table = summary_table(merged)
    (root / "summary.txt").write_text(table + "\n")
    print("\n" + table)
    return merged


def test_no_video_is_lost(safety: ScenarioResult) -> None:
    assert safety.entries_checked > 100
    assert safety.entries_lost == 0, "\n".join(safety.problems)


def test_every_entry_agrees_with_s3_after_repair(safety: ScenarioResult) -> None:
    assert safety.entries_inconsistent == 0, "\n".join(safety.problems)
    assert safety.states.get("placeholder", 0) > 0 and safety.states.get("archived", 0) > 0
    assert safety.byte_compared == safety.states["archived"]


def test_faults_of_every_kind_were_injected(safety: ScenarioResult) -> None:
    kinds = {kind.split(" (")[0] for kind, count in safety.faults.items() if count > 0}
    expected = {
        "kaltura ACTION_BLOCKED",
        "kaltura internal error",
        "kaltura dropped download",
        "kaltura truncated download",
        "kaltura short-lived KS issued",
        "s3 500 InternalError",
        "s3 503 SlowDown",
        "s3 dropped request",
        "s3 dropped response",
    }
    assert expected <= kinds, safety.faults


def test_the_task_was_killed_at_every_step_and_the_rerun_finished(safety: ScenarioResult) -> None:
    assert set(safety.crashes) == {"archive", "replace", "restore"}
    for operation, crash in safety.crashes.items():
        assert len(crash["steps"]) >= 3, (operation, crash)
        assert crash["reference_outcome"] == "done", (operation, crash)
        assert crash["killed"] == len(crash["steps"]) + 1 and crash["not_killed"] == 0, (operation, crash)
        assert set(crash["rerun"]) <= {"done", "done_before"}, (operation, crash)


def test_bad_input_is_refused_with_a_message_and_changes_nothing(safety: ScenarioResult) -> None:
    bad = [b for b in safety.bad_input if not b["ok"]]
    assert not bad, bad
    cases = {b["case"] for b in safety.bad_input}
    assert {case for case, _name, _value in BAD_PARAMS} <= cases
    placeholder = {b["dag_id"] for b in safety.bad_input if b["case"] == "placeholder video missing"}
    assert placeholder == {"kaltura_replace", "kaltura_repair"}
    assert len({b["dag_id"] for b in safety.bad_input}) == 9  # kaltura_restore_requests, _verify too


def test_no_secret_in_logs_xcom_or_reports(safety: ScenarioResult) -> None:
    assert safety.secrets == []
    assert safety.ks_issued > 0
    assert safety.scanned.get("task and scenario log") == len(PARALLEL_GROUPS)
    assert safety.scanned.get("metadata DB rows", 0) > 100
    assert safety.scanned.get("report", 0) >= 3
