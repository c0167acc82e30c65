"""Archives of the old command-line tool (object only, no manifest): nothing is deleted on a size match.

Old-tool archives are written here as the old tool wrote them, with boto3 against the dev S3 server
(single-part PUT, or boto3's managed multipart upload), so their ETags are the ones S3 computes.
Entries are made twice where it matters: recent ones (Kaltura reports `sizeInBytes`) and ones
created before 2020-08, whose flavors report only KB, where a copy a few KB short passes the 3 %
size rule and only the downloaded byte count and the ETag catch it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kaltura_archiver.operations import OPERATIONS, Outcome
from kaltura_archiver.s3_etag import BOTO3_PART_BYTES, MIB
from tests.integration.operations_harness import Harness, build_harness

RECENT, BEFORE_2020_08 = 5, 7
AGES = [pytest.param(RECENT, id="sizeInBytes"), pytest.param(BEFORE_2020_08, id="KB-only")]
MULTIPART_SIZE = BOTO3_PART_BYTES + 300_000


@pytest.fixture
def h(emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path) -> Harness:
    """The local stack wired for operations."""
    return build_harness(emulator, s3_bucket, tmp_path)


def _entry(h: Harness, years_old: float, size: int = 300_000) -> str:
    """A new entry; one made before 2020-08 must report only KB, as Kaltura's flavors of that time do."""
    entry_id = h.create(size=size, years_old=years_old)
    original = h.api.list_flavors([entry_id])[entry_id][0]
    assert (original.size_bytes is None) is (years_old == BEFORE_2020_08), original
    return entry_id


def _manifest(h: Harness, entry_id: str) -> dict[str, Any]:
    return dict(json.loads(h.s3.get_object(Bucket=h.bucket, Key=f"manifests/{entry_id}.json")["Body"].read()))


def _replaced_from(h: Harness, entry_id: str, real: bytes) -> None:
    """The entry holds the placeholder and S3 the real video (no video lost)."""
    assert {h.settings.archived_tag, h.settings.replaced_tag} <= h.tags(entry_id)
    assert h.s3_sha(entry_id) == hashlib.sha256(real).hexdigest() == h.real_sha[entry_id]
    assert h.original_sha(entry_id) != h.real_sha[entry_id]


