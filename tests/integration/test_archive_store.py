"""ArchiveStore against the real local S3 server (moto server mode behind dev/s3_server's layer)."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dev.s3_server import S3DevControl
from kaltura_archiver.archive_store import (
    PREVIOUS_PREFIX,
    RESTORE_DONE,
    RESTORE_NOT_NEEDED,
    RESTORE_ONGOING,
    RESTORE_REQUESTED,
    ArchiveManifest,
    ArchiveNotReadable,
    ArchiveStore,
    ArchiveStoreError,
    ArchiveVerificationError,
    StreamSizeMismatch,
    composite_sha256,
    crc32c_bytes,
    effective_manifest,
    previous_key,
)
from kaltura_archiver.config import ArchiverSettings
from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
SETTINGS = ArchiverSettings(part_size_bytes=5 * MIB, upload_chunk_bytes=256 * 1024)


def content(size: int, seed: int = 7) -> bytes:
    """Deterministic, non-repeating-per-part test content."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += block
        out += counter.to_bytes(4, "big")
        counter += 1
    return bytes(out[:size])


def chunked(data: bytes, sizes: tuple[int, ...] = (100_000, 333_333, 1_000_003)) -> Iterator[bytes]:
    """Yield data in irregular chunk sizes, like a download would."""
    offset, index = 0, 0
    while offset < len(data):
        size = sizes[index % len(sizes)]
        yield data[offset : offset + size]
        offset += size
        index += 1


def open_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_upload_verify_and_manifest(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    data = content(12 * MIB + 12345)
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS, calls=calls)
    logged: list[str] = []

    manifest = store.upload_stream("0_up00001", chunked(data), "0_flav0001", len(data), logged.append)

    assert manifest.sha256 == hashlib.sha256(data).hexdigest()
    assert manifest.size_bytes == len(data)
    assert manifest.parts == 3
    assert manifest.flavor_id == "0_flav0001"
    assert manifest.storage_class == "GLACIER"
    assert manifest.verified_at is not None
    part_crcs = [crc32c_bytes(data[i : i + 5 * MIB]) for i in range(0, len(data), 5 * MIB)]
    expected = base64.b64encode(crc32c_bytes(b"".join(part_crcs))).decode()
    assert manifest.checksum_algorithm == "CRC32C" and manifest.checksum_crc32c == f"{expected}-3"
    assert store.read_manifest("0_up00001") == manifest

    head = store.head("0_up00001")
    assert head is not None
    assert head.size_bytes == len(data)
    assert head.storage_class == "GLACIER"
    assert head.readable is False
    assert head.restore_state is None
    assert head.flavor_id == "0_flav0001"
    assert head.checksum_crc32c is not None and head.checksum_crc32c.split("-")[0] == expected
    manifest_head = client.head_object(Bucket=bucket, Key="manifests/0_up00001.json")
    assert manifest_head.get("StorageClass", "STANDARD") == "STANDARD"
    assert open_uploads(client, bucket) == []
    assert calls["UploadPart"] == 3
    assert calls["CompleteMultipartUpload"] == 1
    assert any("verified" in line for line in logged)
    assert not any("testing" in line for line in logged)


def test_uploaded_glacier_object_is_not_readable_until_restored(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS)
    store.upload_stream("0_glac0001", [b"abc" * 1000], "0_f", 3000)
    with pytest.raises(ArchiveNotReadable):
        list(store.open_stream("0_glac0001"))


