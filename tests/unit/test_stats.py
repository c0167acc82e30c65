"""compute_stats over an in-memory source; the stats table upserts by day and draws a chart."""

from __future__ import annotations

from datetime import UTC, datetime

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.records import EntryRecord
from kaltura_archiver.stats import compute_stats
from kaltura_archiver.stats_history import draw_chart, upsert_row

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def _entry(eid: str, created: datetime, played: datetime | None, tags: tuple[str, ...] = ()) -> EntryRecord:
    return EntryRecord(
        entry_id=eid,
        name=eid,
        tags=tags,
        category_ids=(),
        created_at=created,
        last_played_at=played,
        plays=0 if played is None else 3,
        status=2,
        media_type=1,
        creator_id="jdoe",
    )


class ListSource:
    """Counts by applying the filter to a list of entries (exact matching, as the real source does)."""

    def __init__(self, entries: list[EntryRecord], sizes: dict[str, int]) -> None:
        self.entries, self.sizes = entries, sizes

    def count(self, entry_filter: EntryFilter, reference: datetime) -> int:
        return sum(entry_filter.matches(e, reference) for e in self.entries)

    def original_bytes(self, entry_filter: EntryFilter, reference: datetime) -> int:
        return sum(self.sizes[e.entry_id] for e in self.entries if entry_filter.matches(e, reference))

    def archive_totals(self, as_of: datetime) -> tuple[int, int]:
        return 1, 2 * 1024**4


def test_compute_stats_buckets_and_tags() -> None:
    entries = [
        _entry("0_aaaaaaaa", datetime(2025, 12, 1, tzinfo=UTC), None),
        _entry(
            "0_bbbbbbbb",
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2021, 1, 1, tzinfo=UTC),
            ("archived_to_s3", "flavors_deleted"),
        ),
        _entry(
            "0_cccccccc",
            datetime(2019, 3, 1, tzinfo=UTC),
            datetime(2026, 5, 1, tzinfo=UTC),
            ("archived_to_s3",),
        ),
        _entry("0_dddddddd", datetime(2027, 1, 1, tzinfo=UTC), None),
        _entry("0_eeeeeeee", datetime(2015, 1, 1, tzinfo=UTC), None),
    ]
    sizes = {e.entry_id: 1024**4 for e in entries}
    row = compute_stats(ListSource(entries, sizes), ArchiverSettings(), AS_OF)
    assert row["total_entries"] == 4
    assert row["archived_entries"] == 2 and row["replaced_entries"] == 1
    assert row["created_1y_entries"] == 1
    assert row["created_7y_entries"] == 1 and row["created_8y_entries"] == 1
    assert row["created_7y_placeholders"] == 1
    assert row["played_1y_entries"] == 1 and row["played_5y_entries"] == 0
    assert row["restorable_entries"] == 0
    assert row["archivable_entries"] == 1 and row["archivable_tb"] == 1.0
    assert row["archived_tb"] == 2.0 and row["played_window_tb"] == 1.0
    assert row["archived_kept_entries"] == 1 and row["archived_kept_bytes"] == 1024**4
    assert row["kaltura_bytes"] == 2 * 1024**4 and row["placeholder_bytes"] == 1024**4
    assert row["archived_bytes"] == 2 * 1024**4 and row["archivable_bytes"] == 1024**4


def test_upsert_replaces_same_day_and_draws(tmp_path) -> None:
    table = tmp_path / "stats.csv"
    upsert_row(table, {"as_of": "2026-01-02", "archived_entries": 1, "archived_tb": 0.1})
    upsert_row(table, {"as_of": "2026-01-01", "archived_entries": 5, "archived_tb": 0.5})
    frame = upsert_row(table, {"as_of": "2026-01-02", "archived_entries": 2, "archived_tb": 0.2})
    assert list(frame["as_of"]) == ["2026-01-01", "2026-01-02"]
    assert list(frame["archived_entries"]) == [5, 2]
    png = draw_chart(frame, tmp_path / "stats.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
