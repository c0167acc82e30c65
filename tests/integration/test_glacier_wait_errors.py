"""Waiting for a Glacier restore fails fast on errors that will not heal and never loops.

The trigger and the sensor talk to real HTTP servers: the dev S3 server (moto) for buckets, keys and
storage classes, and a tiny loopback server that answers every request with one fixed status, the
way S3 answers a HEAD with bad credentials (403, no body) or while throttling (503).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.sensors.s3_restore import S3ObjectRestoredSensor
from kaltura_archiver.airflow.triggers.s3_restore import S3ObjectRestoreTrigger


class _FixedStatus(BaseHTTPRequestHandler):
    status = 403

    def _answer(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def fixed_status_s3(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    """A connection `aws_fixed` whose S3 endpoint answers every request with `request.param`."""
    handler = type("Handler", (_FixedStatus,), {"status": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn = {
        "conn_type": "aws",
        "login": "AKIAEXAMPLE",
        "password": "not-a-real-secret-key",
        "extra": {
            "region_name": "us-east-1",
            "endpoint_url": f"http://127.0.0.1:{server.server_address[1]}",
            "config_kwargs": {"retries": {"max_attempts": 1}},
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_FIXED", json.dumps(conn))
    yield "aws_fixed"
    server.shutdown()


async def _first_event(trigger: S3ObjectRestoreTrigger, timeout: float) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(first(), timeout)


@pytest.mark.parametrize("fixed_status_s3", [403], indirect=True)
def test_the_trigger_fails_at_once_when_s3_refuses_access(fixed_status_s3: str) -> None:
    trigger = S3ObjectRestoreTrigger("kaltura-archive", "0_abcdefgh", fixed_status_s3, poll_interval=0.2)
    event = asyncio.run(_first_event(trigger, timeout=20))
    assert event["status"] == "error"
    assert "403" in event["message"] and "credentials" in event["message"]


@pytest.mark.parametrize("fixed_status_s3", [503], indirect=True)
def test_the_trigger_keeps_waiting_through_throttling(fixed_status_s3: str) -> None:
    trigger = S3ObjectRestoreTrigger("kaltura-archive", "0_abcdefgh", fixed_status_s3, poll_interval=0.2)
    with pytest.raises(TimeoutError):
        asyncio.run(_first_event(trigger, timeout=3))


def test_the_trigger_reports_a_missing_bucket(aws_conn_env: str) -> None:
    trigger = S3ObjectRestoreTrigger("no-such-bucket-kaltura", "0_abcdefgh", "aws_default", poll_interval=0.2)
    assert asyncio.run(_first_event(trigger, timeout=20))["status"] == "missing"


def test_the_sensor_fails_at_once_when_no_restore_is_under_way(
    aws_conn_env: str, s3_bucket: tuple[Any, str]
) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="0_glacier1", Body=b"video", StorageClass="GLACIER")
    sensor = S3ObjectRestoredSensor(
        task_id="wait", bucket_name=bucket, key="0_glacier1", request_restore=False
    )
    with pytest.raises(AirflowFailException, match="no restore is under way"):
        sensor.execute({})
    missing = S3ObjectRestoredSensor(task_id="wait", bucket_name=bucket, key="0_nothere1")
    with pytest.raises(AirflowFailException, match="does not exist"):
        missing.execute({})


@pytest.mark.parametrize("fixed_status_s3", [403], indirect=True)
def test_the_sensor_fails_at_once_when_s3_refuses_access(fixed_status_s3: str) -> None:
    sensor = S3ObjectRestoredSensor(
        task_id="wait", bucket_name="kaltura-archive", key="0_abcdefgh", aws_conn_id=fixed_status_s3
    )
    with pytest.raises(AirflowFailException, match="credentials"):
        sensor.execute({})