def test_standard_upload_streams_back(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"))
    data = content(6 * MIB)
    manifest = store.upload_stream("0_std00001", chunked(data), "0_f", None)
    assert b"".join(store.open_stream("0_std00001", chunk_size=MIB)) == data
    assert store.verify_object("0_std00001", manifest, read_content=True).readable is True
    assert store.request_restore("0_std00001") == RESTORE_NOT_NEEDED


def test_empty_content_is_archived(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"))
    manifest = store.upload_stream("0_empty001", iter([b""]), "0_f", 0)
    assert manifest.size_bytes == 0
    assert manifest.sha256 == hashlib.sha256(b"").hexdigest()
    assert b"".join(store.open_stream("0_empty001")) == b""


def test_upload_through_s3hook_hits_the_local_server(
    s3_bucket: tuple[Any, str], aws_conn_env: str, s3_control: S3DevControl
) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    _, bucket = s3_bucket
    hook_client = S3Hook(aws_conn_id="aws_default").get_conn()
    s3_control.reset_counts()
    store = ArchiveStore(hook_client, bucket, SETTINGS)
    manifest = store.upload_stream("0_hook0001", chunked(content(MIB)), "0_f", MIB)
    counts = s3_control.counts()
    assert counts.get("CompleteMultipartUpload") == 1
    assert counts.get("UploadPart") == 1
    assert store.verify_object("0_hook0001", manifest).size_bytes == MIB


def test_inventory_lists_instead_of_heads(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    ids = [f"0_{i:08d}" for i in range(3000)]
    objects: list[dict[str, Any]] = [
        {"key": entry_id, "size": index % 7, "storage_class": "GLACIER"} for index, entry_id in enumerate(ids)
    ]
    objects += [{"key": f"manifests/{entry_id}.json", "body_text": "{}"} for entry_id in ids[::2]]
    objects.append({"key": "unrelated/folder/file", "size": 1})
    assert s3_control.seed(bucket, objects) == len(objects)

    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS, calls=calls)
    s3_control.reset_counts()
    first_page = ids[:500] + ["0_missing1"]
    result = store.inventory(first_page)
    for page_start in range(500, 3000, 500):
        result.update(store.inventory(ids[page_start : page_start + 500]))

    server_counts = s3_control.counts()
    assert server_counts.get("HeadObject", 0) == 0
    assert server_counts.get("ListObjectsV2") == calls["ListObjectsV2"]
    assert calls == {"ListObjectsV2": calls["ListObjectsV2"]}
    assert calls["ListObjectsV2"] <= 6
    assert result["0_missing1"] is None
    assert len(result) == 3001
    for index in (0, 1, 1234, 2999):
        found = result[ids[index]]
        assert found is not None
        assert found.size_bytes == index % 7
        assert found.storage_class == "GLACIER"
        assert found.has_manifest is (index % 2 == 0)
        assert found.readable is None

    uploaded = store.upload_stream("0_new00001", [b"fresh"], "0_f", 5)
    cached = store.inventory(ids[:30] + ["0_new00001"])["0_new00001"]
    fresh = ArchiveStore(client, bucket, SETTINGS).inventory(["0_new00001"])["0_new00001"]
    assert cached is not None and cached == fresh
    assert cached.has_manifest is True and cached.size_bytes == uploaded.size_bytes

    small_calls: dict[str, int] = {}
    small = ArchiveStore(client, bucket, SETTINGS, calls=small_calls).inventory(ids[:4] + ["0_missing2"])
    assert small_calls == {"ListObjectsV2": 2 * 5 - 1}
    assert small["0_missing2"] is None
    assert [small[i].has_manifest for i in ids[:4]] == [True, False, True, False]  # type: ignore[union-attr]


def test_old_tool_archive_has_no_manifest(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="0_oldtool1", Body=b"video" * 100, StorageClass="GLACIER")
    store = ArchiveStore(client, bucket, SETTINGS)
    found = store.inventory(["0_oldtool1"])["0_oldtool1"]
    assert found is not None
    assert found.has_manifest is False
    assert found.size_bytes == 500
    big = store.inventory([f"0_none{i:04d}" for i in range(30)] + ["0_oldtool1"])["0_oldtool1"]
    assert big is not None and big.has_manifest is False
    assert store.read_manifest("0_oldtool1") is None
    assert store.inventory(["0_oldtoo", "0_oldtool"]) == {"0_oldtoo": None, "0_oldtool": None}
    head = store.head("0_oldtool1")
    assert head is not None and head.storage_class == "GLACIER" and head.checksum_sha256 is None


def test_bucket_listed_ahead_serves_the_inventories(s3_bucket: tuple[Any, str]) -> None:
    """A bulk audit lists the bucket in the background first; its inventories then cost no call."""
    client, bucket = s3_bucket
    ids = [f"0_ahead{i:03d}" for i in range(30)]
    for entry_id in ids[:20]:
        client.put_object(Bucket=bucket, Key=entry_id, Body=b"x" * 10)
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS, calls=calls)
    store.list_bucket()
    listed = calls["ListObjectsV2"]
    found = store.inventory(ids)
    assert calls["ListObjectsV2"] == listed
    assert sorted(k for k, v in found.items() if v is not None) == ids[:20]


def test_glacier_restore_really_waits(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    s3_control.set_config(glacier_restore_seconds=2)
    store = ArchiveStore(client, bucket, SETTINGS)
    data = content(300_000)
    manifest = store.upload_stream("0_restor01", chunked(data), "0_f", len(data))

    assert store.request_restore("0_restor01") == RESTORE_REQUESTED
    requested = time.monotonic()
    head = store.head("0_restor01")
    assert head is not None and head.restore_state == RESTORE_ONGOING and head.readable is False
    with pytest.raises(ArchiveNotReadable):
        list(store.open_stream("0_restor01"))
    assert store.request_restore("0_restor01") == RESTORE_ONGOING
    with pytest.raises(ClientError) as refused:
        # the same tier again (a faster one would upgrade the restore, as S3 documents)
        client.restore_object(
            Bucket=bucket,
            Key="0_restor01",
            RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}},
        )
    assert refused.value.response["Error"]["Code"] == "RestoreAlreadyInProgress"

    while True:
        head = store.head("0_restor01")
        assert head is not None
        if head.readable:
            break
        assert time.monotonic() - requested < 10
        time.sleep(0.2)
    assert time.monotonic() - requested >= 1.5
    assert head.restore_state == RESTORE_DONE and head.restore_expiry is not None
    assert b"".join(store.open_stream("0_restor01")) == data
    store.verify_object("0_restor01", manifest, read_content=True)
    assert store.request_restore("0_restor01") == RESTORE_DONE


