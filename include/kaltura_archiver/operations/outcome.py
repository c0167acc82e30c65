"""Per-entry outcome of a state-changing operation: what happened and why, JSON-serialisable."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    """How one operation on one entry ended."""

    DONE = "done"
    DONE_BEFORE = "done_before"
    SKIPPED = "skipped"
    WAITING_FOR_GLACIER = "waiting_for_glacier"
    WAITING_FOR_READY = "waiting_for_ready"
    FAILED = "failed"


@dataclass(frozen=True)
class EntryOutcome:
    """Result of one operation on one entry; `details` holds only plain, secret-free values."""

    entry_id: str
    operation: str
    outcome: Outcome
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def retryable(self) -> bool:
        """True when a later attempt may succeed without anyone changing anything."""
        return bool(self.details.get("retryable", False))

    @property
    def waiting(self) -> bool:
        """True when the entry waits for Glacier or for Kaltura to convert."""
        return self.outcome in (Outcome.WAITING_FOR_GLACIER, Outcome.WAITING_FOR_READY)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (XCom, reports)."""
        return {
            "entry_id": self.entry_id,
            "operation": self.operation,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryOutcome:
        """Inverse of `as_dict`."""
        return cls(
            entry_id=str(data["entry_id"]),
            operation=str(data["operation"]),
            outcome=Outcome(data["outcome"]),
            reason=str(data.get("reason", "")),
            details=dict(data.get("details") or {}),
        )
