"""repair: put the right content back into an entry that fails the health check.

Health is `kaltura_archiver.health.check_health` (SPEC section 4, sizes only): a READY original;
an S3 object exactly when tagged `archived_to_s3`; `flavors_deleted` only together with
`archived_to_s3`; archived and not replaced -> original matches S3; replaced -> it does not.

A sick entry is repaired only when it is tagged `archived_to_s3` and its S3 object exists, is
verified and within the size limit. Then:

* tagged `flavors_deleted`, real video READY and matching S3 (an interrupted replace or restore):
  remove `flavors_deleted` - the real video is in place, nothing is deleted;
* tagged `flavors_deleted`, no usable original: delete what is left, upload the placeholder;
* not tagged `flavors_deleted`, original gone, failed or the placeholder: bring the video back
  from S3 (requesting a Glacier restore and waiting when needed);
* not tagged `flavors_deleted` and a READY original that is neither the placeholder nor the
  archived video (a new version uploaded after archival): the original is never touched; the old
  archive is kept as a previous version and the new one archived (`operations.versions`).
Anything else is reported as not repairable, with the reason.
"""

from __future__ import annotations

from kaltura_archiver.health import check_health, needs_repair
from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.replace import swap_to_placeholder
from kaltura_archiver.operations.restore import restore_content
from kaltura_archiver.operations.runner import outcome, run_operation
from kaltura_archiver.operations.state import (
    LiveState,
    archive_problem,
    is_placeholder,
    match_original,
    within_size_limit,
)
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.operations.steps import new_thumbnail, set_tag
from kaltura_archiver.operations.versions import CHANGED, archive_new_version

OPERATION = "repair"


def repair_entry(ctx: OperationContext, entry_id: str, after_wait: bool = False) -> EntryOutcome:
    """Repair one entry (dry run unless ctx.live); see the module docstring."""
    resumed_as = "repaired" if after_wait else None
    return run_operation(
        ctx, entry_id, OPERATION, lambda log, state: _repair(ctx, entry_id, log, state), resumed_as
    )


def health_problem(ctx: OperationContext, state: LiveState) -> str | None:
    """Why the entry fails the health check (the health report's own rules), or None when it passes."""
    assert state.entry is not None
    row = check_health(state.entry, state.original, state.archive, ctx.settings)
    return row.explanation if needs_repair(row) else None


def _repair(ctx: OperationContext, entry_id: str, log: StepLog, state: LiveState) -> EntryOutcome:
    settings = ctx.settings
    sick = health_problem(ctx, state)
    if sick is None:
        return outcome(log, Outcome.DONE_BEFORE, "healthy, nothing to repair", state)
    log.check(f"unhealthy: {sick}")
    if state.converting:
        return outcome(log, Outcome.WAITING_FOR_READY, f"{sick}; content is still converting", state)
    if not state.archived_tag:
        return outcome(
            log, Outcome.FAILED, f"cannot be repaired: {sick} (not tagged {settings.archived_tag})", state
        )
    problem = archive_problem(ctx, state)
    if problem:
        return outcome(
            log, Outcome.FAILED, f"cannot be repaired: {sick}; no usable S3 copy: {problem}", state
        )
    assert state.archive is not None
    if not within_size_limit(state.archive, settings.size_limit_kb):
        return outcome(
            log, Outcome.FAILED, f"cannot be repaired: {sick}; S3 copy is over the size limit", state
        )
    original = state.ready_original
    if state.replaced_tag:
        if original is not None and match_original(ctx, state, log, by_content=False).matches:
            new_thumbnail(ctx, log)
            set_tag(ctx, log, settings.replaced_tag, False)
            return outcome(log, Outcome.DONE, "real video in place; replaced tag removed", state)
        return swap_to_placeholder(ctx, log, state, match_rule="tags")
    if original is not None and not is_placeholder(original, ctx.placeholder, settings.size_tolerance):
        match = match_original(ctx, state, log, by_content=False)
        if match.matches and not state.version_change_interrupted:
            return outcome(
                log,
                Outcome.FAILED,
                f"cannot be repaired: {sick}; the original {original.flavor_id} matches S3 by size",
                state,
            )
        changed = archive_new_version(ctx, log, state, match)
        if isinstance(changed, EntryOutcome):
            return changed
        return outcome(
            log,
            Outcome.DONE,
            f"{CHANGED}: the original {original.flavor_id} is a newer version; previous archive kept at"
            f" {changed['previous_key']}, new version archived (the original was not touched)",
            state,
            **{CHANGED: changed},
        )
    return restore_content(ctx, log, state)
