"""Changed since archival: an owner uploads a new version of an archived, not yet replaced entry.

The old archive is kept (a copy under previous/, or a noncurrent version in a versioned bucket),
the new version is archived, the replace goes on, and nothing of either version is lost at any
crash point. "Lost" is checked independently: the old version's bytes must be in S3 (current object
or the kept copy / version) and the new version's bytes in Kaltura or S3.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kaltura_archiver.entry_state import EntryState, classify_entry
from kaltura_archiver.operations import OPERATIONS, Outcome
from kaltura_archiver.operations.kaltura_content import add_content, delete_flavor, upload_chunks
from kaltura_archiver.operations.state import read_state
from tests.integration.operations_harness import Harness, SimulatedCrash, build_harness, crash_at, video_bytes

CHANGED = "changed_since_archival"


@pytest.fixture
def h(emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path) -> Harness:
    """The local stack wired for operations."""
    return build_harness(emulator, s3_bucket, tmp_path)


def _upload_new_version(h: Harness, entry_id: str, data: bytes) -> None:
    """What an owner with edit rights does: replace the entry's video with a new file."""
    for flavor in h.state(entry_id)["flavors"]:
        if flavor["status"] == 2:
            delete_flavor(h.api, flavor["id"])
    token = upload_chunks(h.api, [data], "v2.mov", 64 * 1024, len(data))
    add_content(h.api, entry_id, token.token_id)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _all_s3_shas(h: Harness, entry_id: str) -> set[str]:
    """sha256 of every readable S3 object or version that belongs to the entry."""
    found = set()
    versions = h.s3.list_object_versions(Bucket=h.bucket).get("Versions", [])
    for item in versions:
        key = item["Key"]
        if entry_id not in key or key.endswith(".json"):
            continue
        args = {"Bucket": h.bucket, "Key": key}
        if item["VersionId"] != "null":
            args["VersionId"] = item["VersionId"]
        head = h.s3.head_object(**args)
        if head.get("StorageClass") in ("GLACIER", "DEEP_ARCHIVE") and 'ongoing-request="false"' not in (
            head.get("Restore") or ""
        ):
            found.add(f"glacier:{key}:{item['VersionId']}:{head['ContentLength']}")
            continue
        found.add(_sha(h.s3.get_object(**args)["Body"].read()))
    return found


def _changed_entry(h: Harness, **create: Any) -> tuple[str, bytes, bytes]:
    """An archived entry whose owner then uploaded a new version: (id, old bytes, new bytes)."""
    entry_id = h.make("archived", **create)
    old = h.s3.get_object(Bucket=h.bucket, Key=entry_id)["Body"].read()
    assert _sha(old) == h.real_sha[entry_id]
    new = video_bytes(180_000, seed=len(h.real_sha))
    _upload_new_version(h, entry_id, new)
    assert h.original_sha(entry_id) == _sha(new)
    return entry_id, old, new


def _nothing_lost(h: Harness, entry_id: str, old: bytes, new: bytes) -> None:
    shas = _all_s3_shas(h, entry_id)
    assert _sha(old) in shas, "the archived version is still in S3"
    assert _sha(new) in shas or h.original_sha(entry_id) == _sha(new), "the new version is somewhere"


def _manifest(h: Harness, entry_id: str) -> dict[str, Any]:
    return dict(json.loads(h.s3.get_object(Bucket=h.bucket, Key=f"manifests/{entry_id}.json")["Body"].read()))


