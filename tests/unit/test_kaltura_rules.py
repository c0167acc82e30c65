"""The Kaltura rules the archiver applies before it talks to Kaltura (`kaltura_archiver.kaltura_rules`)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from kaltura_archiver.config import ArchiverSettings, SettingsError
from kaltura_archiver.filters import EntryFilter, FilterError
from kaltura_archiver.kaltura_rules import (
    MAX_RELATIVE_TIME,
    UPLOAD_TOKEN_FILE_NAME_MAX,
    attempt_file_name,
    is_relative_time,
    join_tags,
    lower_time_bound,
    max_id_in,
    normalize_tags,
    time_bound_is_exact,
    upper_time_bound,
)
from kaltura_archiver.records import EntryRecord


def test_relative_time_range_follows_ktime() -> None:
    """alpha/apps/kaltura/lib/kTime.class.php: |v| <= max_relative_time is now + v, except -1."""
    assert (
        is_relative_time(0) and is_relative_time(MAX_RELATIVE_TIME) and is_relative_time(-MAX_RELATIVE_TIME)
    )
    assert not is_relative_time(-1)
    assert not is_relative_time(MAX_RELATIVE_TIME + 1) and not is_relative_time(-MAX_RELATIVE_TIME - 1)


def test_bounds_inside_the_relative_range_are_widened_never_sent() -> None:
    assert lower_time_bound(0) is None and lower_time_bound(None) is None
    assert lower_time_bound(1_600_000_000) == 1_600_000_000
    assert upper_time_bound(200_000_000) == MAX_RELATIVE_TIME + 1
    assert upper_time_bound(1_600_000_000) == 1_600_000_000
    assert not time_bound_is_exact(200_000_000) and time_bound_is_exact(1_600_000_000)


def test_filter_over_100_years_never_sends_a_relative_bound() -> None:
    """A created_within of 60 years reaches back to 1966: its epoch is inside the relative range."""
    ref = datetime(2026, 11, 29, tzinfo=UTC)
    bounds = EntryFilter(created_within=60).bounds(ref)
    assert bounds.created_min is not None and is_relative_time(bounds.created_min)
    assert lower_time_bound(bounds.created_min) is None


def test_id_in_limit_depends_on_text_match() -> None:
    """plugins/search/providers/sphinx_search/lib/SphinxCriterion.php MAX_IN_VALUES = 150."""
    assert max_id_in(True) == 150 and max_id_in(False) == 500


def test_tags_normalised_as_ktagword() -> None:
    """alpha/apps/kaltura/lib/model/ktagword.class.php tagsListFromParagraph."""
    assert normalize_tags(" Archived_To_S3 , x,LECTURE capture,archived_to_s3, ") == (
        "archived_to_s3",
        "lecture capture",
    )
    assert normalize_tags(["é" * 60]) == ("é" * 50,)
    assert join_tags(["B2", "a", "b2", "Cc"]) == "b2, cc"


def test_entry_tags_and_has_tag_compare_as_kaltura_stores_them() -> None:
    entry = EntryRecord.from_kaltura(SimpleNamespace(id="0_abcdefgh", tags="Archived_To_S3, x"))
    assert entry.tags == ("archived_to_s3",)
    assert entry.has_tag("ARCHIVED_TO_S3") and entry.has_tag(" archived_to_s3 ")


def test_configured_tag_names_are_stored_normalised() -> None:
    """A configured `Archived_To_S3` must find entries Kaltura tagged `archived_to_s3`."""
    settings = ArchiverSettings(archived_tag=" Archived_To_S3 ")
    assert settings.archived_tag == "archived_to_s3"
    with pytest.raises(SettingsError, match="2-100 characters"):
        ArchiverSettings(archived_tag="x")
    with pytest.raises(SettingsError, match="must differ"):
        ArchiverSettings(archived_tag="Done", replaced_tag="done")


def test_filter_tags_normalised_and_validated() -> None:
    assert EntryFilter(tags=("Archived_To_S3", "!Flavors_Deleted")).tags == (
        "archived_to_s3",
        "!flavors_deleted",
    )
    with pytest.raises(FilterError, match="under 2 characters"):
        EntryFilter(tags=("!a",))


def test_string_statuses_are_never_ready() -> None:
    """api_v3/lib/types/enums/KalturaEntryStatus.php is a string enum; the virus-scan plugin adds
    virusScan.Infected and virusScan.ScanFailure."""
    infected = EntryRecord.from_kaltura(SimpleNamespace(id="0_abcdefgh", status="virusScan.Infected"))
    assert infected.status == "virusScan.Infected" and not infected.is_ready
    assert infected.status_name == "INFECTED"
    pending = EntryRecord.from_kaltura(SimpleNamespace(id="0_abcdefgh", status="4"))
    assert pending.status == 4 and not pending.is_ready
    assert EntryFilter(status=["virusScan.ScanFailure", "READY"]).status == ("virusScan.ScanFailure", 2)
    assert not EntryFilter(status=[2]).matches(infected, datetime(2026, 1, 1, tzinfo=UTC))


def test_moderated_and_recycled_entries_say_why_kaltura_hides_them() -> None:
    """api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php default list filters."""
    pending = EntryRecord.from_kaltura(SimpleNamespace(id="0_abcdefgh", moderationStatus=1))
    recycled = EntryRecord.from_kaltura(SimpleNamespace(id="0_abcdefgh", displayInSearch=-2))
    plain = EntryRecord.from_kaltura(SimpleNamespace(id="0_abcdefgh", moderationStatus=2, displayInSearch=1))
    assert pending.hidden_reason == "pending_moderation"
    assert recycled.hidden_reason == "recycled"
    assert plain.hidden_reason == ""


def test_attempt_file_name_keeps_the_extension_within_256_characters() -> None:
    """deployment/base/sql/01.kaltura_ce_tables.sql: upload_token.file_name is varchar(256)."""
    assert attempt_file_name("0_abc.mov", "f00d") == "0_abc-f00d.mov"
    assert attempt_file_name("noext", "f00d") == "noext-f00d"
    long_name = attempt_file_name("x" * 400 + ".webm", "f00d")
    assert len(long_name) == UPLOAD_TOKEN_FILE_NAME_MAX and long_name.endswith("x-f00d.webm")
    assert len(attempt_file_name("a." + "e" * 300, "f00d")) == UPLOAD_TOKEN_FILE_NAME_MAX
