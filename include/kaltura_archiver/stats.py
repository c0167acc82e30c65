"""Account figures for deciding how much more to archive (SPEC section 4 "stats"), as of a given day.

Per state, in bytes: originals only in Kaltura (`kaltura_bytes`), archived and still in Kaltura
(`archived_kept_*`: the original is in both places), and replaced by the placeholder
(`replaced_entries`; `placeholder_bytes`: S3 bytes less the archived-and-kept originals, i.e. the
bytes that left Kaltura); `archived_bytes` / `archivable_bytes` are exact where `*_tb` are rounded.
The dashboard's cost model works from these.

Everything is computed relative to `as_of` (the DAG run's data interval end) so that history can be
backfilled: ages and windows move with `as_of`, S3 archives count when they existed by then. Tags are
the entries' current tags (Kaltura keeps no tag history), so a backfilled day shows today's tags on
the entries that existed on that day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter, as_utc

CREATED_BUCKETS = range(1, 9)
PLAYED_BUCKETS = range(1, 6)
TB = 1024**4


class StatsSource(Protocol):
    """What the figures are read from: exact counts and sizes of filter matches, and the archive."""

    def count(self, entry_filter: EntryFilter, reference: datetime) -> int: ...

    def original_bytes(self, entry_filter: EntryFilter, reference: datetime) -> int: ...

    def archive_totals(self, as_of: datetime) -> tuple[int, int]: ...


@dataclass(frozen=True)
class StatsOptions:
    """`years`: the archive/restore horizon N; `played_window_years`: window of the storage figure."""

    years: float = 3.0
    played_window_years: float = 1.0
    include_sizes: bool = True


def _unlimited(**criteria: Any) -> EntryFilter:
    return EntryFilter(max_entries=-1, **criteria)


def compute_stats(
    source: StatsSource,
    settings: ArchiverSettings,
    as_of: datetime,
    options: StatsOptions = StatsOptions(),
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """One row of figures as of `as_of` (a flat dict, ready for a table)."""
    ref = as_utc(as_of)
    archived, replaced = settings.archived_tag, settings.replaced_tag
    count = source.count
    row: dict[str, Any] = {"as_of": ref.date().isoformat()}
    row["total_entries"] = count(_unlimited(created_before=0), ref)
    row["archived_entries"] = count(_unlimited(created_before=0, tags=(archived,)), ref)
    row["replaced_entries"] = count(_unlimited(created_before=0, tags=(replaced,)), ref)
    kept = _unlimited(created_before=0, tags=(archived, f"!{replaced}"))
    row["archived_kept_entries"] = count(kept, ref)
    for k in CREATED_BUCKETS:
        bucket = {"created_before": k - 1, "created_within": k}
        row[f"created_{k}y_entries"] = count(_unlimited(**bucket), ref)
        row[f"created_{k}y_placeholders"] = count(_unlimited(**bucket, tags=(replaced,)), ref)
    for k in PLAYED_BUCKETS:
        row[f"played_{k}y_entries"] = count(_unlimited(unplayed_for=k - 1, played_within=k), ref)
    years = options.years
    archivable = _unlimited(unplayed_for=years, tags=(f"!{archived}",))
    restorable = _unlimited(played_within=years, tags=(replaced,))
    row["archivable_entries"] = count(archivable, ref)
    row["restorable_entries"] = count(restorable, ref)
    objects, archive_bytes = source.archive_totals(ref)
    row["s3_objects"] = objects
    row["archived_tb"] = round(archive_bytes / TB, 6)
    if options.include_sizes:
        window = _unlimited(played_within=options.played_window_years)
        row["played_window_years"] = options.played_window_years
        row["played_window_tb"] = round(source.original_bytes(window, ref) / TB, 6)
        archivable_bytes = source.original_bytes(archivable, ref)
        row["archivable_tb"] = round(archivable_bytes / TB, 6)
        kept_bytes = source.original_bytes(kept, ref)
        kaltura_only = _unlimited(created_before=0, tags=(f"!{archived}",))
        row["archived_bytes"] = archive_bytes
        row["archivable_bytes"] = archivable_bytes
        row["kaltura_bytes"] = source.original_bytes(kaltura_only, ref)
        row["archived_kept_bytes"] = kept_bytes
        row["placeholder_bytes"] = max(0, archive_bytes - kept_bytes)
    log(
        f"stats as of {row['as_of']}: {row['total_entries']} entries, {row['archived_entries']} archived, "
        f"{row['replaced_entries']} placeholders, {row['archivable_entries']} more archivable"
    )
    return row


VERIFICATION_FIELDS = (
    "last_proven_good",
    "last_verified",
    "last_verification_ok",
    "verified_entries",
    "verified_bytes",
    "archives_differing",
)


def verification_figures(history: Iterable[Mapping[str, Any]], as_of: datetime) -> dict[str, Any]:
    """The "last proven good" figures from the verification history (`kaltura_archiver.verification`).

    `last_proven_good`: the day of the latest verification run, up to `as_of`, in which every sampled
    archive was proved equal to what was archived; `last_verified` / `last_verification_ok`: the
    latest run and whether it was such a run; `verified_entries` / `verified_bytes`: distinct entries
    proved good and bytes read by all runs; `archives_differing`: entries whose latest result is a
    mismatch (an archive that differs from its manifest until it is dealt with). None / 0 without history.
    """
    limit = as_utc(as_of).isoformat()
    runs: dict[str, dict[str, Any]] = {}
    latest: dict[str, str] = {}
    good: set[str] = set()
    read = 0
    for row in sorted(history, key=lambda r: str(r.get("verified_at", ""))):
        stamp = str(row.get("verified_at", ""))
        if not stamp or stamp > limit:
            continue
        run = runs.setdefault(str(row.get("run_id")), {"at": stamp, "ok": True})
        run["at"] = max(run["at"], stamp)
        status = str(row.get("status", ""))
        run["ok"] = run["ok"] and status == "good"
        latest[str(row.get("entry_id"))] = status
        if status == "good":
            good.add(str(row.get("entry_id")))
        read += int(float(row.get("bytes_read") or 0))
    ordered = sorted(runs.values(), key=lambda r: r["at"])
    proven = [r["at"] for r in ordered if r["ok"]]
    return {
        "last_proven_good": proven[-1][:10] if proven else None,
        "last_verified": ordered[-1]["at"][:10] if ordered else None,
        "last_verification_ok": ordered[-1]["ok"] if ordered else None,
        "verified_entries": len(good),
        "verified_bytes": read,
        "archives_differing": sum(1 for s in latest.values() if s == "mismatch"),
    }
