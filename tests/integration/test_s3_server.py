"""The dev S3 server's own layer: faults, counts, checksum checks, Glacier delay, seeding, reset."""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from dev.s3_server import S3DevControl
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.integration


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_error_faults_and_counts(
    s3_server: S3Server, s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    _, bucket = s3_bucket
    client = s3_server.client(max_attempts=1)
    client.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3_control.reset_counts()
    s3_control.add_fault("error500", operation="HeadObject", bucket=bucket, every_nth=2)
    s3_control.add_fault("slowdown503", operation="GetObject", bucket=bucket)

    client.head_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as internal:
        client.head_object(Bucket=bucket, Key="k")
    assert internal.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    client.head_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as slow:
        client.get_object(Bucket=bucket, Key="k")
    assert error_code(slow) == "SlowDown"

    assert s3_control.counts() == {"HeadObject": 3, "GetObject": 1}
    assert s3_control.injected() == {"error500": 1, "slowdown503": 1}
    rules = {rule["kind"]: rule for rule in s3_control.faults()}
    assert rules["error500"]["seen"] == 3 and rules["error500"]["hits"] == 1


def test_probability_fault_is_seeded_and_bounded(
    s3_server: S3Server, s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    _, bucket = s3_bucket
    client = s3_server.client(max_attempts=1)
    client.put_object(Bucket=bucket, Key="p", Body=b"x")
    s3_control.add_fault("error500", operation="HeadObject", bucket=bucket, probability=0.5, max_hits=3)
    failures = 0
    for _ in range(40):
        try:
            client.head_object(Bucket=bucket, Key="p")
        except ClientError:
            failures += 1
    assert failures == 3


def test_dropped_get_delivers_a_truncated_body(
    s3_server: S3Server, s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    _, bucket = s3_bucket
    client = s3_server.client(max_attempts=1)
    client.put_object(Bucket=bucket, Key="big", Body=b"z" * 100_000)
    s3_control.add_fault("drop", operation="GetObject", bucket=bucket, after_bytes=1000, max_hits=1)
    body = client.get_object(Bucket=bucket, Key="big")["Body"]
    with pytest.raises((BotoCoreError, OSError)):
        body.read()
    assert len(client.get_object(Bucket=bucket, Key="big")["Body"].read()) == 100_000


def test_delay_fault_slows_a_call(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    s3_control.add_fault("delay", operation="ListObjectsV2", bucket=bucket, seconds=0.5, max_hits=1)
    started = time.monotonic()
    client.list_objects_v2(Bucket=bucket)
    assert time.monotonic() - started >= 0.45


def test_wrong_part_checksum_is_refused(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    upload = client.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="SHA256")
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    with pytest.raises(ClientError) as refused:
        client.upload_part(
            Bucket=bucket,
            Key="c",
            UploadId=upload["UploadId"],
            PartNumber=1,
            Body=b"these bytes",
            ChecksumSHA256=wrong,
        )
    assert error_code(refused) == "BadDigest"
    right = base64.b64encode(hashlib.sha256(b"these bytes").digest()).decode()
    part = client.upload_part(
        Bucket=bucket,
        Key="c",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"these bytes",
        ChecksumSHA256=right,
    )
    assert part["ETag"] == f'"{hashlib.md5(b"these bytes").hexdigest()}"'  # noqa: S324 (S3 ETag)


def test_glacier_get_refused_until_restore_done(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="g", Body=b"cold", StorageClass="DEEP_ARCHIVE")
    with pytest.raises(ClientError) as never_restored:
        client.get_object(Bucket=bucket, Key="g")
    assert error_code(never_restored) == "InvalidObjectState"
    assert "Restore" not in client.head_object(Bucket=bucket, Key="g")

    s3_control.set_config(glacier_restore_seconds=60)
    client.restore_object(Bucket=bucket, Key="g", RestoreRequest={"Days": 1})
    assert client.head_object(Bucket=bucket, Key="g")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as ongoing:
        client.get_object(Bucket=bucket, Key="g")
    assert error_code(ongoing) == "InvalidObjectState"
    pending = [r for r in s3_control.restores() if r["bucket"] == bucket]
    assert pending[0]["ongoing"] is True and pending[0]["storage_class"] == "DEEP_ARCHIVE"

    s3_control.complete_restores()
    assert client.head_object(Bucket=bucket, Key="g")["Restore"].startswith(
        'ongoing-request="false", expiry-date='
    )
    assert client.get_object(Bucket=bucket, Key="g")["Body"].read() == b"cold"


def test_seed_creates_objects_with_virtual_sizes(
    s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    client, bucket = s3_bucket
    s3_control.seed(
        bucket,
        [
            {"key": "a", "size": 3},
            {"key": "b", "body_text": "hello", "storage_class": "GLACIER"},
            {"key": "c", "size": 1, "virtual_size": 5_000_000_000},
        ],
    )
    listed = {o["Key"]: o for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed["a"]["Size"] == 3
    assert listed["b"]["StorageClass"] == "GLACIER" and listed["b"]["Size"] == 5
    assert listed["c"]["Size"] == 5_000_000_000
    s3_control.seed("seeded-bucket-new", [{"key": "x"}], create_bucket=True)
    assert client.head_object(Bucket="seeded-bucket-new", Key="x")["ContentLength"] == 0


def test_control_api_rejects_bad_input(s3_server: S3Server, s3_control: S3DevControl) -> None:
    with pytest.raises(RuntimeError, match="kind must be one of"):
        s3_control.add_fault("explode")
    with pytest.raises(RuntimeError, match="not both"):
        s3_control.add_fault("drop", probability=0.5, every_nth=2)
    with pytest.raises(RuntimeError, match="unknown fault fields"):
        s3_control.add_fault("drop", operaton="GetObject")
    with pytest.raises(RuntimeError, match="404"):
        s3_control.remove_fault(999_999)
    with pytest.raises(RuntimeError, match="must be >= 0"):
        s3_control.set_config(glacier_restore_seconds=-1)
    request = urllib.request.Request(f"{s3_server.endpoint_url}/_dev/nothing", method="GET")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert missing.value.code == 404


def test_reset_clears_layer_state(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    s3_control.add_fault("error500", operation="DeleteBucket")
    s3_control.set_config(glacier_restore_seconds=5)
    client.list_objects_v2(Bucket=bucket)
    s3_control.reset()
    assert s3_control.faults() == []
    assert s3_control.counts() == {}
    assert s3_control.config() == {
        "glacier_restore_seconds": 0.0,
        "tier_seconds": {},
        "expedited_capacity": True,
    }
    client.list_objects_v2(Bucket=bucket)
    assert s3_control.counts() == {"ListObjectsV2": 1}
