"""list, count and health reports: TSV written one page at a time (flat memory).

Video mode columns (the old tool's): last_played_date, plays, entry_id, status, archived_to_s3,
flavors_deleted, created_date, created (epoch seconds), creator_id, category_ids, categories; plus
``exempt`` and ``hidden`` (why Kaltura's default lists leave the entry out: pending_moderation,
rejected, recycled; the archiver lists them all). Flavor mode: entry_id, flavor_id, original,
size_KB, created_date, deleted_date, status.
Dates are ``YYYY-MM-DD HH:MM:SS`` UTC; never-played entries have an empty last_played_date.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.entry_state import exemption
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.health import HEALTH_COLUMNS, Verdict, check_health
from kaltura_archiver.records import EntryRecord, FlavorRecord, fmt_time
from kaltura_archiver.selection import (
    AUDIT_CONCURRENCY,
    FLAVORS_ALL,
    FLAVORS_NONE,
    FLAVORS_ORIGINAL,
    Selector,
)

VIDEO_COLUMNS: tuple[str, ...] = (
    "last_played_date",
    "plays",
    "entry_id",
    "status",
    "archived_to_s3",
    "flavors_deleted",
    "created_date",
    "created",
    "creator_id",
    "category_ids",
    "categories",
    "exempt",
    "hidden",
)
FLAVOR_COLUMNS: tuple[str, ...] = (
    "entry_id",
    "flavor_id",
    "original",
    "size_KB",
    "created_date",
    "deleted_date",
    "status",
)
MODES = ("video", "flavor")


class TsvWriter:
    """Appends pages of rows to one TSV (header once), to a path or an open text stream.

    Written with the csv module as pandas' ``to_csv(sep="\\t", index=False)`` writes it (minimal
    quoting, ``\\n`` line ends, None as an empty field), without building a DataFrame per page, which
    cost a bulk audit more than its rows' checks.
    """

    def __init__(self, target: str | Path | IO[str], columns: Sequence[str]) -> None:
        self.target = target
        self.columns = list(columns)
        self.rows = 0
        self._started = False

    def write(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append rows (dicts keyed by column); returns how many were written."""
        lines = [[_cell(row.get(column)) for column in self.columns] for row in rows]
        self._emit(lines)
        self.rows += len(lines)
        return len(lines)

    def finish(self) -> None:
        """Make sure the file exists with its header even when no row was written."""
        if not self._started:
            self._emit([])

    def _emit(self, lines: list[list[str]]) -> None:
        if not self._started:
            lines = [self.columns, *lines]
        if isinstance(self.target, (str, Path)):
            with open(self.target, "a" if self._started else "w", newline="", encoding="utf-8") as out:
                csv.writer(out, delimiter="\t", lineterminator="\n").writerows(lines)
        else:
            csv.writer(self.target, delimiter="\t", lineterminator="\n").writerows(lines)
        self._started = True


def _cell(value: Any) -> str:
    """A value as pandas writes it in a TSV: None as empty, everything else as its str()."""
    return "" if value is None else str(value)


def video_row(entry: EntryRecord, settings: ArchiverSettings) -> dict[str, Any]:
    """One list row (video mode) for an entry."""
    return {
        "last_played_date": fmt_time(entry.last_played_at),
        "plays": entry.plays,
        "entry_id": entry.entry_id,
        "status": entry.status_name,
        "archived_to_s3": entry.has_tag(settings.archived_tag),
        "flavors_deleted": entry.has_tag(settings.replaced_tag),
        "created_date": fmt_time(entry.created_at),
        "created": entry.created_epoch,
        "creator_id": entry.creator_id,
        "category_ids": ",".join(str(c) for c in entry.category_ids),
        "categories": ",".join(entry.categories),
        "exempt": exemption(entry, settings),
        "hidden": entry.hidden_reason,
    }


def flavor_row(flavor: FlavorRecord) -> dict[str, Any]:
    """One list row (flavor mode) for a flavor."""
    return {
        "entry_id": flavor.entry_id,
        "flavor_id": flavor.flavor_id,
        "original": flavor.is_original,
        "size_KB": flavor.size_kb,
        "created_date": fmt_time(flavor.created_at),
        "deleted_date": fmt_time(flavor.deleted_at),
        "status": flavor.status_name,
    }


@dataclass
class ReportResult:
    """What a report wrote: rows, entries, and per-verdict counts for health."""

    rows: int = 0
    entries: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    unhealthy_ids: list[str] = field(default_factory=list)

    @property
    def unhealthy(self) -> int:
        """Number of unhealthy entries."""
        return self.verdicts.get("unhealthy", 0)


def write_list(
    selector: Selector,
    flt: EntryFilter,
    reference: datetime,
    target: str | Path | IO[str],
    mode: str = "video",
    concurrency: int = AUDIT_CONCURRENCY,
) -> ReportResult:
    """Write the list report of ``flt`` (video or flavor mode) page by page; returns the counts.

    ``concurrency``: Kaltura windows walked and pages enriched side by side (1: one page at a time).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    writer = TsvWriter(target, VIDEO_COLUMNS if mode == "video" else FLAVOR_COLUMNS)
    result = ReportResult()
    flavors = FLAVORS_ALL if mode == "flavor" else FLAVORS_NONE
    views_pages = selector.iter_views(
        flt, reference, flavors=flavors, operation=f"list ({mode})", concurrency=concurrency
    )
    for views in views_pages:
        result.entries += len(views)
        if mode == "video":
            result.rows += writer.write(video_row(v.entry, selector.settings) for v in views)
        else:
            result.rows += writer.write(flavor_row(f) for v in views for f in v.flavors)
    writer.finish()
    return result


def write_health(
    selector: Selector,
    flt: EntryFilter,
    reference: datetime,
    target: str | Path | IO[str],
    max_unhealthy_ids: int = 1000,
    concurrency: int = AUDIT_CONCURRENCY,
) -> ReportResult:
    """Write the health report of ``flt`` page by page; returns rows and counts per verdict.

    ``concurrency``: Kaltura windows walked and pages enriched side by side (1: one page at a time).
    """
    writer = TsvWriter(target, HEALTH_COLUMNS)
    result = ReportResult(verdicts={v.value: 0 for v in Verdict})
    views_pages = selector.iter_views(
        flt, reference, flavors=FLAVORS_ORIGINAL, operation="health", concurrency=concurrency
    )
    for views in views_pages:
        rows = [check_health(v.entry, v.original, v.s3, selector.settings) for v in views]
        for row in rows:
            result.verdicts[row.verdict.value] += 1
            if row.verdict.value == "unhealthy" and len(result.unhealthy_ids) < max_unhealthy_ids:
                result.unhealthy_ids.append(row.entry_id)
        result.entries += len(rows)
        result.rows += writer.write(row.as_report_dict() for row in rows)
    writer.finish()
    return result


def count(selector: Selector, flt: EntryFilter, reference: datetime) -> int:
    """The exact number of entries ``flt`` matches."""
    return selector.count(flt, reference)


def read_tsv(text: str) -> pd.DataFrame:
    """Parse a report written by this module (for tests and downstream reports)."""
    return pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
