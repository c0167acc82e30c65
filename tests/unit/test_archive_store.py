"""Pure parts of the archive store and the S3 layer: checksums, restore headers, manifests, routing."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dev.s3_server import Fault, classify
from kaltura_archiver.archive_store import (
    RESTORE_DONE,
    RESTORE_ONGOING,
    ArchiveManifest,
    ArchiveStore,
    ArchiveStoreError,
    _same_checksum,
    composite_crc32c,
    composite_sha256,
    crc32c_bytes,
    parse_restore,
)
from kaltura_archiver.config import ArchiverSettings

MIB = 1024 * 1024


def test_composite_sha256_matches_the_s3_definition() -> None:
    parts = [b"a" * 10, b"b" * 3]
    digests = [hashlib.sha256(p).digest() for p in parts]
    expected = base64.b64encode(hashlib.sha256(digests[0] + digests[1]).digest()).decode()
    assert composite_sha256(digests) == f"{expected}-2"
    assert composite_sha256(digests[:1]) != composite_sha256(digests)


def test_composite_crc32c_matches_the_s3_definition() -> None:
    # CRC32C check value of "123456789" is 0xE3069283 (RFC 3720, B.4)
    assert crc32c_bytes(b"123456789") == bytes.fromhex("e3069283")
    crcs = [crc32c_bytes(b"a" * 10), crc32c_bytes(b"b" * 3)]
    expected = base64.b64encode(crc32c_bytes(crcs[0] + crcs[1])).decode()
    assert composite_crc32c(crcs) == f"{expected}-2"
    assert composite_crc32c(crcs[:1]) != composite_crc32c(crcs)


def test_old_manifest_checks_its_sha256_parts_and_new_ones_crc32c() -> None:
    fields = {
        "entry_id": "0_abc",
        "key": "0_abc",
        "sha256": "00" * 32,
        "size_bytes": 5,
        "flavor_id": "0_f",
        "checksum_sha256": "s-1",
        "part_size_bytes": 5,
        "parts": 1,
        "storage_class": "GLACIER",
        "created_at": "2024-01-01T00:00:00+00:00",
        "tool_version": "0.1.0",
        "format": 2,
    }
    old = ArchiveManifest.from_dict(fields)
    assert old.checksum_algorithm == "SHA256" and old.part_checksum == "s-1"
    new = ArchiveManifest.from_dict(
        {**fields, "checksum_sha256": "", "checksum_algorithm": "CRC32C", "checksum_crc32c": "c-1"}
    )
    assert new.part_checksum == "c-1"


def test_checksum_comparison_tolerates_a_missing_part_suffix() -> None:
    assert _same_checksum("abc=-3", "abc=-3")
    assert _same_checksum("abc=", "abc=-3")
    assert not _same_checksum("abc=-2", "abc=-3")
    assert not _same_checksum("abd=", "abc=-3")


@pytest.mark.parametrize(
    ("header", "state", "expiry"),
    [
        (None, None, None),
        ('ongoing-request="true"', RESTORE_ONGOING, None),
        (
            'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
            RESTORE_DONE,
            datetime(2012, 12, 21, tzinfo=UTC),
        ),
        ('ongoing-request="false", expiry-date="garbage"', RESTORE_DONE, None),
    ],
)
def test_parse_restore(header: str | None, state: str | None, expiry: datetime | None) -> None:
    assert parse_restore(header) == (state, expiry)


def test_manifest_round_trip_ignores_unknown_fields() -> None:
    manifest = ArchiveManifest(
        entry_id="0_abc",
        key="0_abc",
        sha256="00" * 32,
        size_bytes=5,
        flavor_id="0_f",
        checksum_sha256="x-1",
        part_size_bytes=5 * MIB,
        parts=1,
        storage_class="GLACIER",
        created_at="2024-01-01T00:00:00+00:00",
        tool_version="0.1.0",
    )
    text = manifest.to_json()
    assert ArchiveManifest.from_json(text) == manifest
    assert ArchiveManifest.from_json(text.replace('"entry_id"', '"future_field": 1, "entry_id"')) == manifest
    with pytest.raises(ValueError):
        ArchiveManifest.from_json("[1, 2]")


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation"),
    [
        ("GET", "/", "", {}, "ListBuckets"),
        ("PUT", "/b", "", {}, "CreateBucket"),
        ("GET", "/b", "list-type=2&prefix=x", {}, "ListObjectsV2"),
        ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
        ("POST", "/b", "delete", {}, "DeleteObjects"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "b/j"}, "UploadPartCopy"),
        ("PUT", "/b/k", "", {}, "PutObject"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "b/j"}, "CopyObject"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("POST", "/b/k", "restore", {}, "RestoreObject"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("GET", "/b/k", "", {}, "GetObject"),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
        ("HEAD", "/b/k", "", {}, "HeadObject"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("GET", "/b/dir/k", "", {}, "GetObject"),
    ],
)
def test_classify(method: str, path: str, query: str, headers: dict[str, str], operation: str) -> None:
    from urllib.parse import parse_qs

    assert classify(method, path, parse_qs(query, keep_blank_values=True), headers) == operation


def test_fault_every_nth_and_max_hits() -> None:
    import random

    fault = Fault.from_json({"kind": "error500", "every_nth": 3, "max_hits": 2}, 1)
    fired = [fault.fires(random.Random(0)) for _ in range(12)]
    assert fired == [False, False, True, False, False, True] + [False] * 6
    assert fault.matches("GET", "GetObject", "b", "0_x", "")
    narrow = Fault.from_json({"kind": "drop", "operation": "UploadPart", "key_prefix": "0_a"}, 2)
    assert not narrow.matches("PUT", "UploadPart", "b", "0_b", "")
    assert narrow.matches("PUT", "UploadPart", "b", "0_abc", "")


class FakeClient:
    """Records multipart calls; can fail one part number (unit tests only)."""

    def __init__(self, fail_part: int | None = None, lost_complete: bool = False):
        self.fail_part = fail_part
        self.lost_complete = lost_complete
        self.manifest: dict[str, Any] = {}
        self.parts: dict[int, int] = {}
        self.aborted: list[str] = []
        self.completed = False
        self.peak_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def create_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        return {"UploadId": "u1"}

    def upload_part(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            body = kwargs["Body"]
            assert base64.b64encode(crc32c_bytes(body)).decode() == kwargs["ChecksumCRC32C"]
            if kwargs["PartNumber"] == self.fail_part:
                raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "UploadPart")
            self.parts[kwargs["PartNumber"]] = len(body)
            return {"ETag": f'"{kwargs["PartNumber"]}"'}
        finally:
            with self._lock:
                self._in_flight -= 1

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.manifest = json.loads(kwargs["Body"])
        return {}

    def complete_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        numbers = [p["PartNumber"] for p in kwargs["MultipartUpload"]["Parts"]]
        assert numbers == sorted(numbers)
        self.completed = True
        if self.lost_complete:
            raise ClientError(
                {"Error": {"Code": "NoSuchUpload", "Message": "gone"}}, "CompleteMultipartUpload"
            )
        return {"ETag": '"x-3"'}

    def abort_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        self.aborted.append(kwargs["UploadId"])
        return {}

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        if not self.completed:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {
            "ContentLength": self.manifest["size_bytes"],
            "StorageClass": "GLACIER",
            "ChecksumCRC32C": self.manifest["checksum_crc32c"],
            "ETag": '"e-2"',
        }


def test_upload_splits_into_parts_and_bounds_concurrency() -> None:
    client = FakeClient()
    store = ArchiveStore(client, "bucket", ArchiverSettings(part_size_bytes=5 * MIB), upload_concurrency=2)
    chunks = (b"x" * 700_000 for _ in range(30))
    manifest = store.upload_stream("0_unit0001", chunks, "0_f", 21_000_000)
    assert client.parts == {1: 5 * MIB, 2: 5 * MIB, 3: 5 * MIB, 4: 5 * MIB, 5: 21_000_000 - 20 * MIB}
    assert client.completed
    assert client.peak_in_flight <= 2
    assert client.aborted == []
    assert manifest.sha256 == hashlib.sha256(b"x" * 21_000_000).hexdigest()
    assert manifest.verified_at is not None and client.manifest["verified_at"] == manifest.verified_at


def test_lost_complete_answer_is_accepted_when_the_object_matches() -> None:
    client = FakeClient(lost_complete=True)
    store = ArchiveStore(client, "bucket", ArchiverSettings(part_size_bytes=5 * MIB))
    manifest = store.upload_stream("0_unit0003", iter([b"z" * (6 * MIB)]), "0_f", 6 * MIB)
    assert manifest.etag == '"e-2"'
    assert manifest.parts == 2


def test_failed_part_aborts_the_upload() -> None:
    client = FakeClient(fail_part=2)
    calls: dict[str, int] = {}
    store = ArchiveStore(client, "bucket", ArchiverSettings(part_size_bytes=5 * MIB), calls=calls)
    with pytest.raises(ArchiveStoreError, match="aborted"):
        store.upload_stream("0_unit0002", iter([b"y" * (12 * MIB)]), "0_f", None)
    assert client.aborted == ["u1"]
    assert not client.completed
    assert calls["AbortMultipartUpload"] == 1


def test_call_counter_may_be_a_callback() -> None:
    seen: list[str] = []
    client = FakeClient()
    store = ArchiveStore(client, "bucket", ArchiverSettings(), calls=seen.append)
    assert store.head("0_none") is None
    assert seen == ["HeadObject"]
