"""The operations against Kaltura's own rules, as the emulator models them from kaltura/server.

* Flavors made before 2020-08 report `sizeInBytes` 0 (alpha/lib/model/asset.php): such entries are
  archived, replaced and restored with byte counts from the download and the manifest.
* The upload token's file extension becomes the new source flavor's fileExt, and the partner's
  file-type restriction may refuse an extension (kUploadTokenMgr.php, myUploadUtils.class.php):
  restores upload with the original's real extension, the placeholder goes up as .mp4, and a refused
  upload changes nothing of the entry.
* The final chunk of a resumed upload may take longer than the client's 10 s file timeout
  (kUploadTokenMgr::uploadedLockImpl): the restore waits for the token instead of failing.
* Entry statuses: PENDING (4), ERROR_CONVERTING and the virus-scan strings are never READY; archive
  and replace start only on the statuses the trigger allows (READY by default).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from kaltura_archiver.operations import OPERATIONS, Outcome
from kaltura_archiver.operations.kaltura_content import add_content, upload_chunks
from kaltura_archiver.operations.readiness import ERROR, READY, WAITING, check_ready
from tests.integration.operations_harness import PLACEHOLDER_BYTES, Harness, build_harness, video_bytes

BEFORE_2020_08 = 7
PLACEHOLDER_SHA = hashlib.sha256(PLACEHOLDER_BYTES).hexdigest()


@pytest.fixture
def h(emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path) -> Harness:
    """The local stack wired for operations (the emulator's upload file-type restriction is on)."""
    assert h_settings(emulator)["file_type_restriction"] is True, "the stricter default"
    return build_harness(emulator, s3_bucket, tmp_path)


def h_settings(emulator: Any) -> dict[str, Any]:
    return dict(emulator.control.settings())


def _original(h: Harness, entry_id: str) -> dict[str, Any]:
    state = h.state(entry_id)
    return next(f for f in state["flavors"] if f["id"] == state["original_flavor_id"])


def _manifest(h: Harness, entry_id: str) -> dict[str, Any]:
    return dict(json.loads(h.s3.get_object(Bucket=h.bucket, Key=f"manifests/{entry_id}.json")["Body"].read()))


def _uploaded_entry(h: Harness, data: bytes, file_name: str) -> str:
    """An old entry whose content an owner uploaded as `file_name` (its flavor gets that extension)."""
    entry_id = h.create(years_old=5, status=7, flavors=False)
    token = upload_chunks(h.api, [data], file_name, 64 * 1024, len(data))
    add_content(h.api, entry_id, token.token_id)
    h.real_sha[entry_id] = hashlib.sha256(data).hexdigest()
    assert check_ready(h.api, entry_id).status == READY
    return entry_id


# -- sizeInBytes 0 before 2020-08 ---------------------------------------------------------------------


def test_kb_only_entry_is_archived_replaced_and_restored_end_to_end(h: Harness) -> None:
    entry_id = h.create(years_old=BEFORE_2020_08)
    original = h.api.list_flavors([entry_id])[entry_id][0]
    assert original.size_bytes is None and original.size_kb > 0, "Kaltura reports only KB"
    archived = OPERATIONS["archive"](h.ctx(), entry_id)
    assert archived.outcome is Outcome.DONE, archived.reason
    assert _manifest(h, entry_id)["size_bytes"] == h.state(entry_id)["original_size"], "downloaded bytes"
    replaced = OPERATIONS["replace"](h.ctx(), entry_id)
    assert replaced.outcome is Outcome.DONE and replaced.details["match_rule"] == "sha256", replaced.reason
    restored = OPERATIONS["restore"](h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored.reason
    assert h.original_sha(entry_id) == h.real_sha[entry_id]
    assert h.settings.replaced_tag not in h.tags(entry_id)


def test_kb_only_original_is_verified_by_content_before_the_tag_is_removed(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    entry_id = h.make("archived", years_old=BEFORE_2020_08)
    OPERATIONS["archive"](h.ctx(), entry_id)
    from kaltura_archiver.operations.kaltura_content import update_tags

    update_tags(h.api, entry_id, add=[h.settings.replaced_tag])  # a replace stopped before deleting
    with caplog.at_level(logging.INFO, logger="kaltura_archiver.operations"):
        result = OPERATIONS["restore"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert "verified against the S3 object (sha256" in caplog.text, "by content, not by KB"
    assert h.settings.replaced_tag not in h.tags(entry_id)
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


# -- file extensions and the file-type restriction ------------------------------------------------------


def test_restore_uploads_with_the_originals_real_extension(h: Harness) -> None:
    entry_id = _uploaded_entry(h, video_bytes(200_000, seed=5), "lecture.mov")
    assert _original(h, entry_id)["file_ext"] == "mov"
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert _manifest(h, entry_id)["file_ext"] == "mov"
    assert OPERATIONS["replace"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert _original(h, entry_id)["file_ext"] == "mp4", "the placeholder"
    restored = OPERATIONS["restore"](h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored.reason
    assert any(f"{entry_id}.mov" in step for step in restored.details["steps"])
    assert _original(h, entry_id)["file_ext"] == "mov"
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


def test_manifest_without_extension_falls_back_to_mp4(h: Harness) -> None:
    entry_id = h.make("placeholder")
    key = f"manifests/{entry_id}.json"
    manifest = _manifest(h, entry_id)
    manifest.pop("file_ext")
    h.s3.put_object(Bucket=h.bucket, Key=key, Body=json.dumps({**manifest, "format": 1}).encode())
    restored = OPERATIONS["restore"](h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored.reason
    assert any(f"{entry_id}.mp4" in step for step in restored.details["steps"])
    assert _original(h, entry_id)["file_ext"] == "mp4"


def test_placeholder_goes_up_as_mp4_whatever_its_file_is_called(h: Harness, tmp_path: Path) -> None:
    odd = tmp_path / "placeholder.bin"
    odd.write_bytes(PLACEHOLDER_BYTES)
    entry_id = h.make("archived")
    result = OPERATIONS["replace"](h.ctx(placeholder_video=str(odd)), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert _original(h, entry_id)["file_ext"] == "mp4"
    assert h.original_sha(entry_id) == PLACEHOLDER_SHA


def test_restricted_extension_is_refused_before_anything_is_deleted(h: Harness) -> None:
    entry_id = _uploaded_entry(h, video_bytes(150_000, seed=6), "lecture.mov")
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert OPERATIONS["replace"](h.ctx(), entry_id).outcome is Outcome.DONE
    whitelist = [ext for ext in h_settings(h.emulator)["file_extensions_whitelist"] if ext != "mov"]
    h.emulator.control.set_file_type_restriction(True, whitelist)
    before = h.snapshot(entry_id)
    result = OPERATIONS["restore"](h.ctx(), entry_id)
    assert result.outcome is Outcome.FAILED and not result.retryable, result.reason
    assert "RESTRICTED" in result.reason
    assert h.snapshot(entry_id) == before, "the placeholder stays, tags and S3 unchanged"
    assert h.original_sha(entry_id) == PLACEHOLDER_SHA
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]


# -- a slow final chunk ---------------------------------------------------------------------------------


def test_slow_final_chunk_of_a_restore_is_awaited_not_sent_again(h: Harness) -> None:
    entry_id = h.make("placeholder")
    h.emulator.control.set_final_chunk_seconds(13)
    calls_before = h.emulator.control.calls()
    started = time.monotonic()
    result = OPERATIONS["restore"](h.ctx(sleep=time.sleep), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert time.monotonic() - started >= 10, "the client's 10 s file timeout was hit"
    calls = {k.lower(): v - calls_before.get(k, 0) for k, v in h.emulator.control.calls().items()}
    chunks = -(-h.state(entry_id)["original_size"] // h.settings.upload_chunk_bytes)
    assert calls["uploadtoken.upload"] == chunks, "no chunk went up twice"
    assert calls["uploadtoken.get"] >= 2, "the token was re-read while Kaltura finished"
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


# -- entry statuses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"), [(4, "PENDING"), (-1, "ERROR_CONVERTING"), ("virusScan.Infected", "INFECTED")]
)
def test_archive_starts_only_on_ready_entries_unless_the_trigger_allows(
    h: Harness, status: Any, name: str
) -> None:
    entry_id = h.create()
    h.emulator.control.set_entry_status(entry_id, status)
    before = h.snapshot(entry_id)
    refused = OPERATIONS["archive"](h.ctx(), entry_id)
    assert refused.outcome is Outcome.SKIPPED, refused.reason
    assert f"entry status is {name}" in refused.reason and "status" in refused.reason
    assert h.snapshot(entry_id) == before
    allowed = OPERATIONS["archive"](h.ctx(entry_statuses=(2, status)), entry_id)
    assert "entry status is" not in allowed.reason, "the trigger named the status"


def test_replace_refuses_an_archived_entry_that_became_infected(h: Harness) -> None:
    entry_id = h.make("archived")
    h.emulator.control.set_entry_status(entry_id, "virusScan.ScanFailure")
    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.SKIPPED and "SCAN_FAILURE" in result.reason, result.reason
    assert h.original_sha(entry_id) == h.real_sha[entry_id]
    assert h.settings.replaced_tag not in h.tags(entry_id)


def test_readiness_never_takes_pending_or_virus_statuses_for_ready(h: Harness) -> None:
    entry_id = h.create()
    assert check_ready(h.api, entry_id).status == READY
    h.emulator.control.set_entry_status(entry_id, 4)
    assert check_ready(h.api, entry_id).status == WAITING
    for status in ("virusScan.Infected", "virusScan.ScanFailure", -1):
        h.emulator.control.set_entry_status(entry_id, status)
        ready = check_ready(h.api, entry_id)
        assert ready.status == ERROR, (status, ready)
