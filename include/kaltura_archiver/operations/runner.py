"""Running one operation on one entry: turning every failure into an outcome with an exact reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from kaltura_archiver.archive_store import (
    ArchiveNotReadable,
    ArchiveStoreError,
    ArchiveVerificationError,
    StreamSizeMismatch,
)
from kaltura_archiver.kaltura_api import KalturaApiError
from kaltura_archiver.operations.context import OperationContext, PlaceholderError
from kaltura_archiver.operations.kaltura_content import ContentTransferError
from kaltura_archiver.operations.memory import pin_mmap_threshold
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.state import LiveState, read_state
from kaltura_archiver.operations.steplog import StepLog

Body = Callable[[StepLog, LiveState], EntryOutcome]


def outcome(
    log: StepLog,
    result: Outcome,
    reason: str,
    state: LiveState | None = None,
    **extra: Any,
) -> EntryOutcome:
    """Build an outcome for the entry `log` works on, with the state summary and the steps taken."""
    details: dict[str, Any] = {"dry_run": not log.live}
    if not log.live:
        reason = dry_run_reason(log.operation, result, reason)
    if state is not None:
        details.update(state.summary())
    details.update(extra)
    return EntryOutcome(log.entry_id, log.operation, result, reason, details)


WOULD_DO = {
    "archive": "would copy the original to S3, verify it and tag the entry",
    "replace": "would swap the entry's flavors for the placeholder video and tag the entry",
    "restore": "would put the original from S3 back in place of the placeholder",
    "repair": "would put the right content back",
}
"""What a dry run's DONE means per operation: the run changed nothing, its DRYRUN lines show the steps."""


def dry_run_reason(operation: str, result: Outcome, reason: str) -> str:
    """The reason a dry run reports: what it would do, never that it did it."""
    if reason.startswith("would "):
        return reason
    if result is Outcome.DONE:
        return WOULD_DO.get(operation, f"would {operation} the entry")
    if result is Outcome.WAITING_FOR_GLACIER and reason.endswith("requested"):
        return "would request a Glacier restore and wait for it"
    return reason.replace("; tag added", "; would add the tag")


def outcome_label(result: EntryOutcome) -> str:
    """How a result reads in a log line: "would be done" for a dry run's DONE, else the outcome."""
    if result.outcome is Outcome.DONE and result.details.get("dry_run"):
        return "would be done"
    return result.outcome.value


def classify_error(err: Exception) -> tuple[str, bool]:
    """(reason, retryable) for an exception raised while operating on an entry."""
    if isinstance(err, KalturaApiError):
        return f"Kaltura error: {err}", err.retryable
    if isinstance(err, ContentTransferError):
        return f"transfer failed: {err}", err.retryable
    if isinstance(err, ArchiveNotReadable):
        return f"S3 object not readable: {err}", True
    if isinstance(err, ArchiveVerificationError | StreamSizeMismatch):
        return f"S3 verification failed: {err}", False
    if isinstance(err, ArchiveStoreError):
        return f"S3 error: {err}", True
    if isinstance(err, PlaceholderError):
        return f"placeholder video: {err}", False
    if isinstance(err, requests.RequestException | BotoCoreError | ClientError | OSError):
        return f"{type(err).__name__} during transfer", True
    return f"unexpected {type(err).__name__}: {err}", False


def run_operation(
    ctx: OperationContext, entry_id: str, operation: str, body: Body, resumed_as: str | None = None
) -> EntryOutcome:
    """Read the entry's live state and run `body` on it with a fresh step log.

    A missing entry and any Exception become a FAILED outcome (crashes propagate). With `resumed_as`
    (the call after a wait), "done before" means this run's own work finished: DONE, `resumed_as`.
    """
    pin_mmap_threshold()
    log = ctx.steplog(entry_id, operation)
    try:
        state = read_state(ctx, entry_id)
        log.check(state.describe())
        if state.entry is None:
            result = outcome(log, Outcome.FAILED, "entry not found in Kaltura")
        else:
            result = body(log, state)
            if resumed_as and result.outcome is Outcome.DONE_BEFORE:
                result = dataclasses.replace(
                    result, outcome=Outcome.DONE, reason=f"{resumed_as} ({result.reason})"
                )
    except Exception as err:  # noqa: BLE001 - every failure is reported per entry
        reason, retryable = classify_error(err)
        result = outcome(log, Outcome.FAILED, reason, retryable=retryable, error=type(err).__name__)
    details = dict(result.details)
    details["steps"] = list(log.steps)
    result = EntryOutcome(result.entry_id, result.operation, result.outcome, result.reason, details)
    line = f"{outcome_label(result).upper()} {entry_id} {operation}: {result.reason}"
    if result.outcome is Outcome.FAILED:
        log.warn(line)
    else:
        log.check(line)
    return result
