"""The dev S3 layer's Glacier tiers and SQS, each modelled on AWS's documentation, and the archive
store's restore requests against them (tier, Expedited refusal and fallback, speed upgrade)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dev.s3_server import S3DevControl
from kaltura_archiver.archive_store import RESTORE_ONGOING, RESTORE_REQUESTED, ArchiveStore
from kaltura_archiver.config import ArchiverSettings
from tests.fixtures.s3 import AWS_TEST_ENV, S3Server


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _glacier(client: Any, bucket: str, key: str = "0_abcd1234", storage_class: str = "GLACIER") -> str:
    client.put_object(Bucket=bucket, Key=key, Body=b"cold video", StorageClass=storage_class)
    return key


def _restore(client: Any, bucket: str, key: str, tier: str) -> Any:
    return client.restore_object(
        Bucket=bucket, Key=key, RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": tier}}
    )


def test_each_tier_takes_its_own_time(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    """AWS S3 User Guide, "Understanding archive retrieval options": Expedited minutes, Standard and
    Bulk hours (the layer's `tier_seconds` scale them down)."""
    client, bucket = s3_bucket
    s3_control.set_config(tier_seconds={"Expedited": 0, "Standard": 600, "Bulk": 600})
    fast = _glacier(client, bucket, "0_fast0000")
    slow = _glacier(client, bucket, "0_slow0000")
    _restore(client, bucket, fast, "Expedited")
    _restore(client, bucket, slow, "Bulk")
    assert client.head_object(Bucket=bucket, Key=fast)["Restore"].startswith('ongoing-request="false"')
    assert client.head_object(Bucket=bucket, Key=slow)["Restore"] == 'ongoing-request="true"'
    tiers = {r["key"]: r["tier"] for r in s3_control.restores() if r["bucket"] == bucket}
    assert tiers == {fast: "Expedited", slow: "Bulk"}


def test_expedited_can_be_refused_for_capacity(
    s3_server: S3Server, s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    """AWS S3 API Reference, RestoreObject, "Special errors": GlacierExpeditedRetrievalNotAvailable,
    503, when there is not enough capacity for an Expedited request; never for Standard or Bulk."""
    client, bucket = s3_bucket
    key = _glacier(client, bucket)
    s3_control.set_config(expedited_capacity=False, glacier_restore_seconds=600)
    no_retry = s3_server.client(max_attempts=1)  # a 503: botocore would retry it first
    with pytest.raises(ClientError) as refused:
        _restore(no_retry, bucket, key, "Expedited")
    assert _code(refused) == "GlacierExpeditedRetrievalNotAvailable"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "Restore" not in client.head_object(Bucket=bucket, Key=key)
    assert _restore(client, bucket, key, "Standard")["ResponseMetadata"]["HTTPStatusCode"] == 202


def test_a_faster_tier_upgrades_an_ongoing_restore(
    s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    """AWS S3 User Guide, "Upgrading the speed of an in-progress restore": a new request with a
    faster tier speeds the restore up; the same or a slower tier gets 409 RestoreAlreadyInProgress
    (S3 API Reference, RestoreObject)."""
    client, bucket = s3_bucket
    key = _glacier(client, bucket)
    s3_control.set_config(tier_seconds={"Expedited": 0, "Standard": 600, "Bulk": 600})
    _restore(client, bucket, key, "Bulk")
    with pytest.raises(ClientError) as same:
        _restore(client, bucket, key, "Bulk")
    assert _code(same) == "RestoreAlreadyInProgress"
    assert _restore(client, bucket, key, "Expedited")["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert client.head_object(Bucket=bucket, Key=key)["Restore"].startswith('ongoing-request="false"')
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"cold video"


def test_the_store_falls_back_to_standard_when_expedited_is_refused(
    s3_server: S3Server, s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    client, bucket = s3_bucket
    key = _glacier(client, bucket)
    s3_control.set_config(expedited_capacity=False, glacier_restore_seconds=600)
    store = ArchiveStore(s3_server.client(max_attempts=1), bucket, ArchiverSettings(bucket=bucket))
    said: list[str] = []
    assert store.request_restore(key, said.append, tier="Expedited", days=1) == RESTORE_REQUESTED
    assert store.last_restore_tier == "Standard"
    assert any("no Expedited capacity" in line and "Standard instead" in line for line in said)
    assert [r["tier"] for r in s3_control.restores() if r["bucket"] == bucket] == ["Standard"]


def test_the_store_upgrades_a_bulk_restore_and_never_downgrades(
    s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    client, bucket = s3_bucket
    key = _glacier(client, bucket)
    s3_control.set_config(tier_seconds={"Expedited": 0, "Standard": 600, "Bulk": 600})
    store = ArchiveStore(client, bucket, ArchiverSettings(bucket=bucket))
    assert store.request_restore(key) == RESTORE_REQUESTED  # the settings' Bulk
    assert store.request_restore(key, tier="Bulk") == RESTORE_ONGOING
    assert store.request_restore(key, tier="Expedited") == RESTORE_REQUESTED
    assert store.head(key).readable  # type: ignore[union-attr]


def test_deep_archive_is_asked_for_standard_not_expedited(
    s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    client, bucket = s3_bucket
    key = _glacier(client, bucket, storage_class="DEEP_ARCHIVE")
    store = ArchiveStore(client, bucket, ArchiverSettings(bucket=bucket))
    said: list[str] = []
    store.request_restore(key, said.append, tier="Expedited")
    assert store.last_restore_tier == "Standard" and "offers no Expedited" in said[0]


def test_sqs_is_served_by_the_same_endpoint(s3_server: S3Server, s3_control: S3DevControl) -> None:
    """One endpoint_url answers S3 and SQS (moto's server dispatches on the SigV4 service name)."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=s3_server.endpoint_url,
        region_name=AWS_TEST_ENV["AWS_DEFAULT_REGION"],
        config=Config(retries={"total_max_attempts": 1}),
    )
    url = sqs.create_queue(QueueName="tier-test-requests")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"entry_id": "0_abcd1234"}))
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(got[0]["Body"]) == {"entry_id": "0_abcd1234"}
    counts = s3_control.counts()
    assert counts.get("sqs:SendMessage") == 1 and counts.get("sqs:ReceiveMessage") == 1
    assert not any(op.startswith(("PutObject", "PostObject")) for op in counts)
