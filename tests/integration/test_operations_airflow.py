"""The Airflow layer: operators run the operations, defer on waits, resume; the triggers and the sensor."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from kaltura_archiver.airflow.operators.entry_operations import (
    ArchiveEntryOperator,
    EntryOperationFailed,
    EntryOperationRefused,
    RepairEntryOperator,
    ReplaceEntryOperator,
    RestoreEntryOperator,
    as_bool,
)
from kaltura_archiver.airflow.sensors.s3_restore import S3ObjectRestoredSensor
from kaltura_archiver.airflow.triggers.kaltura_ready import KalturaEntryReadyTrigger
from kaltura_archiver.airflow.triggers.s3_restore import S3ObjectRestoreTrigger
from kaltura_archiver.operations import archive_entry, replace_entry
from tests.integration.operations_harness import Harness, build_harness


@pytest.fixture
def h(
    emulator: Any,
    s3_bucket: tuple[Any, str],
    tmp_path: Path,
    airflow_env: pytest.MonkeyPatch,
    aws_conn_env: str,
) -> Harness:
    """The local stack, plus the Airflow connections and variables the operators read."""
    harness = build_harness(emulator, s3_bucket, tmp_path)
    kaltura = {
        "conn_type": "kaltura",
        "host": emulator.url,
        "password": emulator.admin_secret,
        "extra": {"partner_id": emulator.partner_id},
    }
    airflow_env.setenv("AIRFLOW_CONN_KALTURA_DEFAULT", json.dumps(kaltura))
    variables = {
        "bucket": harness.bucket,
        "placeholder_video": harness.settings.placeholder_video,
        "storage_class": "STANDARD",
        "part_size_bytes": str(harness.settings.part_size_bytes),
        "upload_chunk_bytes": str(harness.settings.upload_chunk_bytes),
    }
    for name, value in variables.items():
        airflow_env.setenv(f"AIRFLOW_VAR_KALTURA_ARCHIVER_{name.upper()}", value)
    return harness


def _first_event(trigger: Any, timeout: float = 20.0) -> dict[str, Any]:
    """Drive a trigger's run() until its first event."""

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout))


def _roundtrip(trigger: Any) -> Any:
    """Rebuild a trigger from its serialized form, as the triggerer does."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


def test_operator_is_a_dry_run_by_default(h: Harness) -> None:
    entry_id = h.create()
    before = h.snapshot(entry_id)
    result = ArchiveEntryOperator(task_id="archive", entry_id=entry_id).execute({})
    assert result["outcome"] == "done" and result["details"]["dry_run"] is True
    assert h.snapshot(entry_id) == before
    json.dumps(result)


def test_archive_operator_live(h: Harness) -> None:
    entry_id = h.create()
    result = ArchiveEntryOperator(task_id="archive", entry_id=entry_id, dry_run="False").execute({})
    assert result["outcome"] == "done", result["reason"]
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]
    assert h.emulator.admin_secret not in json.dumps(result)


def test_replace_operator_defers_until_ready_then_finishes(h: Harness) -> None:
    entry_id = h.make("archived")
    h.emulator.control.set_conversion_seconds(0.5)
    op = ReplaceEntryOperator(task_id="replace", entry_id=entry_id, dry_run=False, ready_poll_interval=0.1)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = _roundtrip(deferred.value.trigger)
    assert isinstance(trigger, KalturaEntryReadyTrigger)
    assert deferred.value.method_name == "execute_complete"
    event = _first_event(trigger)
    assert event["status"] == "ready"
    result = op.execute_complete({}, event)
    assert result["outcome"] == "done", result["reason"]
    assert {h.settings.archived_tag, h.settings.replaced_tag} <= h.tags(entry_id)


def test_restore_operator_defers_on_glacier_then_restores(h: Harness, s3_control: Any) -> None:
    entry_id = h.create()
    assert archive_entry(h.ctx(storage_class="GLACIER"), entry_id).outcome.value == "done"
    assert replace_entry(h.ctx(), entry_id).outcome.value == "done"
    s3_control.set_config(glacier_restore_seconds=0.8)
    op = RestoreEntryOperator(
        task_id="restore",
        entry_id=entry_id,
        dry_run=False,
        glacier_poll_interval=0.1,
        ready_poll_interval=0.1,
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = _roundtrip(deferred.value.trigger)
    assert isinstance(trigger, S3ObjectRestoreTrigger)
    started = time.monotonic()
    event = _first_event(trigger)
    assert event["status"] == "restored"
    assert time.monotonic() - started >= 0.5, "the trigger waited for the Glacier delay"
    result = op.execute_complete({}, event)
    assert result["outcome"] == "done", result["reason"]
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


def test_restore_operator_can_report_waiting_instead_of_deferring(h: Harness) -> None:
    entry_id = h.create()
    archive_entry(h.ctx(storage_class="GLACIER"), entry_id)
    replace_entry(h.ctx(), entry_id)
    op = RestoreEntryOperator(task_id="restore", entry_id=entry_id, dry_run=False, wait_for_glacier=False)
    result = op.execute({})
    assert result["outcome"] == "waiting_for_glacier"
    assert h.settings.replaced_tag in h.tags(entry_id)


class _PushedXComs:
    """What a task instance is given to push: the outcome of a failed entry goes out before it raises."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_retryable_failure_raises_for_airflow_retries(h: Harness, s3_control: Any) -> None:
    entry_id = h.create()
    s3_control.add_fault("drop", operation="UploadPart")
    op = ArchiveEntryOperator(task_id="archive", entry_id=entry_id, dry_run=False)
    ti = _PushedXComs()
    with pytest.raises(EntryOperationFailed):
        op.execute({"ti": ti})
    assert ti.pushed["return_value"]["outcome"] == "failed"
    s3_control.clear_faults()
    assert op.execute({"ti": _PushedXComs()})["outcome"] == "done"


