"""No video is lost: the seed's edge case, old-tool archives, Glacier and READY waits, faults, crashes."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from kaltura_archiver.operations import OPERATIONS, Outcome
from kaltura_archiver.operations.kaltura_content import (
    add_content,
    delete_flavor,
    update_tags,
    upload_chunks,
)
from tests.integration.operations_harness import (
    Harness,
    SimulatedCrash,
    build_harness,
    crash_at,
    video_bytes,
)


@pytest.fixture
def h(emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path) -> Harness:
    """The local stack wired for operations."""
    return build_harness(emulator, s3_bucket, tmp_path)


def _replace_original_as_a_user(h: Harness, entry_id: str, new_bytes: bytes) -> None:
    """What a Kaltura user with edit rights does: swap the entry's video for a new version."""
    for flavor in h.state(entry_id)["flavors"]:
        if flavor["status"] == 2:
            delete_flavor(h.api, flavor["id"])
    token = upload_chunks(h.api, [new_bytes], "v2.mp4", 64 * 1024, len(new_bytes))
    add_content(h.api, entry_id, token.token_id)


def _flavor_ids(h: Harness, entry_id: str) -> list[str]:
    return sorted(f["id"] for f in h.state(entry_id)["flavors"] if f["status"] == 2)


# -- the seed's edge case: a new version uploaded after archival (see test_operations_versions) ----


def test_replace_keeps_the_old_archive_of_a_new_version_with_another_size(h: Harness) -> None:
    entry_id = h.make("archived")
    old = h.s3.get_object(Bucket=h.bucket, Key=entry_id)["Body"].read()
    assert hashlib.sha256(old).hexdigest() == h.real_sha[entry_id]
    new = video_bytes(220_000, seed=1)
    _replace_original_as_a_user(h, entry_id, new)
    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    changed = result.details["changed_since_archival"]
    assert changed["detected_by"] == "size"
    assert h.s3.get_object(Bucket=h.bucket, Key=changed["previous_key"])["Body"].read() == old
    assert h.s3_sha(entry_id) == hashlib.sha256(new).hexdigest(), "the new version is archived"


