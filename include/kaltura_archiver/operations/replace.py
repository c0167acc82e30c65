"""replace (old name replace_video): swap an archived entry's video for the placeholder.

Invariant: an entry's flavors are deleted only while it carries BOTH tags `archived_to_s3` and
`flavors_deleted` and its S3 object exists and is verified. `flavors_deleted` is therefore set
*before* the first flavor is deleted, right after every precondition passed on the live entry
(entry status among `ctx.entry_statuses`, READY by default; READY original; verified S3 object
within the size limit; original proved equal to it by content - sha256 against the manifest, or
for an old-tool archive its S3 ETag, never by size alone (see `operations.proof`); created at
least `replace_min_age_years` before the reference time). The tag marks "the real video lives in
S3"; whoever finds an entry with both tags and no usable content knows the placeholder belongs there.

An old-tool archive proved equal gets its manifest written first (step 0), so later runs verify it
by size and ETag. One whose content cannot be proved (an SSE-KMS ETag, an unknown part size, an
original that cannot be downloaded) is skipped with the reason. An original proved different from
the archive ("changed since archival") gets its old archive kept and the new version archived
(`operations.versions`), then the replace goes on against the new archive.

Steps, and what a re-run finds after a crash following each:

0. (old-tool archive) write its manifest -> nothing else changed: the re-run verifies and goes on
1. add tag `flavors_deleted`           -> both tags, real original READY and matching:
                                          re-run re-checks everything and continues at 2
2. upload the placeholder (chunked token, named .mp4)
                                       -> nothing of the entry changed: re-run uploads again
3. delete derived flavors, then the original
                                       -> both tags, original partly or wholly gone: re-run
                                          uploads again, deletes what is left and continues at 4
4. media.addContent                    -> entry converting: re-run reports waiting for READY
5. (once READY) set the thumbnail to the placeholder image (thumbAsset.addFromImage + setAsDefault;
   an image added before is reused)  -> placeholder state: re-run reports replaced before

An entry with both tags whose READY original does not match S3 is the finished placeholder state.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from kaltura_archiver.entry_state import exemption
from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.proof import INTERRUPTED, UNPROVEN, Match
from kaltura_archiver.operations.runner import outcome, run_operation
from kaltura_archiver.operations.state import (
    LiveState,
    archive_problem,
    match_original,
    status_refusal,
    within_size_limit,
)
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.operations.steps import (
    placeholder_thumbnail,
    reread,
    save_proved_manifest,
    set_tag,
    swap_content,
    upload_placeholder,
)
from kaltura_archiver.operations.versions import CHANGED, archive_new_version

OPERATION = "replace"
DAYS_PER_YEAR = 365.2425


def replace_entry(ctx: OperationContext, entry_id: str, after_wait: bool = False) -> EntryOutcome:
    """Replace one entry's video by the placeholder (dry run unless ctx.live).

    `after_wait=True` is the call that follows a wait for READY: a finished placeholder state
    then counts as this run's DONE (thumbnail set) instead of DONE_BEFORE.
    """
    return run_operation(
        ctx, entry_id, OPERATION, lambda log, state: _replace(ctx, entry_id, log, state, after_wait)
    )


def _replace(
    ctx: OperationContext,
    entry_id: str,
    log: StepLog,
    state: LiveState,
    after_wait: bool,
    changed: dict[str, Any] | None = None,
) -> EntryOutcome:
    settings = ctx.settings
    ctx.placeholder.check()
    if not state.archived_tag:
        what = "tagged flavors_deleted but" if state.replaced_tag else "entry is"
        return outcome(
            log, Outcome.FAILED, f"{what} not tagged {settings.archived_tag}: archive it first", state
        )
    problem = archive_problem(ctx, state)
    if problem:
        return outcome(log, Outcome.FAILED, f"no verified S3 copy: {problem}", state)
    assert state.archive is not None
    if not within_size_limit(state.archive, settings.size_limit_kb):
        return outcome(
            log,
            Outcome.SKIPPED,
            f"S3 copy is {state.archive.size_bytes} bytes, over the size limit of {settings.size_limit_kb} KB"
            " (it could not be restored)",
            state,
        )
    if state.replaced_tag:
        return _continue_tagged(ctx, log, state, after_wait)
    refusal = _guard(ctx, state)
    if refusal:
        return outcome(log, Outcome.SKIPPED, refusal, state)
    if state.ready_original is None:
        return outcome(log, Outcome.FAILED, "no original flavor in status READY", state)
    if state.version_change_interrupted:
        match = INTERRUPTED
    else:
        match = match_original(ctx, state, log, by_content=True)
    log.check(f"original vs S3 ({match.rule}): {match.detail}")
    if match.verdict == UNPROVEN:
        return outcome(log, Outcome.SKIPPED, f"not replacing: {match.detail}", state, match_rule=match.rule)
    if match.differs:
        if changed is not None:
            return outcome(
                log,
                Outcome.FAILED,
                f"the original changed again while its new version was archived ({match.detail});"
                " not replacing",
                state,
                match_rule=match.rule,
            )
        return _replace_new_version(ctx, entry_id, log, state, after_wait, match)
    save_proved_manifest(ctx, log, match)
    set_tag(ctx, log, settings.replaced_tag, True)
    return swap_to_placeholder(ctx, log, state, match_rule=match.rule)


def _replace_new_version(
    ctx: OperationContext, entry_id: str, log: StepLog, state: LiveState, after_wait: bool, match: Match
) -> EntryOutcome:
    """Changed since archival: keep the old archive, archive the new version, then replace against it."""
    changed = archive_new_version(ctx, log, state, match)
    if isinstance(changed, EntryOutcome):
        return changed
    if log.live:
        result = _replace(ctx, entry_id, log, reread(ctx, log, state), after_wait, changed)
    else:
        set_tag(ctx, log, ctx.settings.replaced_tag, True)
        result = swap_to_placeholder(ctx, log, state, match_rule="sha256")
    return with_changed(result, changed)


def with_changed(result: EntryOutcome, changed: dict[str, Any]) -> EntryOutcome:
    """`result` saying that the entry changed since archival and where its old archive is kept."""
    where = changed.get("previous_key")
    if changed.get("previous_version_id"):
        where = f"{where} version {changed['previous_version_id']}"
    reason = f"{CHANGED}: previous archive kept at {where}, new version archived; {result.reason}"
    return dataclasses.replace(result, reason=reason, details={**result.details, CHANGED: changed})


def _continue_tagged(ctx: OperationContext, log: StepLog, state: LiveState, after_wait: bool) -> EntryOutcome:
    """Both tags set: finished, waiting, or interrupted before/while deleting or uploading."""
    if state.converting:
        return outcome(log, Outcome.WAITING_FOR_READY, "new content is still converting", state)
    if state.ready_original is not None:
        match = match_original(ctx, state, log, by_content=True)
        if match.verdict == UNPROVEN:
            return outcome(
                log,
                Outcome.SKIPPED,
                f"interrupted replace, but the real original cannot be proved equal to S3: {match.detail};"
                " not deleting it",
                state,
                match_rule=match.rule,
            )
        if not match.matches:
            if after_wait:
                placeholder_thumbnail(ctx, log)
                return outcome(log, Outcome.DONE, "placeholder is READY", state)
            return outcome(
                log, Outcome.DONE_BEFORE, "already replaced (both tags, original differs from S3)", state
            )
        refusal = _guard(ctx, state)
        if refusal:
            return outcome(log, Outcome.SKIPPED, refusal, state)
        log.check(
            f"interrupted replace: real original still present and matches S3 ({match.rule}); continuing"
        )
        save_proved_manifest(ctx, log, match)
        return swap_to_placeholder(ctx, log, state, match_rule=match.rule)
    log.check("interrupted replace: no usable original, the video is in S3; continuing with the placeholder")
    return swap_to_placeholder(ctx, log, state, match_rule="tags")


def swap_to_placeholder(
    ctx: OperationContext, log: StepLog, state: LiveState, match_rule: str
) -> EntryOutcome:
    """Upload the placeholder, delete all flavors, attach it, finish or report waiting (repair too)."""
    upload = upload_placeholder(ctx, log)
    swap_content(ctx, log, state, upload)
    after = reread(ctx, log, state)
    if log.live and (after.ready_original is None or after.converting):
        return outcome(log, Outcome.WAITING_FOR_READY, "placeholder uploaded; waiting for READY", after)
    placeholder_thumbnail(ctx, log)
    return outcome(log, Outcome.DONE, "replaced by the placeholder", after, match_rule=match_rule)


def _guard(ctx: OperationContext, state: LiveState) -> str | None:
    """Why the entry must not be replaced now (status, exempt, the created-N-years-ago guard), or None."""
    assert state.entry is not None
    status = status_refusal(ctx, state, OPERATION)
    if status:
        return status
    exempt = exemption(state.entry, ctx.settings)
    if exempt:
        return f"exempt from replacing: {exempt}"
    years = ctx.settings.replace_min_age_years
    cutoff = ctx.now - timedelta(days=DAYS_PER_YEAR * years)
    if state.entry.created_at > cutoff:
        return (
            f"created {state.entry.created_at:%Y-%m-%d}, less than {years:g} years before"
            f" {ctx.now:%Y-%m-%d}: replace guard"
        )
    return None
