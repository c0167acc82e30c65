"""archive (old name s3copy): copy an entry's original flavor to s3://BUCKET/ENTRY_ID, then tag it.

Steps and the state a crash after each leaves (the next run reads it and continues):

1. abort orphaned multipart uploads of the entry   -> nothing visible changed
2. stream the original into a verified S3 upload    -> object + manifest exist, tag missing:
                                                        the re-run finds the object, checks it
                                                        matches and only adds the tag
3. add tag `archived_to_s3`                         -> archived

The tag is added only after `ArchiveStore.upload_stream` verified the stored object (size and
S3's composite SHA256) against what was streamed; the manifest keeps the original's file extension
(restores upload with it). Work starts only on entries whose status is among
`ctx.entry_statuses` (READY unless the trigger named others). An existing object whose size differs
from the entry's original is never overwritten in place: it is kept as a previous version and the
current original archived (`operations.versions`, "changed since archival").
"""

from __future__ import annotations

from kaltura_archiver.entry_state import exemption
from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.kaltura_content import prefetch
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.proof import INTERRUPTED, Match
from kaltura_archiver.operations.runner import outcome, run_operation
from kaltura_archiver.operations.state import (
    LiveState,
    archive_problem,
    extension_of,
    match_original,
    size_matches,
    status_refusal,
)
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.operations.steps import set_tag
from kaltura_archiver.operations.versions import CHANGED, archive_new_version

OPERATION = "archive"
PREFETCH_BYTES = 4 * 1024 * 1024


def archive_entry(ctx: OperationContext, entry_id: str, after_wait: bool = False) -> EntryOutcome:
    """Archive one entry (dry run unless ctx.live); see the module docstring.

    Archive never waits; `after_wait` only gives all operations one signature.
    """
    return run_operation(ctx, entry_id, OPERATION, lambda log, state: _archive(ctx, entry_id, log, state))


def _archive(ctx: OperationContext, entry_id: str, log: StepLog, state: LiveState) -> EntryOutcome:
    settings = ctx.settings
    if state.archive is not None:
        if state.replaced_tag:
            if state.archived_tag:
                return outcome(log, Outcome.DONE_BEFORE, "already archived and replaced", state)
            return outcome(
                log,
                Outcome.FAILED,
                f"tagged {settings.replaced_tag} without {settings.archived_tag}: inconsistent,"
                " run health/repair",
                state,
            )
        problem = archive_problem(ctx, state)
        if problem:
            return outcome(
                log, Outcome.FAILED, f"S3 object exists but is not a verified archive: {problem}", state
            )
        if state.ready_original is None:
            return outcome(log, Outcome.FAILED, "S3 object exists but the entry has no READY original", state)
        if state.version_change_interrupted:
            match = INTERRUPTED
        else:
            match = match_original(ctx, state, log, by_content=False)
        if not match.matches:
            return _archive_new_version(ctx, log, state, match)
        if not state.archived_tag:
            set_tag(ctx, log, settings.archived_tag, True)
            return outcome(log, Outcome.DONE_BEFORE, f"already in S3 ({match.detail}); tag added", state)
        return outcome(log, Outcome.DONE_BEFORE, f"already in S3 ({match.detail})", state)
    if state.replaced_tag:
        return outcome(
            log,
            Outcome.FAILED,
            f"tagged {settings.replaced_tag} but no S3 object exists: the real video may be lost;"
            " not archiving",
            state,
        )
    exempt = exemption(state.entry, settings) if state.entry is not None else ""
    if exempt:
        return outcome(log, Outcome.SKIPPED, f"exempt from archiving: {exempt}", state)
    refusal = status_refusal(ctx, state, OPERATION)
    if refusal:
        return outcome(log, Outcome.SKIPPED, refusal, state)
    original = state.ready_original
    if original is None:
        return outcome(log, Outcome.FAILED, "no original flavor in status READY", state)
    if original.size_kb > settings.size_limit_kb:
        return outcome(
            log,
            Outcome.SKIPPED,
            f"original is {original.size_kb} KB, over the size limit of {settings.size_limit_kb} KB",
            state,
        )
    if log.step(f"abort orphaned multipart uploads of s3://{settings.bucket}/{entry_id}"):
        aborted = ctx.store.abort_orphaned_uploads(entry_id)
        if aborted:
            log.check(f"aborted {aborted} orphaned multipart upload(s)")
    target = f"s3://{settings.bucket}/{entry_id}"
    if log.step(
        f"stream original flavor {original.flavor_id} ({original.size_kb} KB) to {target}"
        f" ({settings.storage_class}), verify it and write its manifest"
    ):
        chunks = prefetch(ctx.download(original), max(2, PREFETCH_BYTES // ctx.download_chunk_bytes))
        manifest = ctx.store.upload_stream(
            entry_id,
            chunks,
            original.flavor_id,
            original.size_bytes,
            log.check,
            file_ext=extension_of(original),
        )
        if not size_matches(original, manifest.size_bytes, settings.size_tolerance):
            return outcome(
                log,
                Outcome.FAILED,
                f"downloaded {manifest.size_bytes} bytes but Kaltura reports {original.size_kb} KB;"
                " not tagging (the object stays for inspection)",
                state,
            )
        log.check(f"archived {manifest.size_bytes} bytes, sha256 {manifest.sha256}")
    set_tag(ctx, log, settings.archived_tag, True)
    return outcome(log, Outcome.DONE, f"original {original.flavor_id} archived to {target}", state)


def _archive_new_version(ctx: OperationContext, log: StepLog, state: LiveState, match: Match) -> EntryOutcome:
    """The S3 object differs from the original: keep it as a previous version, archive the original, tag."""
    exempt = exemption(state.entry, ctx.settings) if state.entry is not None else ""
    refusal = f"exempt from archiving: {exempt}" if exempt else status_refusal(ctx, state, OPERATION)
    if refusal:
        return outcome(
            log,
            Outcome.SKIPPED,
            f"S3 holds an object that differs from the original ({match.detail}); {refusal}",
        )
    changed = archive_new_version(ctx, log, state, match)
    if isinstance(changed, EntryOutcome):
        return changed
    set_tag(ctx, log, ctx.settings.archived_tag, True)
    where = changed["previous_key"] + (
        f" version {changed['previous_version_id']}" if changed.get("previous_version_id") else ""
    )
    return outcome(
        log,
        Outcome.DONE,
        f"{CHANGED}: previous archive kept at {where}, new version archived",
        state,
        **{CHANGED: changed},
    )