def test_replace_detects_a_same_size_new_version_by_sha256(h: Harness) -> None:
    entry_id = h.make("archived")
    size = h.state(entry_id)["original_size"]
    new = video_bytes(size, seed=2)
    _replace_original_as_a_user(h, entry_id, new)
    result = OPERATIONS["replace"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert result.details["changed_since_archival"]["detected_by"] == "sha256"
    assert h.s3_sha(entry_id) == hashlib.sha256(new).hexdigest()


def test_repair_never_overwrites_a_newer_version(h: Harness) -> None:
    entry_id = h.make("archived")
    new = video_bytes(150_000, seed=3)
    _replace_original_as_a_user(h, entry_id, new)
    flavors = _flavor_ids(h, entry_id)
    result = OPERATIONS["repair"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert "not touched" in result.reason and "changed_since_archival" in result.details
    assert _flavor_ids(h, entry_id) == flavors, "the new version stays the entry's original"
    assert h.original_sha(entry_id) == hashlib.sha256(new).hexdigest()
    assert h.s3_sha(entry_id) == hashlib.sha256(new).hexdigest()
    assert OPERATIONS["repair"](h.ctx(), entry_id).outcome is Outcome.DONE_BEFORE


# -- waiting -------------------------------------------------------------------------------------------


def test_restore_waits_for_glacier(h: Harness, s3_control: Any) -> None:
    entry_id = h.create()
    assert OPERATIONS["archive"](h.ctx(storage_class="GLACIER"), entry_id).outcome is Outcome.DONE
    assert OPERATIONS["replace"](h.ctx(storage_class="GLACIER"), entry_id).outcome is Outcome.DONE
    s3_control.set_config(glacier_restore_seconds=1.5)
    first = OPERATIONS["restore"](h.ctx(storage_class="GLACIER"), entry_id)
    assert first.outcome is Outcome.WAITING_FOR_GLACIER
    assert "requested" in first.reason
    second = OPERATIONS["restore"](h.ctx(storage_class="GLACIER"), entry_id)
    assert second.outcome is Outcome.WAITING_FOR_GLACIER
    assert "under way" in second.reason
    assert h.original_sha(entry_id) != h.real_sha[entry_id], "the placeholder stays until S3 is readable"
    time.sleep(1.7)
    done = OPERATIONS["restore"](h.ctx(storage_class="GLACIER"), entry_id)
    assert done.outcome is Outcome.DONE, done.reason
    assert h.original_sha(entry_id) == h.real_sha[entry_id]
    assert h.settings.replaced_tag not in h.tags(entry_id)


def test_replace_and_restore_wait_for_ready(h: Harness) -> None:
    entry_id = h.make("archived")
    h.emulator.control.set_conversion_seconds(0.6)
    thumbs = h.state(entry_id)["thumb_version"]
    waiting = OPERATIONS["replace"](h.ctx(), entry_id)
    assert waiting.outcome is Outcome.WAITING_FOR_READY
    assert OPERATIONS["replace"](h.ctx(), entry_id).outcome is Outcome.WAITING_FOR_READY
    time.sleep(0.8)
    done = OPERATIONS["replace"](h.ctx(), entry_id, after_wait=True)
    assert done.outcome is Outcome.DONE
    assert h.state(entry_id)["thumb_version"] > thumbs
    assert OPERATIONS["restore"](h.ctx(), entry_id).outcome is Outcome.WAITING_FOR_READY
    assert h.settings.replaced_tag in h.tags(entry_id), "the tag stays until the real video is READY"
    time.sleep(0.8)
    restored = OPERATIONS["restore"](h.ctx(), entry_id, after_wait=True)
    assert restored.outcome is Outcome.DONE
    assert h.settings.replaced_tag not in h.tags(entry_id)
    assert h.original_sha(entry_id) == h.real_sha[entry_id]


# -- injected faults: a retryable failure, then a correct result on retry ------------------------------


def test_dropped_download_is_resumed(h: Harness) -> None:
    entry_id = h.create()
    h.emulator.control.add_fault(service="download", drop_mid_download=True, max_fires=2)
    result = OPERATIONS["archive"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]
    assert sum(f["fired"] for f in h.emulator.control.faults()) == 2


def test_download_that_keeps_dropping_fails_retryably_then_succeeds(h: Harness) -> None:
    entry_id = h.create()
    h.emulator.control.add_fault(service="download", drop_mid_download=True)
    failed = OPERATIONS["archive"](h.ctx(), entry_id)
    assert failed.outcome is Outcome.FAILED and failed.retryable, failed.reason
    assert h.s3_sha(entry_id) is None and h.settings.archived_tag not in h.tags(entry_id)
    assert not h.s3.list_multipart_uploads(Bucket=h.bucket).get("Uploads"), "the upload was aborted"
    h.emulator.control.clear_faults()
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]


def test_action_blocked_is_retried_or_fails_retryably(h: Harness) -> None:
    entry_id = h.create()
    h.emulator.control.add_fault(service="media", action="update", code="ACTION_BLOCKED", max_fires=2)
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE
    other = h.create()
    h.emulator.control.add_fault(service="media", action="update", code="ACTION_BLOCKED")
    failed = OPERATIONS["archive"](h.ctx(), other)
    assert failed.outcome is Outcome.FAILED and failed.retryable
    assert h.settings.archived_tag not in h.tags(other)
    h.emulator.control.clear_faults()
    again = OPERATIONS["archive"](h.ctx(), other)
    assert again.outcome is Outcome.DONE_BEFORE and "tag added" in again.reason
    assert h.settings.archived_tag in h.tags(other)


def test_failed_upload_chunk_fails_retryably_and_the_rerun_finishes(h: Harness) -> None:
    entry_id = h.make("archived")
    h.emulator.control.add_fault(service="uploadtoken", action="upload", code="INTERNAL_SERVER_ERROR")
    failed = OPERATIONS["replace"](h.ctx(), entry_id)
    assert failed.outcome is Outcome.FAILED and failed.retryable, failed.reason
    assert not h.lost_video(entry_id)
    h.emulator.control.clear_faults()
    done = OPERATIONS["replace"](h.ctx(), entry_id)
    assert done.outcome is Outcome.DONE, done.reason
    assert {h.settings.archived_tag, h.settings.replaced_tag} <= h.tags(entry_id)
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]


def test_s3_connection_dropped_during_upload_fails_retryably_then_succeeds(
    h: Harness, s3_control: Any
) -> None:
    entry_id = h.create()
    s3_control.add_fault("drop", operation="UploadPart")
    failed = OPERATIONS["archive"](h.ctx(), entry_id)
    assert failed.outcome is Outcome.FAILED and failed.retryable, failed.reason
    assert h.settings.archived_tag not in h.tags(entry_id)
    s3_control.clear_faults()
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]


# -- a crash between every pair of steps, then a re-run ------------------------------------------------

CRASH_CASES = [
    ("archive", "initial", "archived"),
    ("replace", "archived", "placeholder"),
    ("restore", "placeholder", "archived"),
    ("repair", "placeholder-lost", "placeholder"),
]


