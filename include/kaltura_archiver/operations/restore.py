"""restore (old name restore_from_s3): bring an entry's real video back from S3.

For an entry tagged `flavors_deleted` whose S3 object exists and is verified:

1. if the object sits in Glacier and is not readable: request a restore (tier and days from the
   settings) unless one is under way, and report WAITING_FOR_GLACIER (nothing else changes)
2. stream the S3 object into a chunked Kaltura upload token named with the original's extension
   (a refused upload, e.g. by the partner's file-type restriction, changes nothing)
3. delete the placeholder flavors - only when the current original is the placeholder (its size),
   failed, or already gone; any other READY original is never deleted; 4. media.addContent
5. once the new original is READY: verify it against the object (exact bytes; when Kaltura reports
   only KB, the downloaded content against the manifest), capture a new thumbnail from it (the
   placeholder image stays the thumbnail otherwise: Kaltura stops capturing its own once one is set
   as default), remove `flavors_deleted`

The upload carries the original's real extension (from the manifest; see `steps.archived_file_name`),
which Kaltura gives the new source flavor.

`flavors_deleted` is removed last, so until the real video is READY and verified the entry keeps
saying "the real video lives in S3". A crash after 2 changes nothing of the entry; after 3 it
leaves a NO_CONTENT entry with both tags (re-run uploads again); after 4 the re-run waits for
READY; after READY it verifies and removes the tag. An untagged entry whose original matches S3
is reported as restored before.
"""

from __future__ import annotations

from kaltura_archiver.archive_store import RESTORE_ONGOING
from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.runner import outcome, run_operation
from kaltura_archiver.operations.state import (
    LiveState,
    archive_problem,
    is_placeholder,
    match_original,
    restored_match,
)
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.operations.steps import (
    new_thumbnail,
    reread,
    save_proved_manifest,
    set_tag,
    swap_content,
    upload_archived_video,
)

OPERATION = "restore"


def restore_entry(ctx: OperationContext, entry_id: str, after_wait: bool = False) -> EntryOutcome:
    """Restore one entry's video from S3 (dry run unless ctx.live); see the module docstring."""
    resumed_as = "restored from S3" if after_wait else None
    return run_operation(
        ctx, entry_id, OPERATION, lambda log, state: _restore(ctx, entry_id, log, state), resumed_as
    )


def _restore(ctx: OperationContext, entry_id: str, log: StepLog, state: LiveState) -> EntryOutcome:
    settings = ctx.settings
    if state.archive is None:
        return outcome(log, Outcome.FAILED, f"no S3 object s3://{settings.bucket}/{entry_id}", state)
    problem = archive_problem(ctx, state)
    if problem:
        return outcome(log, Outcome.FAILED, f"S3 object is not a verified archive: {problem}", state)
    if not state.replaced_tag:
        if state.ready_original is not None and match_original(ctx, state, log, by_content=False).matches:
            return outcome(log, Outcome.DONE_BEFORE, "original already matches the S3 copy", state)
        return outcome(
            log,
            Outcome.FAILED,
            f"not tagged {settings.replaced_tag} and the original does not match S3: nothing to restore"
            " (see health / repair)",
            state,
        )
    return restore_content(ctx, log, state)


def restore_content(ctx: OperationContext, log: StepLog, state: LiveState) -> EntryOutcome:
    """Put the S3 video back as the content, then remove `flavors_deleted` (used by repair too)."""
    settings = ctx.settings
    assert state.archive is not None
    if state.converting:
        return outcome(log, Outcome.WAITING_FOR_READY, "new content is still converting", state)
    if state.ready_original is not None:
        back = restored_match(ctx, state, log)
        if back.matches:
            log.check(f"the real video is back and READY, verified against the S3 object ({back.detail})")
            save_proved_manifest(ctx, log, back)
            if state.replaced_tag:
                new_thumbnail(ctx, log)
                set_tag(ctx, log, settings.replaced_tag, False)
            return outcome(log, Outcome.DONE, "restored from S3", state)
        if not is_placeholder(state.ready_original, ctx.placeholder, settings.size_tolerance):
            return outcome(
                log,
                Outcome.FAILED,
                f"the current original {state.ready_original.flavor_id}"
                f" ({state.ready_original.size_kb} KB) is"
                " neither the placeholder nor the archived video; refusing to delete it",
                state,
            )
    if not state.archive.readable:
        if state.archive.restore_state == RESTORE_ONGOING:
            return outcome(log, Outcome.WAITING_FOR_GLACIER, "Glacier restore under way", state)
        if log.step(
            f"request a Glacier restore of s3://{settings.bucket}/{state.entry_id}"
            f" (tier {settings.restore_tier}, {settings.restore_days} days)"
        ):
            answer = ctx.store.request_restore(state.entry_id, log.check)
            log.check(f"restore request answered: {answer}")
        return outcome(log, Outcome.WAITING_FOR_GLACIER, "Glacier restore requested", state)
    upload = upload_archived_video(ctx, log, state)
    swap_content(ctx, log, state, upload)
    after = reread(ctx, log, state)
    if not log.live:
        if state.replaced_tag:
            set_tag(ctx, log, settings.replaced_tag, False)
        return outcome(log, Outcome.DONE, "would restore from S3", state)
    if after.ready_original is None or after.converting:
        return outcome(log, Outcome.WAITING_FOR_READY, "real video uploaded; waiting for READY", after)
    match = restored_match(ctx, after, log)
    if not match.matches:
        return outcome(
            log, Outcome.FAILED, f"restored original does not match the S3 copy: {match.detail}", after
        )
    save_proved_manifest(ctx, log, match)
    if state.replaced_tag:
        new_thumbnail(ctx, log)
        set_tag(ctx, log, settings.replaced_tag, False)
    return outcome(log, Outcome.DONE, "restored from S3", after)
