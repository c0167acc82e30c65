"""Verification sampling, limits and history (pure logic; the reading itself is tested against S3)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kaltura_archiver.verification import (
    GOOD,
    MISMATCH,
    VerifyLimits,
    VerifyLimitsError,
    VerifyResult,
    append_history,
    choose_sample,
    history_rows,
    limits_from_mapping,
    month_spent,
    read_history,
    run_verdict,
)

MB = 1_000_000


def test_sample_is_random_and_bounded_by_count_entry_size_run_bytes_and_budget() -> None:
    archives = {f"0_{i:08d}": 10 * MB for i in range(100)} | {"0_big00000": 9_000 * MB}
    limits = VerifyLimits(sample_entries=5, max_entry_mb=100, max_run_gb=1, monthly_budget_gb=1)
    first = choose_sample(archives, limits, 0, random.Random(1))
    second = choose_sample(archives, limits, 0, random.Random(2))
    assert len(first.entries) == 5 and first.bytes == 50 * MB and first.too_big == 1
    assert first.entry_ids != second.entry_ids
    assert "0_big00000" not in first.entry_ids
    tight = choose_sample(archives, limits, spent_this_month=975 * MB, rng=random.Random(1))
    assert len(tight.entries) == 2 and tight.budget_left_bytes == 25 * MB and tight.left_for_budget > 0
    spent = choose_sample(archives, limits, spent_this_month=2_000 * MB, rng=random.Random(1))
    assert spent.entries == ()


def test_limits_from_settings_with_clear_errors() -> None:
    assert limits_from_mapping({"verify_sample_entries": "3", "verify_max_run_gb": "0.5"}) == VerifyLimits(
        sample_entries=3, max_run_gb=0.5
    )
    with pytest.raises(VerifyLimitsError, match="verify_sample_entries"):
        limits_from_mapping({"verify_sample_entries": "0"})
    with pytest.raises(VerifyLimitsError, match="not a number"):
        limits_from_mapping({"verify_monthly_budget_gb": "a lot"})


def test_history_appends_replaces_a_rerun_and_counts_the_month(tmp_path: Path) -> None:
    table = tmp_path / "h.csv"
    june = datetime(2026, 6, 10, tzinfo=UTC)
    results = [VerifyResult("0_aaaaaaaa", GOOD, "ok", "sha256", 5 * MB, 5 * MB)]
    append_history(table, history_rows("r1", june, results))
    append_history(table, history_rows("r1", june, results))
    append_history(table, history_rows("r2", datetime(2026, 5, 1, tzinfo=UTC), results))
    rows = read_history(table)
    assert [r["run_id"] for r in rows] == ["r1", "r2"]
    assert month_spent(rows, june) == 5 * MB


def test_run_verdict_names_mismatches() -> None:
    good = VerifyResult("0_aaaaaaaa", GOOD, "ok")
    bad = VerifyResult("0_bbbbbbbb", MISMATCH, "differs")
    mismatches, not_good = run_verdict([good, bad])
    assert mismatches == [bad] and not_good == [bad]


def test_stats_give_the_last_day_every_sampled_archive_was_proved_good() -> None:
    from kaltura_archiver.stats import verification_figures

    def row(run: str, day: str, entry: str, status: str) -> dict[str, str]:
        return {
            "run_id": run,
            "verified_at": f"{day}T10:00:00+00:00",
            "entry_id": entry,
            "status": status,
            "bytes_read": "100",
        }

    history = [
        row("w1", "2026-06-01", "0_aaaaaaaa", GOOD),
        row("w1", "2026-06-01", "0_bbbbbbbb", GOOD),
        row("w2", "2026-06-08", "0_aaaaaaaa", GOOD),
        row("w2", "2026-06-08", "0_cccccccc", MISMATCH),
        row("w3", "2026-06-15", "0_dddddddd", GOOD),
    ]
    as_of_w2 = verification_figures(history, datetime(2026, 6, 9, tzinfo=UTC))
    assert as_of_w2["last_proven_good"] == "2026-06-01" and as_of_w2["last_verified"] == "2026-06-08"
    assert as_of_w2["last_verification_ok"] is False and as_of_w2["archives_differing"] == 1
    assert as_of_w2["verified_entries"] == 2 and as_of_w2["verified_bytes"] == 400
    later = verification_figures(history, datetime(2026, 6, 30, tzinfo=UTC))
    assert later["last_proven_good"] == "2026-06-15" and later["last_verification_ok"] is True
    assert verification_figures([], datetime(2026, 6, 30, tzinfo=UTC))["last_proven_good"] is None