def test_changed_entry_is_classified_and_replace_keeps_both_versions(h: Harness) -> None:
    entry_id, old, new = _changed_entry(h)
    state = read_state(h.ctx(), entry_id)
    assert state.entry is not None
    classified = classify_entry(state.entry, state.original, state.archive, h.settings)
    assert classified.state is EntryState.CHANGED_SINCE_ARCHIVAL
    before = h.snapshot(entry_id)
    dry = OPERATIONS["replace"](h.ctx(live=False), entry_id)
    assert dry.outcome is Outcome.DONE and CHANGED in dry.details
    assert any("keep the previous archive" in step for step in dry.details["steps"])
    assert h.snapshot(entry_id) == before, "a dry run changes nothing"

    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    changed = result.details[CHANGED]
    assert changed["kept_by"] == "copy" and changed["previous_key"].startswith(f"previous/{entry_id}/")
    assert (
        changed["previous_sha256"] == _sha(old) and changed["new_flavor_id"] != changed["previous_flavor_id"]
    )
    assert result.reason.startswith(CHANGED)
    assert h.s3.get_object(Bucket=h.bucket, Key=changed["previous_key"])["Body"].read() == old
    assert h.s3_sha(entry_id) == _sha(new)
    manifest = _manifest(h, entry_id)
    assert manifest["file_ext"] == "mov" and manifest["sha256"] == _sha(new)
    assert [v["key"] for v in manifest["previous_versions"]] == [changed["previous_key"]]
    assert manifest["previous_versions"][0]["manifest"]["sha256"] == _sha(old)
    assert {h.settings.archived_tag, h.settings.replaced_tag} <= h.tags(entry_id)

    assert OPERATIONS["replace"](h.ctx(), entry_id).outcome is Outcome.DONE_BEFORE
    restored = OPERATIONS["restore"](h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored.reason
    assert h.original_sha(entry_id) == _sha(new), "restore brings back the newest version"
    original = h.state(entry_id)["flavors"]
    assert any(f["is_original"] and f["file_ext"] == "mov" and f["status"] == 2 for f in original)


def test_archive_and_repair_also_keep_the_old_archive(h: Harness) -> None:
    entry_id, old, new = _changed_entry(h)
    archived = OPERATIONS["archive"](h.ctx(), entry_id)
    assert archived.outcome is Outcome.DONE and CHANGED in archived.details, archived.reason
    assert h.s3_sha(entry_id) == _sha(new) and h.original_sha(entry_id) == _sha(new)
    _nothing_lost(h, entry_id, old, new)
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE_BEFORE
    assert OPERATIONS["repair"](h.ctx(), entry_id).outcome is Outcome.DONE_BEFORE


def test_old_archive_in_glacier_is_restored_before_it_is_copied(h: Harness, s3_control: Any) -> None:
    entry_id, old, new = _changed_entry(h, years_old=5)
    h.s3.copy_object(
        Bucket=h.bucket,
        Key=entry_id,
        CopySource={"Bucket": h.bucket, "Key": entry_id},
        StorageClass="GLACIER",
    )
    flavors = h.state(entry_id)["flavors"]
    s3_control.set_config(glacier_restore_seconds=1.0)
    waiting = OPERATIONS["replace"](h.ctx(storage_class="GLACIER"), entry_id)
    assert waiting.outcome is Outcome.WAITING_FOR_GLACIER, waiting.reason
    assert CHANGED in waiting.reason and h.state(entry_id)["flavors"] == flavors
    assert (
        OPERATIONS["replace"](h.ctx(storage_class="GLACIER"), entry_id).outcome is Outcome.WAITING_FOR_GLACIER
    )
    s3_control.complete_restores()
    done = OPERATIONS["replace"](h.ctx(storage_class="GLACIER"), entry_id)
    assert done.outcome is Outcome.DONE, done.reason
    kept = h.s3.head_object(Bucket=h.bucket, Key=done.details[CHANGED]["previous_key"])
    assert kept["StorageClass"] == "GLACIER" and kept["ContentLength"] == len(old)
    assert h.s3.head_object(Bucket=h.bucket, Key=entry_id)["StorageClass"] == "GLACIER"


def test_versioned_bucket_keeps_the_old_archive_as_a_noncurrent_version(h: Harness) -> None:
    h.s3.put_bucket_versioning(Bucket=h.bucket, VersioningConfiguration={"Status": "Enabled"})
    entry_id, old, new = _changed_entry(h)
    result = OPERATIONS["replace"](h.ctx(storage_class="GLACIER"), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    changed = result.details[CHANGED]
    assert changed["kept_by"] == "bucket versioning" and changed["previous_key"] == entry_id
    old_version = h.s3.get_object(Bucket=h.bucket, Key=entry_id, VersionId=changed["previous_version_id"])
    assert old_version["Body"].read() == old
    assert not any(k.startswith("previous/") for k in h.keys(entry_id)), "nothing copied"
    assert _manifest(h, entry_id)["previous_versions"][0]["version_id"] == changed["previous_version_id"]


def test_crash_at_every_step_of_a_version_change_then_rerun_loses_nothing(h: Harness) -> None:
    entry_id, old, new = _changed_entry(h)
    reference = OPERATIONS["replace"](h.ctx(), entry_id)
    assert reference.outcome is Outcome.DONE, reference.reason
    steps = reference.details["steps"]
    assert steps[0].startswith("keep the previous archive") and steps[1].startswith("stream the new original")
    for k in range(len(steps)):
        entry_id, old, new = _changed_entry(h)
        with pytest.raises(SimulatedCrash):
            OPERATIONS["replace"](h.ctx(on_step=crash_at(k)), entry_id)
        _nothing_lost(h, entry_id, old, new)
        result = OPERATIONS["replace"](h.ctx(), entry_id)
        if result.outcome is Outcome.WAITING_FOR_READY:
            result = OPERATIONS["replace"](h.ctx(), entry_id, after_wait=True)
        assert result.outcome in (Outcome.DONE, Outcome.DONE_BEFORE), (
            f"crash before step {k}: {result.reason}"
        )
        _nothing_lost(h, entry_id, old, new)
        assert h.s3_sha(entry_id) == _sha(new), f"crash before step {k}"
        assert {h.settings.archived_tag, h.settings.replaced_tag} <= h.tags(entry_id)
        assert h.original_sha(entry_id) not in (None, _sha(new), _sha(old))


def test_upload_of_the_new_version_interrupted_before_it_completed(h: Harness, s3_control: Any) -> None:
    entry_id, old, new = _changed_entry(h)
    s3_control.add_fault("error500", operation="CompleteMultipartUpload")
    failed = OPERATIONS["replace"](h.ctx(), entry_id)
    assert failed.outcome is Outcome.FAILED and failed.retryable, failed.reason
    s3_control.clear_faults()
    state = read_state(h.ctx(), entry_id)
    assert state.version_change_interrupted and state.manifest is not None
    assert state.manifest.sha256 == _sha(old), "the object in place is described by the old manifest"
    assert _manifest(h, entry_id)["verified_at"] is None
    _nothing_lost(h, entry_id, old, new)
    assert h.original_sha(entry_id) == _sha(new), "nothing deleted"
    done = OPERATIONS["replace"](h.ctx(), entry_id)
    assert done.outcome is Outcome.DONE, done.reason
    assert h.s3_sha(entry_id) == _sha(new)
    assert len(_manifest(h, entry_id)["previous_versions"]) == 1, "the old version is listed once"
    _nothing_lost(h, entry_id, old, new)
