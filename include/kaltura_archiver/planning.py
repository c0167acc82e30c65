"""Which selected entries an action run maps a task for, and the default selection of each action.

The `select` task classifies every match and keeps only the entries its operation can act on, so a
run over entries that are already done maps no task at all. Every per-entry task re-checks the live
entry before it changes anything; planning only avoids pointless tasks.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.entry_state import EntryState, classify_entry, exemption
from kaltura_archiver.filters import ACTION_STATUSES, YEAR_FIELDS, EntryFilter, years_ago
from kaltura_archiver.health import check_health, needs_repair
from kaltura_archiver.records import EntryRecord, FlavorRecord

SELECTION_CRITERIA = (*YEAR_FIELDS, "plays", "category", "tag", "entry_ids")


class Operation(enum.StrEnum):
    """The state-changing operations."""

    ARCHIVE = "archive"
    REPLACE = "replace"
    RESTORE = "restore"
    REPAIR = "repair"


LIVE_PLAYS_OPERATIONS = frozenset({Operation.REPLACE, Operation.RESTORE})
"""Operations whose select decides on plays as media.get shows them, not after Kaltura's daily plays
sync: a placeholder played an hour ago is restored, an entry played an hour ago is not replaced.
Archive keeps the synced view: copying an entry played since the sync loses nothing, and reading every
candidate live would cost a call per 50 entries of the whole account."""


def default_statuses(operation: Operation) -> tuple[int | str, ...] | None:
    """Statuses an operation selects unless the trigger names others (None: the filter's default)."""
    return ACTION_STATUSES if operation in (Operation.ARCHIVE, Operation.REPLACE) else None


def default_filters(operation: Operation, years: float, settings: ArchiverSettings) -> list[EntryFilter]:
    """The old deployment's schedule selections for N = `years` (their matches are unioned)."""
    archived, replaced = settings.archived_tag, settings.replaced_tag
    if operation is Operation.ARCHIVE:
        return [EntryFilter(unplayed_for=years, tags=(f"!{archived}",), status=ACTION_STATUSES)]
    if operation is Operation.REPLACE:
        return [EntryFilter(unplayed_for=years, tags=(archived, f"!{replaced}"), status=ACTION_STATUSES)]
    if operation is Operation.RESTORE:
        return [
            EntryFilter(played_within=years, tags=(replaced,)),
            EntryFilter(created_within=years, tags=(replaced,)),
        ]
    return [EntryFilter(tags=(archived,))]


def filters_from_params(
    operation: Operation, params: dict[str, Any], settings: ArchiverSettings
) -> list[EntryFilter]:
    """The user's filter when any criterion is set, else the default selection for `years`."""
    statuses = default_statuses(operation)
    if statuses is not None and params.get("status") in (None, "", [], ()):
        params = {**params, "status": list(statuses)}
    user_set = any(params.get(name) not in (None, "", [], ()) for name in SELECTION_CRITERIA)
    if user_set:
        return [EntryFilter.from_params(params)]
    years = float(params.get("years") or 0)
    limits = {
        k: params[k] for k in ("status", "media_type", "max_entries") if params.get(k) not in (None, [])
    }
    return [f.with_changes(**limits) for f in default_filters(operation, years, settings)]


@dataclass
class Plan:
    """Entry ids to act on, and how many matches were left alone and why."""

    operation: Operation
    entry_ids: list[str] = field(default_factory=list)
    left_alone: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    capped: bool = False

    def lines(self) -> list[str]:
        out = [f"{self.operation.value}: {len(self.entry_ids)} entries to act on"]
        out += [f"  state {name:<14} {n}" for name, n in sorted(self.states.items())]
        out += [f"  left alone: {reason}: {n}" for reason, n in sorted(self.left_alone.items())]
        if self.capped:
            out.append("  max_entries reached: more entries may need this action (next run)")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation.value,
            "to_act_on": len(self.entry_ids),
            "states": dict(self.states),
            "left_alone": dict(self.left_alone),
            "capped": self.capped,
        }


def why_left_alone(
    operation: Operation,
    entry: EntryRecord,
    original: FlavorRecord | None,
    s3_object: Any,
    settings: ArchiverSettings,
    reference: datetime,
) -> tuple[EntryState, str]:
    """The entry's state, and why `operation` has nothing to do for it ('' when it has)."""
    state = classify_entry(entry, original, s3_object, settings).state
    archived = entry.has_tag(settings.archived_tag)
    replaced = entry.has_tag(settings.replaced_tag)
    exempt = exemption(entry, settings)
    no_ready_original = original is None or not original.is_ready
    if operation is Operation.ARCHIVE:
        if exempt:
            return state, "exempt"
        if state in (EntryState.ARCHIVED, EntryState.PLACEHOLDER):
            return state, "done before"
        if archived:
            return state, "tagged archived (repair or health)"
        if no_ready_original:
            return state, "no READY original (see health)"
        if original is not None and settings.over_size_limit(original.size_kb):
            return state, f"original over the size limit of {settings.size_limit_kb} KB"
        return state, ""
    if operation is Operation.REPLACE:
        if exempt:
            return state, "exempt"
        if state is EntryState.PLACEHOLDER:
            return state, "done before"
        if not archived:
            return state, "not archived yet"
        if entry.created_at > years_ago(reference, settings.replace_min_age_years):
            return state, f"created less than {settings.replace_min_age_years:g} years ago"
        if no_ready_original and not replaced:
            return state, "no READY original (see health)"
        return state, ""
    if operation is Operation.RESTORE:
        return state, "" if replaced else "not replaced"
    return state, "" if needs_repair(check_health(entry, original, s3_object, settings)) else "healthy"


def plan_entries(
    operation: Operation,
    candidates: Iterable[tuple[EntryRecord, FlavorRecord | None, Any]],
    settings: ArchiverSettings,
    reference: datetime,
    max_entries: int,
    every_candidate: bool = False,
) -> Plan:
    """Keep the candidates `operation` can act on, at most `max_entries` (-1: all), first seen first.

    With `every_candidate` (the user named the entries) each one gets a task, so each gets an outcome
    of its own (done before, or an error saying why it cannot be worked on). Stops reading candidates
    once `max_entries` are kept, so a capped run costs no more than it needs.
    """
    plan = Plan(operation)
    seen: set[str] = set()
    for entry, original, s3_object in candidates:
        if entry.entry_id in seen:
            continue
        seen.add(entry.entry_id)
        state, reason = why_left_alone(operation, entry, original, s3_object, settings, reference)
        plan.states[state.value] += 1
        if reason and not every_candidate:
            plan.left_alone[reason] += 1
            continue
        if 0 <= max_entries <= len(plan.entry_ids):
            plan.capped = True
            break
        plan.entry_ids.append(entry.entry_id)
    return plan