def test_refusal_fails_the_task_without_retries_and_keeps_the_outcome(h: Harness) -> None:
    entry_id = h.create()
    ti = _PushedXComs()
    with pytest.raises(EntryOperationRefused):
        ReplaceEntryOperator(task_id="replace", entry_id=entry_id, dry_run=False).execute({"ti": ti})
    result = ti.pushed["return_value"]
    assert result["outcome"] == "failed" and result["details"].get("retryable") is not True


def test_repair_operator_healthy_entry(h: Harness) -> None:
    entry_id = h.make("archived")
    result = RepairEntryOperator(task_id="repair", entry_id=entry_id, dry_run=False).execute({})
    assert result["outcome"] == "done_before"


def test_ready_trigger_reports_a_missing_entry(h: Harness) -> None:
    event = _first_event(KalturaEntryReadyTrigger("0_nothere", poll_interval=0.1))
    assert event["status"] == "error"


def test_sensor_returns_at_once_for_a_readable_object(h: Harness) -> None:
    h.s3.put_object(Bucket=h.bucket, Key="plain", Body=b"x")
    S3ObjectRestoredSensor(task_id="s", bucket_name=h.bucket, key="plain").execute({})


def test_sensor_requests_a_restore_defers_and_completes(h: Harness, s3_control: Any) -> None:
    h.s3.put_object(Bucket=h.bucket, Key="cold", Body=b"x" * 100, StorageClass="GLACIER")
    s3_control.set_config(glacier_restore_seconds=0.5)
    sensor = S3ObjectRestoredSensor(
        task_id="s", bucket_name=h.bucket, key="cold", request_restore=True, poke_interval=0.1
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    assert "Restore" in h.s3.head_object(Bucket=h.bucket, Key="cold")
    event = _first_event(_roundtrip(deferred.value.trigger))
    assert event["status"] == "restored"
    sensor.execute_complete({}, event)


def test_sensor_fails_for_a_missing_object(h: Harness) -> None:
    with pytest.raises(AirflowException):
        S3ObjectRestoredSensor(task_id="s", bucket_name=h.bucket, key="nothing").execute({})


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("False", False), ("true", True), (0, False)])
def test_templated_flags(value: Any, expected: bool) -> None:
    assert as_bool(value) is expected
