"""Pure logic of the approval gate, the run summary and the run limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kaltura_archiver.airflow.operators.run_control import rejection
from kaltura_archiver.airflow.operators.select import run_limit
from kaltura_archiver.airflow.settings import approval_timeout
from kaltura_archiver.config import SettingsError


def test_rejection_names_who_rejected_or_the_timeout() -> None:
    assert rejection({"chosen_options": ["Approve"], "responded_by_user": {"id": "1", "name": "ann"}}) is None
    assert rejection(None) is None
    assert rejection({"chosen_options": ["Reject"], "responded_by_user": {"id": "1", "name": "ann"}}) == (
        "rejected by ann"
    )
    assert "no answer" in str(rejection({"chosen_options": ["Reject"], "responded_by_user": None}))


def test_run_limit_is_max_entries_capped_by_the_map_length() -> None:
    assert run_limit(-1, 1024) == 1024
    assert run_limit(500, 1024) == 500
    assert run_limit(5000, 1024) == 1024


def test_approval_timeout_defaults_to_a_day_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    assert approval_timeout() == timedelta(hours=24)
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_APPROVAL_TIMEOUT_HOURS", "0.5")
    assert approval_timeout() == timedelta(minutes=30)
    for bad in ("0", "-3", "soon"):
        monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_APPROVAL_TIMEOUT_HOURS", bad)
        with pytest.raises(SettingsError, match="approval_timeout_hours"):
            approval_timeout()


def test_approval_timeout_takes_fractions_of_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cluster test's 0.005 h (18 s) is accepted; not-a-number and infinity are refused."""
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_APPROVAL_TIMEOUT_HOURS", "0.005")
    assert approval_timeout() == timedelta(seconds=18)
    for bad in ("nan", "inf", "-0.01", "1e9"):
        monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_APPROVAL_TIMEOUT_HOURS", bad)
        with pytest.raises(SettingsError, match="must be a number of hours above 0"):
            approval_timeout()
