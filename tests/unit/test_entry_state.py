"""classify_entry, size matching and exemptions with plain records."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.entry_state import EntryState, classify_entry, exemption, sizes_match
from kaltura_archiver.records import EntryRecord, FlavorRecord

SETTINGS = ArchiverSettings(exempt_category_ids=(99,))


@dataclass(frozen=True)
class S3:
    size_bytes: int


def e(*tags: str, categories: tuple[int, ...] = ()) -> EntryRecord:
    return EntryRecord(entry_id="0_abcd1234", tags=tags, category_ids=categories)


REAL = FlavorRecord("1_real", "0_abcd1234", is_original=True, status=2, size_kb=10_000)
PLACEHOLDER = FlavorRecord("1_ph", "0_abcd1234", is_original=True, status=2, size_kb=300)
FAILED = FlavorRecord("1_err", "0_abcd1234", is_original=True, status=-1, size_kb=10_000)


@pytest.mark.parametrize(
    ("entry", "original", "s3", "state", "reason"),
    [
        (e(), REAL, None, EntryState.INITIAL, "not archived"),
        (e("archived_to_s3"), REAL, S3(10_000 * 1024), EntryState.ARCHIVED, "matches"),
        (e("archived_to_s3", "flavors_deleted"), PLACEHOLDER, S3(10_000 * 1024), EntryState.PLACEHOLDER, ""),
        (e("archived_to_s3"), REAL, None, EntryState.INCONSISTENT, "no S3 object"),
        (e(), REAL, S3(10_000 * 1024), EntryState.INCONSISTENT, "not tagged archived_to_s3"),
        (e("flavors_deleted"), REAL, None, EntryState.INCONSISTENT, "but not archived_to_s3"),
        (e("archived_to_s3"), REAL, S3(5_000 * 1024), EntryState.CHANGED_SINCE_ARCHIVAL, "new version"),
        (e("archived_to_s3"), FAILED, S3(5_000 * 1024), EntryState.INCONSISTENT, "does not match"),
        (e("archived_to_s3", "flavors_deleted"), REAL, S3(10_000 * 1024), EntryState.INCONSISTENT, "still"),
        (e("archived_to_s3"), None, S3(1024), EntryState.INCONSISTENT, "no original"),
        (e("archived_to_s3_old"), REAL, None, EntryState.INITIAL, ""),
    ],
)
def test_classify(entry, original, s3, state, reason) -> None:
    result = classify_entry(entry, original, s3, SETTINGS)
    assert result.state is state
    assert reason in result.reason


def test_sizes_match_tolerance_and_exact_bytes() -> None:
    kb = FlavorRecord("1_f", "0_e", size_kb=1000)
    assert sizes_match(kb, 1000 * 1024, 0.03)
    assert sizes_match(kb, int(1029 * 1024), 0.03)
    assert not sizes_match(kb, 1040 * 1024, 0.03)
    exact = FlavorRecord("1_f", "0_e", size_kb=1000, size_bytes=1_024_000)
    assert sizes_match(exact, 1_024_000, 0.03)
    assert not sizes_match(exact, 1_024_001, 0.03)
    assert not sizes_match(None, 10, 0.03) and not sizes_match(kb, None, 0.03)
    assert sizes_match(FlavorRecord("1_t", "0_e", size_kb=1), 300, 0.03)
    # Kaltura rounds KB up and skews it by up to 1%: 1,020 bytes may report 2 KB
    assert sizes_match(FlavorRecord("1_t", "0_e", size_kb=2), 1020, 0.03)
    assert not sizes_match(FlavorRecord("1_t", "0_e", size_kb=3), 1020, 0.03)
    kb_only = FlavorRecord("1_f", "0_e", size_kb=1000, size_bytes=0)
    assert sizes_match(kb_only, 1000 * 1024, 0.03), "sizeInBytes 0 (before 2020-08) is not a size"


def test_exemption_by_tag_and_category() -> None:
    assert exemption(e("archive_exempt"), SETTINGS) == "tagged archive_exempt"
    assert exemption(e(categories=(5, 99)), SETTINGS) == "in exempt category 99"
    assert exemption(e("archive_exempt_not"), SETTINGS) == ""
