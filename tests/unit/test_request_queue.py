"""The restore-request asset: watched on the configured SQS queue through common-messaging's trigger."""

from __future__ import annotations

import pytest

from kaltura_archiver.airflow.request_queue import (
    ASSET_NAME,
    LONG_POLL_SECONDS,
    queue_pause_seconds,
    restore_queue_url,
    restore_requests_asset,
)

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/kaltura-restore-requests"


def test_without_a_queue_the_asset_has_no_watcher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_URL", "  ")
    assert restore_queue_url() is None
    asset = restore_requests_asset(None)
    assert asset.name == ASSET_NAME and not asset.watchers


def test_a_queue_url_gives_an_sqs_watcher_the_triggerer_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_URL", QUEUE)
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_POLL_SECONDS", "2")
    asset = restore_requests_asset(restore_queue_url())
    (watcher,) = asset.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "airflow.providers.amazon.aws.triggers.sqs.SqsSensorTrigger"
    assert kwargs["sqs_queue"] == QUEUE and kwargs["aws_conn_id"] == "aws_default"
    assert kwargs["wait_time_seconds"] == LONG_POLL_SECONDS and kwargs["waiter_delay"] == 2
    assert kwargs["delete_message_on_reception"] is True


def test_the_pause_between_polls_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in (("9999", 300), ("-3", 0), ("soon", 5)):
        monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_POLL_SECONDS", raw)
        assert queue_pause_seconds() == expected