def _finish(h: Harness, operation: str, entry_id: str) -> Outcome:
    """Re-run an operation until it ends (a crashed run's successor); at most three runs."""
    result = OPERATIONS[operation](h.ctx(), entry_id)
    for _ in range(2):
        if result.outcome not in (Outcome.WAITING_FOR_READY, Outcome.WAITING_FOR_GLACIER):
            break
        result = OPERATIONS[operation](h.ctx(), entry_id, after_wait=True)
    return result.outcome


def _prepare(h: Harness, state: str) -> str:
    if state != "placeholder-lost":
        return h.make(state)
    entry_id = h.make("placeholder")
    for flavor in h.state(entry_id)["flavors"]:
        if flavor["status"] == 2:
            delete_flavor(h.api, flavor["id"])
    return entry_id


@pytest.mark.parametrize(("operation", "before", "after"), CRASH_CASES)
def test_crash_between_any_two_steps_then_rerun_loses_nothing(
    h: Harness, operation: str, before: str, after: str
) -> None:
    reference = OPERATIONS[operation](h.ctx(), _prepare(h, before))
    assert reference.outcome is Outcome.DONE, reference.reason
    steps = len(reference.details["steps"])
    assert steps >= 2
    archived, replaced = h.settings.archived_tag, h.settings.replaced_tag
    for k in range(steps):
        entry_id = _prepare(h, before)
        with pytest.raises(SimulatedCrash):
            OPERATIONS[operation](h.ctx(on_step=crash_at(k)), entry_id)
        assert not h.lost_video(entry_id), f"crash before step {k}"
        final = _finish(h, operation, entry_id)
        assert final in (Outcome.DONE, Outcome.DONE_BEFORE), f"crash before step {k}: {final}"
        tags = h.tags(entry_id)
        assert h.s3_sha(entry_id) == h.real_sha[entry_id], f"crash before step {k}"
        if after == "archived":
            assert archived in tags and replaced not in tags, f"crash before step {k}: {tags}"
            assert h.original_sha(entry_id) == h.real_sha[entry_id]
        else:
            assert {archived, replaced} <= tags, f"crash before step {k}: {tags}"
            assert h.original_sha(entry_id) not in (None, h.real_sha[entry_id])


def test_orphaned_multipart_upload_of_a_killed_run_is_aborted(h: Harness) -> None:
    entry_id = h.create()
    upload = h.s3.create_multipart_upload(Bucket=h.bucket, Key=entry_id)
    h.s3.upload_part(
        Bucket=h.bucket, Key=entry_id, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024
    )
    assert OPERATIONS["archive"](h.ctx(), entry_id).outcome is Outcome.DONE
    assert not h.s3.list_multipart_uploads(Bucket=h.bucket).get("Uploads")
    assert h.s3_sha(entry_id) == h.real_sha[entry_id]


def test_no_secret_in_logs_or_outcomes(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    outcomes = []
    with caplog.at_level("DEBUG"):
        entry_id = h.create()
        for name in ("archive", "replace", "restore", "repair"):
            outcomes.append(json.dumps(OPERATIONS[name](h.ctx(), entry_id).as_dict()))
    ks = h.api._ks
    assert ks
    text = caplog.text + "".join(outcomes)
    assert "EXEC" in caplog.text
    assert h.emulator.admin_secret not in text
    assert ks not in text


# -- repair ---------------------------------------------------------------------------------------------


def test_repair_brings_back_the_video_of_an_archived_entry_that_lost_its_content(h: Harness) -> None:
    entry_id = h.make("archived")
    for flavor in h.state(entry_id)["flavors"]:
        if flavor["status"] == 2:
            delete_flavor(h.api, flavor["id"])
    assert h.original_sha(entry_id) is None
    result = OPERATIONS["repair"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert h.original_sha(entry_id) == h.real_sha[entry_id]
    assert h.settings.replaced_tag not in h.tags(entry_id)


def test_repair_only_untags_an_interrupted_replace_whose_real_video_is_intact(h: Harness) -> None:
    entry_id = h.make("archived")
    update_tags(h.api, entry_id, add=[h.settings.replaced_tag])
    flavors = _flavor_ids(h, entry_id)
    result = OPERATIONS["repair"](h.ctx(), entry_id)
    assert result.outcome is Outcome.DONE, result.reason
    assert _flavor_ids(h, entry_id) == flavors, "nothing deleted"
    assert h.settings.replaced_tag not in h.tags(entry_id)


def test_repair_reports_an_entry_it_cannot_repair(h: Harness) -> None:
    entry_id = h.create(tags=(h.settings.archived_tag,))
    result = OPERATIONS["repair"](h.ctx(), entry_id)
    assert result.outcome is Outcome.FAILED
    assert "cannot be repaired" in result.reason and "no S3 object" in result.reason
