"""Changed since archival: the entry's original differs from its archive; keep the old one, archive the new.

An owner may upload a new version of an archived entry before it is replaced (another flavor id,
size or content), or an old-tool archive may be a bad copy (its bytes or ETag differ from the
original's). Replacing on the strength of that archive would lose the new version, and refusing on
every run leaves the entry stuck, so archive, replace and repair all do this instead:

1. bucket without versioning and the old archive in Glacier: request its restore and wait (WAITING
   FOR GLACIER; nothing else changed);
2. keep the old archive: copied to ``previous/ENTRY_ID/ETAG`` (or kept by bucket versioning as a
   noncurrent version of ``ENTRY_ID``);                       -> re-run reuses the copy
3. stream the new original to ``s3://BUCKET/ENTRY_ID`` with a manifest that lists the old archive
   (and every earlier one) under ``previous_versions``.      -> a crash before the upload completes
   leaves the old object under the new, unverified manifest; `read_state` sees the interrupted
   change (`LiveState.version_change_interrupted`) and the re-run does 2 and 3 again.

Nothing is deleted here. The outcome's ``details["changed_since_archival"]`` says what happened
(see `changed_record`), for the run summary, the report and health.
"""

from __future__ import annotations

from typing import Any

from kaltura_archiver.archive_store import RESTORE_ONGOING, previous_key
from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.kaltura_content import prefetch
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.proof import Match
from kaltura_archiver.operations.runner import outcome
from kaltura_archiver.operations.state import LiveState, extension_of, size_matches
from kaltura_archiver.operations.steplog import StepLog

CHANGED = "changed_since_archival"
PREFETCH_BYTES = 4 * 1024 * 1024


def changed_record(state: LiveState, match: Match, kept: dict[str, Any]) -> dict[str, Any]:
    """What `details["changed_since_archival"]` holds: why, where the old archive is kept, old and new ids."""
    previous = state.manifest
    archive = state.archive
    return {
        "detected_by": match.rule,
        "detail": match.detail,
        "previous_key": kept.get("key"),
        "previous_version_id": kept.get("version_id"),
        "kept_by": kept.get("kept_by"),
        "previous_flavor_id": previous.flavor_id if previous else None,
        "previous_sha256": previous.sha256 if previous else None,
        "previous_size_bytes": archive.size_bytes if archive else None,
        "previous_source": previous.source if previous else "old-tool (no manifest)",
        "new_flavor_id": state.original.flavor_id if state.original else None,
    }


def archive_new_version(
    ctx: OperationContext, log: StepLog, state: LiveState, match: Match
) -> EntryOutcome | dict[str, Any]:
    """Keep the entry's archive as a previous version and archive its current original (see module docstring).

    Returns the `changed_record` when the new version is archived (or would be, in a dry run), else
    the outcome that stops here (waiting for Glacier, skipped, failed).
    """
    settings = ctx.settings
    original, archive = state.ready_original, state.archive
    assert archive is not None
    log.check(f"changed since archival ({match.rule}): {match.detail}")
    if original is None:
        return outcome(log, Outcome.FAILED, f"{CHANGED}: no READY original to archive", state)
    if settings.over_size_limit(original.size_kb):
        return outcome(
            log,
            Outcome.SKIPPED,
            f"{CHANGED} ({match.detail}), but the new original is {original.size_kb} KB, over the size limit"
            f" of {settings.size_limit_kb} KB: the archive is left as it is",
            state,
        )
    versioned = ctx.store.versioning_enabled()
    if not versioned and not archive.readable:
        if archive.restore_state == RESTORE_ONGOING:
            return outcome(
                log, Outcome.WAITING_FOR_GLACIER, f"{CHANGED}: restoring the old archive to keep it", state
            )
        if log.step(
            f"request a Glacier restore of s3://{settings.bucket}/{state.entry_id} to keep it as the previous"
            f" version (tier {settings.restore_tier}, {settings.restore_days} days)"
        ):
            log.check(f"restore request answered: {ctx.store.request_restore(state.entry_id, log.check)}")
        return outcome(
            log,
            Outcome.WAITING_FOR_GLACIER,
            f"{CHANGED} ({match.detail}): the old archive is being restored from Glacier so it can be kept",
            state,
        )
    reason = f"{CHANGED}: {match.detail}"
    where = (
        f"version {archive.version_id or 'null'} of s3://{settings.bucket}/{state.entry_id}"
        " (bucket versioning)"
        if versioned
        else f"s3://{settings.bucket}/{previous_key(state.entry_id, archive.etag)}"
    )
    kept: dict[str, Any] = {
        "key": state.entry_id if versioned else previous_key(state.entry_id, archive.etag),
        "version_id": (archive.version_id or "null") if versioned else None,
        "kept_by": "bucket versioning" if versioned else "copy",
    }
    if log.step(f"keep the previous archive ({archive.size_bytes} bytes) as {where}"):
        kept = ctx.store.keep_previous_version(state.entry_id, archive, state.manifest, reason, log.check)
    earlier = state.manifest.previous_versions if state.manifest is not None else ()
    target = f"s3://{settings.bucket}/{state.entry_id}"
    if log.step(
        f"stream the new original flavor {original.flavor_id} ({original.size_kb} KB) to {target}"
        f" ({settings.storage_class}), verify it and write its manifest listing the previous version"
    ):
        chunks = prefetch(ctx.download(original), max(2, PREFETCH_BYTES // ctx.download_chunk_bytes))
        manifest = ctx.store.upload_stream(
            state.entry_id,
            chunks,
            original.flavor_id,
            original.size_bytes,
            log.check,
            file_ext=extension_of(original),
            previous_versions=(*earlier, kept),
        )
        if not size_matches(original, manifest.size_bytes, settings.size_tolerance):
            return outcome(
                log,
                Outcome.FAILED,
                f"{CHANGED}: downloaded {manifest.size_bytes} bytes of the new original but Kaltura reports"
                f" {original.size_kb} KB",
                state,
            )
        log.check(f"new version archived: {manifest.size_bytes} bytes, sha256 {manifest.sha256}")
    return changed_record(state, match, kept)
