"""Cheap mapped-task setup: settings handed over once per run, the S3 client built lazily and quickly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

from kaltura_archiver.airflow.hooks.s3 import ArchiveS3Hook
from kaltura_archiver.airflow.operators.entry_operations import ArchiveEntryOperator
from kaltura_archiver.airflow.runtime import LazyS3Client
from kaltura_archiver.airflow.settings import (
    SETTINGS_XCOM_KEY,
    load_archiver_settings,
    settings_from_xcom,
    settings_to_xcom,
)
from kaltura_archiver.config import ArchiverSettings

AWS_CONN = {
    "conn_type": "aws",
    "login": "testing-key",
    "password": "testing-secret",
    "extra": {"endpoint_url": "http://127.0.0.1:9", "region_name": "us-east-1"},
}


def test_settings_survive_the_xcom_hand_over_as_json() -> None:
    settings = ArchiverSettings(bucket="b-1", exempt_category_ids=(3, 7), size_tolerance=0.05, restore_days=4)
    handed = json.loads(json.dumps(settings_to_xcom(settings)))
    assert settings_from_xcom(handed) == settings
    assert settings_from_xcom(None) is None
    assert settings_from_xcom("not settings") is None


def test_every_variable_backed_field_is_handed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_BUCKET", "from-variable")
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_EXEMPT_CATEGORY_IDS", "5,6")
    read = load_archiver_settings()
    assert settings_from_xcom(json.loads(json.dumps(settings_to_xcom(read)))) == read
    assert read.bucket == "from-variable" and read.exempt_category_ids == (5, 6)


class _TaskInstance:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.pulls: list[tuple[str, str]] = []

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        self.pulls.append((task_ids, key))
        return self.value


def test_entry_task_takes_the_settings_select_handed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_BUCKET", "changed-after-select")
    handed = settings_to_xcom(ArchiverSettings(bucket="as-selected"))
    operator = ArchiveEntryOperator(task_id="archive_entry", entry_id="0_a", settings_task_id="select")
    ti = _TaskInstance(handed)
    settings = operator.run_settings({"ti": ti})
    assert settings is not None and settings.bucket == "as-selected"
    assert ti.pulls == [("select", SETTINGS_XCOM_KEY)]
    standalone = ArchiveEntryOperator(task_id="archive_entry", entry_id="0_a")
    assert standalone.run_settings({"ti": _TaskInstance(handed)}) is None


class _Caller:
    """Stands for an operator: the hook names the class whose `execute` asked for the client."""

    def __init__(self, hook_class: type[S3Hook]) -> None:
        self.hook_class = hook_class

    def execute(self) -> str:
        client: Any = self.hook_class(aws_conn_id="aws_default").get_conn()
        return str(client.meta.config.user_agent_extra)


def test_archive_hook_names_the_same_caller_as_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(AWS_CONN))
    ours = _Caller(ArchiveS3Hook).execute()
    theirs = _Caller(S3Hook).execute()
    assert "Caller/_Caller" in ours
    assert ours == theirs


def test_lazy_client_is_built_on_first_use_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(AWS_CONN))
    built: list[str | None] = []
    original = ArchiveS3Hook.get_conn

    def counting(self: ArchiveS3Hook) -> Any:
        built.append(self.aws_conn_id)
        return original(self)

    monkeypatch.setattr(ArchiveS3Hook, "get_conn", counting)
    lazy = LazyS3Client("aws_default")
    assert built == []
    assert lazy.meta.region_name == "us-east-1"
    assert lazy.meta.endpoint_url == "http://127.0.0.1:9"
    assert built == ["aws_default"]
