"""A bad Variable or connection field fails the task at once (no retry) with a message naming it."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.operators.reports import HealthReportOperator
from kaltura_archiver.airflow.operators.select import SelectEntriesOperator


@pytest.fixture
def bad_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_SIZE_LIMIT_KB", "ten gigabytes")


def test_health_refuses_a_bad_variable(bad_size_limit: None) -> None:
    operator = HealthReportOperator(task_id="health_report", report_name="health.tsv")
    with pytest.raises(AirflowFailException, match="kaltura_archiver_size_limit_kb"):
        operator.execute({"params": {}})  # type: ignore[arg-type]


def test_select_refuses_a_bad_variable(bad_size_limit: None) -> None:
    operator = SelectEntriesOperator(task_id="select", operation="archive")
    with pytest.raises(AirflowFailException, match="nothing was changed.*size_limit_kb"):
        operator.execute({"params": {"years": 3}})  # type: ignore[arg-type]


def test_select_refuses_a_connection_without_partner_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_KALTURA_DEFAULT", '{"conn_type": "kaltura", "password": "secret-value"}')
    operator = SelectEntriesOperator(task_id="select", operation="archive")
    with pytest.raises(AirflowFailException, match="partner_id is required"):
        operator.execute({"params": {"years": 3}})  # type: ignore[arg-type]
