"""A restore someone asked for: `restore` with the Glacier tier the request's urgency earned.

The outcome's `details` carry `planned_tier`, and `restore_tier` when this call asked S3 (the tier
S3 accepted) and `speed_upgrade` when it sped up a restore already under way.

The operation is `kaltura_archiver.operations.restore` unchanged (same checks, same crash safety);
only the tier differs. When the entry's Glacier restore is already under way at a slower tier (the
hourly run asked Bulk), a faster tier is requested as S3's documented speed upgrade; S3 refuses a
tier that is not faster (RestoreAlreadyInProgress) and the wait goes on. An Expedited request S3
has no capacity for is made again at Standard (`ArchiveStore.request_restore`).
"""

from __future__ import annotations

import copy
import dataclasses

from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.restore import restore_entry
from kaltura_archiver.restore_tiers import BULK, TIERS_FASTEST_FIRST

UNDER_WAY = "Glacier restore under way"


def restore_at_tier(
    ctx: OperationContext, entry_id: str, tier: str, after_wait: bool = False
) -> EntryOutcome:
    """Restore one entry (dry run unless ctx.live), asking Glacier for `tier`; see the module docstring."""
    if tier not in TIERS_FASTEST_FIRST:
        raise ValueError(f"tier must be one of {', '.join(TIERS_FASTEST_FIRST)}, got {tier!r}")
    settings = ctx.settings.with_changes(restore_tier=tier)
    store = copy.copy(ctx.store)  # the same client and bucket; restores are asked at `tier`
    store.settings = settings
    store.last_restore_tier = None
    tiered = dataclasses.replace(ctx, settings=settings, store=store)
    result = restore_entry(tiered, entry_id, after_wait=after_wait)
    details = {**result.details, "planned_tier": tier}
    if result.outcome is Outcome.WAITING_FOR_GLACIER and result.reason == UNDER_WAY and tier != BULK:
        if ctx.live:
            lines: list[str] = []
            answer = store.request_restore(entry_id, lines.append, tier=tier)
            for line in lines:
                ctx.steplog(entry_id, "restore").check(line)
            details["restore_tier"] = store.last_restore_tier or tier
            details["speed_upgrade"] = answer
        else:
            details["speed_upgrade"] = f"would ask S3 to speed the restore up to {tier}"
    elif store.last_restore_tier:
        details["restore_tier"] = store.last_restore_tier
    return dataclasses.replace(result, details=details)
