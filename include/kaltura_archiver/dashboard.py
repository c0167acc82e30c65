"""What the archive dashboard shows, computed from the stats table, the latest health report and the runs.

Aggregates only: counts and bytes per state, per day and per week, and the cost model's money figures;
never an entry's name or owner.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kaltura_archiver.costs import Prices, Savings, savings

TB = 1024**4
HEALTH_REPORTS = "health/"
STATS_TABLE = "stats/kaltura_stats"


@dataclass(frozen=True)
class StateFigure:
    """Entries and bytes in one lifecycle state (bytes None when the stats do not know them)."""

    state: str
    entries: int
    bytes: float | None
    meaning: str


@dataclass(frozen=True)
class WeekFigure:
    """Entries archived and restored by live runs in one ISO week (Monday's date)."""

    week: str
    archived: int
    restored: int


@dataclass
class Dashboard:
    """Everything the page shows; `problems` lists what could not be read, in words for the page."""

    as_of: str = ""
    states: list[StateFigure] = field(default_factory=list)
    archivable_entries: int = 0
    archivable_bytes: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    weeks: list[WeekFigure] = field(default_factory=list)
    prices: Prices = field(default_factory=Prices)
    storage_class: str = "GLACIER"
    restore_tier: str = "Bulk"
    money: Savings | None = None
    health_report: str = ""
    problems: list[str] = field(default_factory=list)


def bytes_of(row: Mapping[str, Any], name: str) -> float:
    """Column `<name>_bytes`, or `<name>_tb` in bytes for rows written before the byte columns."""
    if f"{name}_bytes" in row:
        return _number(row, f"{name}_bytes")
    return _number(row, f"{name}_tb") * TB


def _number(row: Mapping[str, Any], name: str) -> float:
    value = row.get(name)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if number != number else number


def states_from_stats(row: Mapping[str, Any], unhealthy: int | None, restoring: int) -> list[StateFigure]:
    """Entries and bytes per state from one stats row (see `kaltura_archiver.stats`)."""
    total, archived = int(_number(row, "total_entries")), int(_number(row, "archived_entries"))
    replaced = int(_number(row, "replaced_entries"))
    kept = (
        int(_number(row, "archived_kept_entries")) if "archived_kept_entries" in row else archived - replaced
    )
    sized = "kaltura_bytes" in row

    def size(name: str) -> float | None:
        return _number(row, name) if sized else None

    figures = [
        StateFigure("In Kaltura", total - archived, size("kaltura_bytes"), "not archived: only in Kaltura"),
        StateFigure("Archived", kept, size("archived_kept_bytes"), "copied to S3, original still in Kaltura"),
        StateFigure(
            "Placeholder", replaced, size("placeholder_bytes"), "original only in S3, placeholder shown"
        ),
        StateFigure("Restoring", restoring, None, "restore tasks under way (Glacier or conversion)"),
    ]
    if unhealthy is not None:
        figures.append(StateFigure("Unhealthy", unhealthy, None, "failed the latest health audit"))
    return figures


def weekly(summaries: Iterable[tuple[date, str, Mapping[str, Any]]]) -> list[WeekFigure]:
    """Entries done per ISO week by live archive and restore runs, from their `summarize` results."""
    archived: Counter[date] = Counter()
    restored: Counter[date] = Counter()
    for day, operation, summary in summaries:
        if summary.get("dry_run", True):
            continue
        monday = date.fromordinal(day.toordinal() - day.weekday())
        done = int((summary.get("counts") or {}).get("done", 0))
        if operation == "archive":
            archived[monday] += done
        elif operation == "restore":
            restored[monday] += done
    weeks = sorted(set(archived) | set(restored))
    return [WeekFigure(w.isoformat(), archived[w], restored[w]) for w in weeks]


def verdict_counts(lines: Iterable[str]) -> Counter[str]:
    """Rows per verdict of a health report (TSV with a `verdict` column)."""
    reader = csv.DictReader(lines, delimiter="\t")
    return Counter(row.get("verdict") or "" for row in reader)


def build(
    rows: Sequence[Mapping[str, Any]],
    prices: Prices,
    storage_class: str,
    restore_tier: str,
    unhealthy: int | None = None,
    restoring: int = 0,
    weeks: Sequence[WeekFigure] = (),
) -> Dashboard:
    """The dashboard from the stats rows (oldest first) and the other figures."""
    board = Dashboard(
        prices=prices, storage_class=storage_class, restore_tier=restore_tier, weeks=list(weeks)
    )
    if not rows:
        return board
    latest = rows[-1]
    board.as_of = str(latest.get("as_of", ""))
    board.states = states_from_stats(latest, unhealthy, restoring)
    board.archivable_entries = int(_number(latest, "archivable_entries"))
    board.archivable_bytes = bytes_of(latest, "archivable")
    board.history = [dict(r) for r in rows]
    board.money = savings(
        prices,
        placeholder_bytes=bytes_of(latest, "placeholder"),
        archive_bytes=bytes_of(latest, "archived"),
        archivable_bytes=board.archivable_bytes,
        archive_objects=int(_number(latest, "s3_objects")),
        storage_class=storage_class,
        restore_tier=restore_tier,
    )
    return board


def monthly_savings_history(board: Dashboard) -> tuple[list[str], list[float]]:
    """(days, net saving per month as of each day) with the current prices."""
    days, values = [], []
    for row in board.history:
        result = savings(
            board.prices,
            placeholder_bytes=bytes_of(row, "placeholder"),
            archive_bytes=bytes_of(row, "archived"),
            archivable_bytes=0.0,
            archive_objects=int(_number(row, "s3_objects")),
            storage_class=board.storage_class,
            restore_tier=board.restore_tier,
        )
        days.append(str(row.get("as_of", "")))
        values.append(round(result.saved_month, 2))
    return days, values