@pytest.mark.parametrize("years_old", AGES)
def test_good_single_part_copy_is_proved_by_its_md5_replaced_and_restored(h: Harness, years_old: int) -> None:
    entry_id = _entry(h, years_old)
    real = h.original_bytes(entry_id)
    h.old_tool_archive(entry_id, real)
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE_BEFORE
    dry = OPERATIONS["replace"](h.ctx(live=False), entry_id)
    assert dry.outcome is Outcome.DONE and any("write the manifest" in s for s in dry.details["steps"])
    assert h.keys(entry_id) == [entry_id], "a dry run writes no manifest"
    replaced = OPERATIONS["replace"](h.ctx(), entry_id)
    assert replaced.outcome is Outcome.DONE, replaced.reason
    assert replaced.details["match_rule"] == "md5-etag"
    _replaced_from(h, entry_id, real)
    manifest = _manifest(h, entry_id)
    assert manifest["source"] == "old-tool" and manifest["parts"] == 1 and manifest["file_ext"] == "mp4"
    assert manifest["sha256"] == h.real_sha[entry_id] and manifest["size_bytes"] == len(real)
    assert OPERATIONS["repair"](h.ctx(), entry_id).outcome is Outcome.DONE_BEFORE
    restored = OPERATIONS["restore"](h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored.reason
    assert h.original_sha(entry_id) == h.real_sha[entry_id]
    assert h.keys(entry_id) == [entry_id, f"manifests/{entry_id}.json"]


@pytest.mark.parametrize(
    "part_size", [pytest.param(BOTO3_PART_BYTES, id="boto3-8MiB"), pytest.param(6 * MIB, id="6MiB")]
)
def test_good_multipart_copy_is_proved_by_its_multipart_etag(h: Harness, part_size: int) -> None:
    entry_id = _entry(h, RECENT, size=MULTIPART_SIZE)
    real = h.original_bytes(entry_id)
    h.old_tool_archive(entry_id, real, part_size=part_size)
    assert h.s3.head_object(Bucket=h.bucket, Key=entry_id)["ETag"].endswith('-2"')
    replaced = OPERATIONS["replace"](h.ctx(), entry_id)
    assert replaced.outcome is Outcome.DONE, replaced.reason
    assert replaced.details["match_rule"] == "multipart-etag"
    _replaced_from(h, entry_id, real)
    manifest = _manifest(h, entry_id)
    assert (
        manifest["source"] == "old-tool"
        and manifest["parts"] == 2
        and manifest["part_size_bytes"] == part_size
    )
    assert OPERATIONS["restore"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


@pytest.mark.parametrize("years_old", AGES)
@pytest.mark.parametrize("multipart", [False, True], ids=["single-part", "multipart"])
def test_truncated_copy_is_kept_aside_and_the_original_archived_before_replacing(
    h: Harness, years_old: int, multipart: bool
) -> None:
    size = MULTIPART_SIZE if multipart else 300_000
    entry_id = _entry(h, years_old, size=size)
    real = h.original_bytes(entry_id)
    truncated = real[: -(len(real) // 100)]  # 1 % short: within the old tool's 3 % size rule
    h.old_tool_archive(entry_id, truncated, part_size=BOTO3_PART_BYTES if multipart else None)
    flavors = h.state(entry_id)["flavors"]
    dry = OPERATIONS["replace"](h.ctx(live=False), entry_id)
    assert dry.outcome is Outcome.DONE and "changed_since_archival" in dry.details
    assert h.state(entry_id)["flavors"] == flavors and h.keys(entry_id) == [entry_id]
    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    changed = result.details["changed_since_archival"]
    assert changed["previous_source"] == "old-tool (no manifest)"
    assert changed["detected_by"] in ("size", "md5-etag", "multipart-etag")
    if years_old == BEFORE_2020_08:
        assert changed["detected_by"] in ("md5-etag", "multipart-etag"), "the KB sizes agreed"
        assert "bytes" in changed["detail"], "the downloaded byte count told"
    else:
        assert changed["detected_by"] == "size", "Kaltura's sizeInBytes told"
    kept = h.s3.get_object(Bucket=h.bucket, Key=changed["previous_key"])["Body"].read()
    assert kept == truncated, "the old-tool copy is kept, not overwritten"
    _replaced_from(h, entry_id, real)
    manifest = _manifest(h, entry_id)
    assert (
        manifest["source"] == "archiver"
        and manifest["previous_versions"][0]["key"] == changed["previous_key"]
    )
    assert OPERATIONS["restore"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


def test_same_size_corrupted_copy_is_caught_by_its_md5(h: Harness) -> None:
    entry_id = _entry(h, RECENT)
    real = h.original_bytes(entry_id)
    corrupted = real[:1000] + bytes(b ^ 0xFF for b in real[1000:1010]) + real[1010:]
    h.old_tool_archive(entry_id, corrupted)
    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert result.details["changed_since_archival"]["detected_by"] == "md5-etag"
    _replaced_from(h, entry_id, real)


def test_copy_whose_etag_is_not_an_md5_is_skipped_with_the_reason(h: Harness) -> None:
    entry_id = _entry(h, RECENT)
    real = h.original_bytes(entry_id)
    h.old_tool_archive(entry_id, real, ServerSideEncryption="aws:kms")
    before = h.snapshot(entry_id)
    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.SKIPPED, result.reason
    assert "SSE-KMS" in result.reason and "cannot be proved" in result.reason
    assert h.snapshot(entry_id) == before, "nothing deleted, no tag, no manifest"
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


@pytest.mark.parametrize("part_size", [None, 6 * MIB], ids=["single-part", "multipart-6MiB"])
def test_copy_in_glacier_is_proved_without_restoring_it(h: Harness, part_size: int | None) -> None:
    entry_id = _entry(h, RECENT, size=300_000 if part_size is None else MULTIPART_SIZE)
    real = h.original_bytes(entry_id)
    h.old_tool_archive(entry_id, real, part_size=part_size, StorageClass="GLACIER")
    replaced = OPERATIONS["replace"](h.ctx(storage_class="GLACIER"), entry_id)
    assert replaced.outcome is Outcome.DONE, replaced.reason
    assert "Restore" not in h.s3.head_object(Bucket=h.bucket, Key=entry_id), "no Glacier restore was needed"
    manifest = _manifest(h, entry_id)
    assert manifest["source"] == "old-tool" and manifest["storage_class"] == "GLACIER"
    assert manifest["part_size_bytes"] == (part_size or len(real))