def test_dropped_connection_mid_upload_aborts_then_retry_succeeds(
    s3_server: S3Server, s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    _, bucket = s3_bucket
    client = s3_server.client(max_attempts=2)
    store = ArchiveStore(client, bucket, SETTINGS)
    data = content(11 * MIB)
    fault = s3_control.add_fault("drop", operation="UploadPart", bucket=bucket, query="partNumber=2")

    with pytest.raises(ArchiveStoreError, match="aborted"):
        store.upload_stream("0_drop0001", chunked(data), "0_f", len(data))
    assert open_uploads(client, bucket) == []
    assert store.head("0_drop0001") is None
    assert s3_control.injected().get("drop", 0) >= 2

    s3_control.remove_fault(fault)
    manifest = store.upload_stream("0_drop0001", chunked(data), "0_f", len(data))
    assert manifest.sha256 == hashlib.sha256(data).hexdigest()
    assert open_uploads(client, bucket) == []


def test_transient_faults_are_absorbed_by_client_retries(
    s3_bucket: tuple[Any, str], s3_control: S3DevControl
) -> None:
    client, bucket = s3_bucket
    s3_control.reset_counts()
    s3_control.add_fault("drop", operation="UploadPart", bucket=bucket, max_hits=1)
    s3_control.add_fault("error500", operation="CompleteMultipartUpload", bucket=bucket, max_hits=1)
    s3_control.add_fault("slowdown503", operation="HeadObject", bucket=bucket, max_hits=1)
    store = ArchiveStore(client, bucket, SETTINGS)
    data = content(7 * MIB)
    manifest = store.upload_stream("0_retry001", chunked(data), "0_f", len(data))
    assert store.verify_object("0_retry001", manifest).size_bytes == len(data)
    assert s3_control.injected() == {"drop": 1, "error500": 1, "slowdown503": 1}


def test_lost_answer_to_complete_is_survived(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    s3_control.add_fault(
        "drop", operation="CompleteMultipartUpload", bucket=bucket, phase="response", max_hits=1
    )
    store = ArchiveStore(client, bucket, SETTINGS)
    data = content(6 * MIB)
    manifest = store.upload_stream("0_lost0001", chunked(data), "0_f", len(data))
    assert s3_control.injected() == {"drop": 1}
    assert store.verify_object("0_lost0001", manifest).size_bytes == len(data)
    assert open_uploads(client, bucket) == []


def test_size_mismatch_aborts(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS)
    data = content(6 * MIB)
    with pytest.raises(StreamSizeMismatch, match="ended after"):
        store.upload_stream("0_short001", chunked(data), "0_f", len(data) + 1)
    with pytest.raises(StreamSizeMismatch, match="more than"):
        store.upload_stream("0_long0001", chunked(data), "0_f", len(data) - 1)
    assert open_uploads(client, bucket) == []
    assert store.inventory(["0_short001", "0_long0001"]) == {"0_short001": None, "0_long0001": None}


def test_failing_source_aborts(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS)

    def broken() -> Iterator[bytes]:
        yield content(6 * MIB)
        raise ConnectionResetError("download dropped")

    with pytest.raises(ArchiveStoreError, match="download dropped"):
        store.upload_stream("0_broken01", broken(), "0_f", None)
    assert open_uploads(client, bucket) == []


def test_open_stream_resumes_after_dropped_get(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    data = content(3 * MIB + 17)
    client.put_object(Bucket=bucket, Key="0_resume01", Body=data)
    s3_control.reset_counts()
    s3_control.add_fault("drop", operation="GetObject", bucket=bucket, max_hits=2, after_bytes=MIB + 5)
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS, calls=calls)
    assert b"".join(store.open_stream("0_resume01", chunk_size=256 * 1024)) == data
    assert calls["GetObject"] == 3
    assert s3_control.injected() == {"drop": 2}


def test_open_stream_gives_up_after_max_resumes(s3_bucket: tuple[Any, str], s3_control: S3DevControl) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="0_resume02", Body=content(MIB))
    s3_control.add_fault("drop", operation="GetObject", bucket=bucket, after_bytes=1000)
    store = ArchiveStore(client, bucket, SETTINGS, max_stream_resumes=1)
    with pytest.raises(ArchiveStoreError, match="after 1 resumes"):
        list(store.open_stream("0_resume02"))


def test_abort_orphaned_uploads(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    for key in ("0_orphan01", "0_orphan01", "0_orphan02", "0_orphan010"):
        client.create_multipart_upload(Bucket=bucket, Key=key)
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS, calls=calls)
    assert store.abort_orphaned_uploads("0_orphan01") == 2
    assert sorted(u["Key"] for u in open_uploads(client, bucket)) == ["0_orphan010", "0_orphan02"]
    # moto reports every upload as initiated in 2010, so only an age limit beyond that spares them
    assert store.abort_orphaned_uploads(older_than_seconds=100 * 365 * 86400) == 0
    assert store.abort_orphaned_uploads() == 2
    assert open_uploads(client, bucket) == []
    assert calls["AbortMultipartUpload"] == 4


def test_verify_object_detects_mismatches(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"))
    data = content(MIB)
    manifest = store.upload_stream("0_verify01", [data], "0_f", len(data))
    with pytest.raises(ArchiveVerificationError, match="bytes"):
        store.verify_object("0_verify01", ArchiveManifest(**{**manifest.__dict__, "size_bytes": 5}))
    wrong_checksum = ArchiveManifest(**{**manifest.__dict__, "checksum_crc32c": "AAAA-1"})
    with pytest.raises(ArchiveVerificationError, match="checksum"):
        store.verify_object("0_verify01", wrong_checksum)
    wrong_sha = ArchiveManifest(**{**manifest.__dict__, "sha256": "0" * 64})
    with pytest.raises(ArchiveVerificationError, match="content has sha256"):
        store.verify_object("0_verify01", wrong_sha, read_content=True)
    with pytest.raises(ArchiveVerificationError, match="does not exist"):
        store.verify_object("0_nothere1", manifest)


def test_sha256_manifest_of_an_earlier_version_still_verifies(s3_bucket: tuple[Any, str]) -> None:
    """Archives written with SHA256 part checksums (manifest format 2) verify by that checksum."""
    client, bucket = s3_bucket
    data = content(11 * MIB)
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="0_sha256v2", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    parts, digests = [], []
    for number, start in enumerate(range(0, len(data), 5 * MIB), start=1):
        body = data[start : start + 5 * MIB]
        digest = hashlib.sha256(body).digest()
        checksum = base64.b64encode(digest).decode()
        answer = client.upload_part(
            Bucket=bucket,
            Key="0_sha256v2",
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum})
        digests.append(digest)
    client.complete_multipart_upload(
        Bucket=bucket, Key="0_sha256v2", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    stored_v2 = {
        "entry_id": "0_sha256v2",
        "key": "0_sha256v2",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
        "flavor_id": "0_f",
        "checksum_sha256": composite_sha256(digests),
        "part_size_bytes": 5 * MIB,
        "parts": 3,
        "storage_class": "STANDARD",
        "created_at": "2026-01-01T00:00:00+00:00",
        "tool_version": "0.1.0",
        "verified_at": "2026-01-01T00:00:00+00:00",
        "format": 2,
    }
    store = ArchiveStore(client, bucket, SETTINGS)
    manifest = ArchiveManifest.from_dict(stored_v2)
    assert manifest.checksum_algorithm == "SHA256"
    assert store.verify_object("0_sha256v2", manifest, read_content=True).size_bytes == len(data)
    wrong = ArchiveManifest.from_dict(
        {**stored_v2, "checksum_sha256": composite_sha256(digests[:2] * 2)[:-2]}
    )
    with pytest.raises(ArchiveVerificationError, match="SHA256 checksum"):
        store.verify_object("0_sha256v2", wrong)


def test_restore_of_missing_object_is_an_error(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    with pytest.raises(ArchiveStoreError, match="does not exist"):
        ArchiveStore(client, bucket, SETTINGS).request_restore("0_nothere2")


# -- manifests of old-tool archives, previous versions ------------------------------------------------


def test_manifest_keeps_extension_and_previous_versions(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"))
    earlier = ({"key": "previous/0_ext00001/abc", "etag": '"abc"', "size_bytes": 3, "manifest": None},)
    manifest = store.upload_stream(
        "0_ext00001", [b"x" * 1000], "0_f", 1000, file_ext="mov", previous_versions=earlier
    )
    stored = store.read_manifest("0_ext00001")
    assert stored == manifest
    assert stored is not None and stored.file_ext == "mov" and stored.previous_versions == earlier
    assert stored.format == 3 and stored.source == "archiver"
    old_format = {k: v for k, v in stored.as_record().items() if k not in ("file_ext", "source", "proof")}
    parsed = ArchiveManifest.from_dict({**old_format, "format": 1, "unknown_later_field": True})
    assert parsed.file_ext == "" and parsed.previous_versions == () and parsed.source == "archiver"


def test_old_tool_manifest_is_verified_by_size_and_etag(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS)
    data = content(300_000)
    client.put_object(Bucket=bucket, Key="0_oldtool2", Body=data)
    stored = store.head("0_oldtool2")
    assert stored is not None and stored.checksum_sha256 is None
    manifest = ArchiveManifest(
        entry_id="0_oldtool2",
        key="0_oldtool2",
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        flavor_id="0_f",
        checksum_sha256="",
        part_size_bytes=len(data),
        parts=1,
        storage_class="STANDARD",
        created_at="2026-01-01T00:00:00+00:00",
        tool_version="test",
        etag=stored.etag,
        verified_at="2026-01-01T00:00:00+00:00",
        source="old-tool",
        proof="MD5 equals the ETag",
    )
    store.save_manifest(manifest)
    assert store.verify_object("0_oldtool2", manifest, read_content=True).size_bytes == len(data)
    client.put_object(Bucket=bucket, Key="0_oldtool2", Body=data[::-1])
    with pytest.raises(ArchiveVerificationError, match="ETag"):
        store.verify_object("0_oldtool2", manifest)


def test_head_reports_encryption_and_first_part_size(s3_bucket: tuple[Any, str]) -> None:
    from boto3.s3.transfer import TransferConfig

    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS)
    client.put_object(Bucket=bucket, Key="0_kms00001", Body=b"abc", ServerSideEncryption="aws:kms")
    kms = store.head("0_kms00001")
    assert kms is not None and kms.server_side_encryption == "aws:kms"
    assert store.first_part_size("0_kms00001") is None, "single-part"
    data = content(13 * MIB)
    config = TransferConfig(multipart_threshold=6 * MIB, multipart_chunksize=6 * MIB)
    client.upload_fileobj(__import__("io").BytesIO(data), bucket, "0_multi001", Config=config)
    assert store.first_part_size("0_multi001") == 6 * MIB
    assert store.head("0_multi001").etag.endswith('-3"')  # type: ignore[union-attr]
    assert store.first_part_size("0_nothere3") is None


def test_previous_version_is_copied_once_and_kept(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"), calls=calls)
    old = content(2 * MIB, seed=1)
    first = store.upload_stream("0_vers0001", [old], "0_old", len(old), file_ext="mp4")
    stored = store.head("0_vers0001")
    assert stored is not None and not store.versioning_enabled()
    kept = store.keep_previous_version("0_vers0001", stored, first, "changed")
    key = previous_key("0_vers0001", stored.etag)
    assert kept["key"] == key and key.startswith(PREVIOUS_PREFIX) and kept["kept_by"] == "copy"
    assert kept["manifest"]["sha256"] == first.sha256 and "previous_versions" not in kept["manifest"]
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == old
    copies = calls.get("CopyObject", 0)
    assert store.keep_previous_version("0_vers0001", stored, first, "changed")["key"] == key
    assert calls.get("CopyObject", 0) == copies, "an existing copy of the same object is reused"
    new = content(MIB, seed=2)
    second = store.upload_stream("0_vers0001", [new], "0_new", len(new), previous_versions=(kept,))
    assert store.read_manifest("0_vers0001") == second and second.previous_versions[0]["key"] == key
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == old
    inventory = ArchiveStore(client, bucket, SETTINGS).inventory(["0_vers0001"])["0_vers0001"]
    assert inventory is not None and inventory.size_bytes == MIB


def test_previous_version_over_the_single_copy_limit_is_copied_in_parts(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"), calls=calls)
    store.copy_single_limit, store.copy_part_bytes = MIB, 5 * MIB
    old = content(11 * MIB + 5, seed=5)
    store.upload_stream("0_vers0005", chunked(old), "0_old", len(old))
    stored = store.head("0_vers0005")
    assert stored is not None
    kept = store.keep_previous_version("0_vers0005", stored, None, "changed")
    assert calls["UploadPartCopy"] == 3 and "CopyObject" not in calls
    assert client.get_object(Bucket=bucket, Key=kept["key"])["Body"].read() == old
    assert open_uploads(client, bucket) == []


def test_previous_version_in_glacier_must_be_restored_first(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="GLACIER"))
    store.upload_stream("0_vers0002", [b"g" * 5000], "0_old", 5000)
    stored = store.head("0_vers0002")
    assert stored is not None and stored.readable is False
    with pytest.raises(ArchiveNotReadable):
        store.keep_previous_version("0_vers0002", stored, None, "changed")
    assert store.request_restore("0_vers0002") == RESTORE_REQUESTED
    restored = store.head("0_vers0002")
    assert restored is not None and restored.readable
    kept = store.keep_previous_version("0_vers0002", restored, None, "changed")
    head = client.head_object(Bucket=bucket, Key=kept["key"])
    assert head["StorageClass"] == "GLACIER" and head["ContentLength"] == 5000


def test_versioned_bucket_keeps_the_previous_version_without_a_copy(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    calls: dict[str, int] = {}
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="GLACIER"), calls=calls)
    old = content(100_000, seed=3)
    store.upload_stream("0_vers0003", [old], "0_old", len(old))
    stored = store.head("0_vers0003")
    assert stored is not None and stored.version_id and not stored.readable
    kept = store.keep_previous_version("0_vers0003", stored, None, "changed")
    assert kept["key"] == "0_vers0003" and kept["version_id"] == stored.version_id
    assert kept["kept_by"] == "bucket versioning" and "CopyObject" not in calls
    store.upload_stream("0_vers0003", [b"new"], "0_new", 3, previous_versions=(kept,))
    versions = client.list_object_versions(Bucket=bucket, Prefix="0_vers0003")["Versions"]
    assert {v["VersionId"] for v in versions if v["Key"] == "0_vers0003"} >= {stored.version_id}


def test_effective_manifest_of_an_interrupted_version_change(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    store = ArchiveStore(client, bucket, SETTINGS.with_changes(storage_class="STANDARD"))
    old = content(200_000, seed=4)
    first = store.upload_stream("0_vers0004", [old], "0_old", len(old))
    stored = store.head("0_vers0004")
    assert stored is not None
    kept = store.keep_previous_version("0_vers0004", stored, first, "changed")
    pending = ArchiveManifest(
        **{**first.__dict__, "sha256": "1" * 64, "verified_at": None, "previous_versions": (kept,)}
    )
    manifest, interrupted = effective_manifest(stored, pending)
    assert interrupted and manifest is not None
    assert manifest.sha256 == first.sha256 and manifest.previous_versions == ()
    store.verify_object("0_vers0004", manifest, read_content=True)
    assert effective_manifest(stored, first) == (first, False)
    legacy_kept = {**kept, "manifest": None}
    assert effective_manifest(
        stored, ArchiveManifest(**{**pending.__dict__, "previous_versions": (legacy_kept,)})
    ) == (
        None,
        True,
    )
