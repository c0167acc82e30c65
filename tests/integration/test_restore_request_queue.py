"""A dashboard restore request, checked against the Kaltura emulator and S3, goes to the SQS queue when one
is configured, in the message format the queue's consumer parses (`kaltura_archiver.restore_requests`)."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from kaltura_archiver.airflow.restore_request_runs import submit
from kaltura_archiver.restore_requests import QueueMessage, parse_message
from tests.fixtures.dag_stack import kaltura_connection_json
from tests.fixtures.emulator import RunningEmulator
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.integration
BUCKET = "restore-request-archive"
REPLACED, KEPT, NO_ARCHIVE = "0_rqplace1", "0_rqkept01", "0_rqnoarc1"


def _entry(entry_id: str, tags: list[str]) -> dict[str, Any]:
    return {
        "id": entry_id,
        "name": entry_id,
        "tags": tags,
        "created_at": int(time.time()) - 5 * 365 * 86400,
        "status": 2,
        "media_type": 1,
        "original_size": 50_000,
    }


def test_request_goes_to_the_queue(
    emulator: RunningEmulator, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.control.create_entries(
        [
            _entry(REPLACED, ["archived_to_s3", "flavors_deleted"]),
            _entry(KEPT, ["archived_to_s3"]),
            _entry(NO_ARCHIVE, ["archived_to_s3", "flavors_deleted"]),
        ]
    )
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=REPLACED, Body=b"x" * 1000, StorageClass="GLACIER")
    s3.put_object(Bucket=BUCKET, Key=KEPT, Body=b"y" * 1000)
    queue_client = boto3.client(
        "sqs",
        endpoint_url=s3_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queue = queue_client.create_queue(QueueName="restore-requests")["QueueUrl"]
    url = emulator.url
    monkeypatch.setenv(
        "AIRFLOW_CONN_KALTURA_DEFAULT",
        kaltura_connection_json(url, emulator.partner_id, emulator.admin_secret),
    )
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3_server.airflow_connection_json())
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_BUCKET", BUCKET)
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_URL", queue)

    notice = submit(f"{REPLACED}, {KEPT}\n{NO_ARCHIVE} 0_zzzzzzzz not-an-id", "jdoe")

    assert notice.accepted == [REPLACED] and not notice.error
    reasons = dict(notice.refused)
    assert reasons[KEPT].startswith("not tagged flavors_deleted")
    assert reasons[NO_ARCHIVE] == "tagged flavors_deleted but no S3 archive"
    assert reasons["0_zzzzzzzz"] == "no such entry in Kaltura"
    assert "not a Kaltura entry id" in reasons["not-an-id"]
    assert notice.run == f"sent to the restore queue {queue}"
    messages = queue_client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body == {"entry_ids": [REPLACED], "requested_by": "jdoe", "source": "dashboard"}
    requests, rejected = parse_message(QueueMessage(messages[0]["MessageId"], messages[0]["Body"]))
    assert [r.entry_id for r in requests] == [REPLACED] and rejected == []
    assert requests[0].requested_by == "jdoe"
