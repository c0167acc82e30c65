"""EntryFilter validation, exact matching, params and schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kaltura_archiver.filters import DEFAULT_STATUSES, EntryFilter, FilterError, years_ago
from kaltura_archiver.records import EntryRecord

REF = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def entry(
    created_years: float,
    played_years: float | None = None,
    plays: int = 0,
    tags: tuple[str, ...] = (),
    status: int = 2,
    media_type: int = 1,
    categories: tuple[int, ...] = (),
    entry_id: str = "0_abcd1234",
) -> EntryRecord:
    return EntryRecord(
        entry_id=entry_id,
        created_at=years_ago(REF, created_years),
        last_played_at=None if played_years is None else years_ago(REF, played_years),
        plays=plays,
        tags=tags,
        status=status,
        media_type=media_type,
        category_ids=categories,
    )


def test_defaults_match_the_seed_plus_virus_scan_statuses() -> None:
    """The old tool's statuses, plus the virus-scan plugin's string statuses so reports count them."""
    f = EntryFilter()
    assert f.status == DEFAULT_STATUSES
    assert DEFAULT_STATUSES == (-1, -2, 0, 1, 2, 7, 4, "virusScan.Infected", "virusScan.ScanFailure")
    assert f.media_type == "video" and f.max_entries == 500 and f.page_size == 500 and f.first_page == 1


def test_years_ago_calendar_and_leap_day() -> None:
    assert years_ago(REF, 3) == datetime(2021, 6, 15, 12, 0, tzinfo=UTC)
    assert years_ago(datetime(2024, 2, 29, tzinfo=UTC), 1) == datetime(2023, 2, 28, tzinfo=UTC)
    assert years_ago(REF, 0.5) == REF - timedelta(days=182.625)
    assert years_ago(REF.replace(tzinfo=None), 1) == datetime(2023, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"created_before": -1}, "created_before must be a non-negative"),
        ({"unplayed_for": "abc"}, "unplayed_for must be a number"),
        ({"status": [2, 42]}, "unknown entry status 42"),
        ({"status": []}, "at least one entry status"),
        ({"created_before": 5, "created_within": 3}, "contradict"),
        ({"unplayed_for": 3, "played_within": 2}, "contradict"),
        ({"unplayed_for": 3, "created_within": 2}, "contradict"),
        ({"played_within": 2, "plays": 0}, "contradict"),
        ({"entry_ids": ["0_abc123de", "bad id"]}, "malformed entry id 'bad id'"),
        ({"entry_ids": "1_ABCDEFGH"}, "malformed entry id"),
        ({"tags": ["x" * 101]}, "longer than Kaltura's 100 bytes"),
        ({"tags": ["a"]}, "Kaltura drops tags under 2 characters"),
        ({"tags": ["a,b"]}, "must not contain a comma"),
        ({"tags": ["ab", "!AB"]}, "both required and excluded"),
        ({"media_type": "movie"}, "media_type must be one of"),
        ({"page_size": 501}, "at most 500"),
        ({"first_page": 0}, "first_page must be >= 1"),
        ({"max_entries": 0}, "max_entries must be -1"),
        ({"max_entries": -2}, "max_entries must be >= -1"),
        ({"category": 0}, "category must be >= 1"),
        ({"plays": 1.5}, "plays must be an integer"),
        ({"created_before": True}, "number of years"),
    ],
)
def test_validation_messages(kwargs: dict, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        EntryFilter(**kwargs)


def test_consistent_windows_are_accepted() -> None:
    EntryFilter(created_before=3, created_within=4)
    EntryFilter(unplayed_for=2, played_within=3)
    f = EntryFilter.from_params(
        {"max_entries": -1, "status": ["READY", "2", 7], "entry_ids": "0_abc123de, 1_zzzz9999"}
    )
    assert f.status == (2, 7) and f.entry_ids == ("0_abc123de", "1_zzzz9999")


def test_created_windows() -> None:
    f = EntryFilter(created_before=3, created_within=4)
    assert f.matches(entry(3.5), REF)
    assert not f.matches(entry(2.9), REF)
    assert not f.matches(entry(4.1), REF)
    assert EntryFilter(created_before=3).matches(entry(3), REF)


def test_never_played_semantics() -> None:
    unplayed = EntryFilter(unplayed_for=2)
    assert unplayed.matches(entry(5), REF)  # never played, created 5 years ago
    assert not unplayed.matches(entry(1), REF)  # never played, created 1 year ago
    assert unplayed.matches(entry(5, played_years=3, plays=4), REF)
    assert not unplayed.matches(entry(5, played_years=1, plays=4), REF)
    played = EntryFilter(played_within=2)
    assert not played.matches(entry(5), REF)
    assert played.matches(entry(5, played_years=1, plays=1), REF)
    assert not played.matches(entry(5, played_years=3, plays=1), REF)


def test_played_between_two_and_three_years() -> None:
    f = EntryFilter(played_within=3, unplayed_for=2)
    assert f.matches(entry(6, played_years=2.5, plays=1), REF)
    assert not f.matches(entry(6, played_years=1.5, plays=1), REF)
    assert not f.matches(entry(6, played_years=3.5, plays=1), REF)
    assert not f.matches(entry(6), REF)


def test_plays_fewer_than_and_zero_means_never() -> None:
    assert EntryFilter(plays=3).matches(entry(1, plays=2), REF)
    assert not EntryFilter(plays=3).matches(entry(1, plays=3), REF)
    assert EntryFilter(plays=0).matches(entry(1, plays=0), REF)
    assert not EntryFilter(plays=0).matches(entry(1, plays=1), REF)


def test_tag_traps_and_negation() -> None:
    f = EntryFilter(tags=("archived_to_s3",))
    assert not f.matches(entry(1, tags=("archived_to_s3_old",)), REF)
    assert f.matches(entry(1, tags=("x", "archived_to_s3")), REF)
    assert not EntryFilter(tags=("archived",)).matches(entry(1, tags=("archive",)), REF)
    assert not EntryFilter(tags=("archive",)).matches(entry(1, tags=("archived",)), REF)
    neg = EntryFilter(tags=("!archived_to_s3",))
    assert neg.matches(entry(1, tags=("archived_to_s3_old",)), REF)
    assert not neg.matches(entry(1, tags=("archived_to_s3",)), REF)
    assert neg.required_tags == () and neg.excluded_tags == ("archived_to_s3",)


def test_status_media_category_and_ids() -> None:
    assert not EntryFilter(status=(1, -2)).matches(entry(1, status=2), REF)
    assert EntryFilter(status=(1, -2)).matches(entry(1, status=-2), REF)
    assert not EntryFilter().matches(entry(1, media_type=5), REF)
    assert EntryFilter(media_type="audio").matches(entry(1, media_type=5), REF)
    assert EntryFilter(category=7).matches(entry(1, categories=(3, 7)), REF)
    assert not EntryFilter(category=7).matches(entry(1, categories=(3,)), REF)
    ids = EntryFilter(
        entry_ids=(
            "0_abcd1234",
            "0_zzzz0000",
        )
    )
    assert ids.matches(entry(1), REF)
    assert not ids.matches(entry(1, entry_id="0_other000"), REF)


def test_params_round_trip_and_schema() -> None:
    f = EntryFilter(unplayed_for=3, tags=("!archived_to_s3",), status=(2, 7), max_entries=-1)
    params = f.to_params()
    assert params["tag"] == ["!archived_to_s3"]
    assert EntryFilter.from_params(params) == f
    assert EntryFilter.from_params({"tag": "", "entry_id": None, "unplayed_for": None}) == EntryFilter()
    schema = EntryFilter.json_schema()
    assert set(schema["properties"]) == set(params)
    assert schema["properties"]["status"]["default"] == list(DEFAULT_STATUSES)
    assert EntryFilter.from_params({k: v["default"] for k, v in EntryFilter.param_schemas().items()}) == (
        EntryFilter()
    )


def test_describe_uses_the_old_syntax() -> None:
    f = EntryFilter(unplayed_for=3, tags=("!archived_to_s3",), status=(1, -2))
    assert f.describe() == "--unplayed_for 3 --tag !archived_to_s3 --status 1 -2"
    assert EntryFilter().describe() == "(all entries)"
