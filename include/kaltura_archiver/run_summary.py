"""Roll per-entry outcomes of one run up into counts, and decide whether the run failed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kaltura_archiver.operations.outcome import Outcome

OUTCOME_ORDER = [o.value for o in Outcome]


@dataclass(frozen=True)
class RunSummary:
    """Outcome counts of one operation run; entries without any outcome count as failed."""

    operation: str
    dry_run: bool
    counts: dict[str, int]
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        return self.counts.get(Outcome.FAILED.value, 0) == 0

    def lines(self) -> list[str]:
        """Human-readable lines for the task log."""
        mode = "DRYRUN" if self.dry_run else "EXEC"
        out = [
            f"{mode} {self.operation}: {self.total} entries" + (" (nothing changed)" if self.dry_run else "")
        ]
        for name in OUTCOME_ORDER:
            label = "would be done" if self.dry_run and name == Outcome.DONE.value else name
            out.append(f"  {label:<20} {self.counts.get(name, 0)}")
        out += [f"  FAILED {f['entry_id']}: {f['reason']}" for f in self.failed]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "dry_run": self.dry_run,
            "counts": dict(self.counts),
            "failed": list(self.failed),
            "total": self.total,
        }


def summarize_outcomes(
    operation: str,
    selected_ids: Sequence[str],
    outcomes: Iterable[Mapping[str, Any] | None],
    dry_run: bool,
) -> RunSummary:
    """Count outcomes per kind; a selected entry whose task left no outcome is failed (its task failed)."""
    counts: Counter[str] = Counter({name: 0 for name in OUTCOME_ORDER})
    failed: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in outcomes:
        if not item:
            continue
        entry_id = str(item["entry_id"])
        seen.add(entry_id)
        kind = Outcome(item["outcome"]).value
        counts[kind] += 1
        if kind == Outcome.FAILED.value:
            failed.append({"entry_id": entry_id, "reason": str(item.get("reason", ""))})
    for entry_id in selected_ids:
        if entry_id not in seen:
            counts[Outcome.FAILED.value] += 1
            failed.append({"entry_id": entry_id, "reason": "its task failed; see the entry's task log"})
    return RunSummary(operation=operation, dry_run=dry_run, counts=dict(counts), failed=failed)
