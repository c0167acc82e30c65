"""Health rows: each invariant, verdicts and report columns."""

from __future__ import annotations

from dataclasses import dataclass

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.health import HEALTH_COLUMNS, Verdict, check_health, verdict_counts
from kaltura_archiver.records import EntryRecord, FlavorRecord

SETTINGS = ArchiverSettings(size_limit_kb=50_000)


@dataclass(frozen=True)
class S3:
    size_bytes: int


def e(*tags: str) -> EntryRecord:
    return EntryRecord(entry_id="0_abcd1234", tags=tags)


def orig(size_kb: int = 10_000, status: int = 2) -> FlavorRecord:
    return FlavorRecord("1_orig", "0_abcd1234", is_original=True, status=status, size_kb=size_kb)


def test_healthy_initial_archived_placeholder() -> None:
    assert check_health(e(), orig(), None, SETTINGS).verdict is Verdict.HEALTHY
    row = check_health(e("archived_to_s3"), orig(), S3(10_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.HEALTHY and row.size_match is True and row.state == "archived"
    row = check_health(e("archived_to_s3", "flavors_deleted"), orig(200), S3(10_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.HEALTHY and row.size_match is False and row.state == "placeholder"


def test_invariant_1_original_ready() -> None:
    row = check_health(e("archived_to_s3"), None, S3(10_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "no original flavor" in row.explanation and not row.status_ok
    row = check_health(e("archived_to_s3"), orig(status=1), S3(10_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "CONVERTING, not READY" in row.explanation


def test_untouched_entry_without_usable_content_is_observed_not_unhealthy() -> None:
    """A draft or abandoned upload the archiver never touched is reported but does not fail the run."""
    draft = EntryRecord(entry_id="0_abcd1234", status=7)
    row = check_health(draft, None, None, SETTINGS)
    assert row.verdict is Verdict.OBSERVED and not row.status_ok
    assert "no original flavor" in row.explanation and "NO_CONTENT" in row.explanation
    row = check_health(e(), orig(status=-1), None, SETTINGS)
    assert row.verdict is Verdict.OBSERVED and "ERROR, not READY" in row.explanation
    row = check_health(e("flavors_deleted"), None, None, SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY


def test_invariant_2_s3_iff_tag() -> None:
    row = check_health(e(), orig(), S3(10_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "not tagged archived_to_s3" in row.explanation
    row = check_health(e("archived_to_s3"), orig(), None, SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "no S3 object" in row.explanation


def test_invariant_3_replaced_implies_archived() -> None:
    row = check_health(e("flavors_deleted"), orig(), None, SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "but not archived_to_s3" in row.explanation


def test_invariant_4_and_5_size_match() -> None:
    row = check_health(e("archived_to_s3"), orig(), S3(9_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.WARNING and "changed since archival" in row.explanation
    assert row.state == "changed_since_archival"
    row = check_health(e("archived_to_s3"), orig(status=-1), S3(9_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "does not match" in row.explanation
    row = check_health(e("archived_to_s3", "flavors_deleted"), orig(), S3(10_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "still matches" in row.explanation


def test_invariant_6_warning_over_size_limit() -> None:
    row = check_health(e("archived_to_s3"), orig(60_000), S3(60_000 * 1024), SETTINGS)
    assert row.verdict is Verdict.WARNING and "over the size limit" in row.explanation


def test_exempt_verdict_unless_unhealthy() -> None:
    assert check_health(e("archive_exempt"), orig(), None, SETTINGS).verdict is Verdict.EXEMPT
    row = check_health(e("archive_exempt", "archived_to_s3"), None, S3(1024), SETTINGS)
    assert row.verdict is Verdict.UNHEALTHY and "exempt" in row.explanation


def test_report_columns_and_counts() -> None:
    rows = [
        check_health(e(), orig(), None, SETTINGS),
        check_health(e("archived_to_s3"), orig(), None, SETTINGS),
    ]
    assert tuple(rows[0].as_report_dict()) == HEALTH_COLUMNS
    assert rows[0].as_report_dict()["s3-size (KB)"] == ""
    assert verdict_counts(rows) == {"healthy": 1, "warning": 0, "unhealthy": 1, "exempt": 0, "observed": 0}
