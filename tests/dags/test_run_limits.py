"""An action run maps at most `max_entries` and Airflow's effective `[core] max_map_length`, and reports
how many matching entries remain for the next run (real DAG runs against the emulator)."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.dag_stack import DagStack, small_entry

pytestmark = pytest.mark.timeout(300)


def test_select_maps_at_most_max_map_length_and_reports_the_rest(
    dag_stack: DagStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    ids = dag_stack.emulator.control.create_entries([small_entry(now, 5, None) for _ in range(5)])
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "3")

    capsys.readouterr()
    result = dag_stack.run("kaltura_archive", {"max_entries": -1})
    assert result.state == "success", result.tasks
    selected = result.value("select")
    assert len(selected) == 3 and set(selected) <= set(ids)
    assert len(result.mapped("archive_entry")) == 3
    assert result.value("summarize")["remaining"] == 2
    assert "This run maps 3 entries (max_entries unlimited, core.max_map_length 3); 2 remain" in (
        capsys.readouterr().out
    )
