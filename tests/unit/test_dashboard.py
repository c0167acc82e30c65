"""The dashboard's figures from stats rows and run summaries, its units and its HTML."""

from __future__ import annotations

from datetime import date

import pytest

from kaltura_archiver.costs import GB, Prices
from kaltura_archiver.dashboard import build, verdict_counts, weekly
from kaltura_archiver.dashboard_html import RequestNotice, RequestRow, money, render
from kaltura_archiver.svg_charts import byte_unit, human_bytes

TB = 1024**4
ROW = {
    "as_of": "2026-11-30",
    "total_entries": 100,
    "archived_entries": 30,
    "replaced_entries": 20,
    "archived_kept_entries": 10,
    "archivable_entries": 15,
    "s3_objects": 30,
    "archived_tb": 0.003,
    "archivable_tb": 0.001,
    "kaltura_bytes": 0.01 * TB,
    "archived_kept_bytes": 0.001 * TB,
    "placeholder_bytes": 0.002 * TB,
}


def test_states_and_money_from_the_latest_row() -> None:
    prices = Prices(kaltura_gb_month=0.1, glacier_gb_month=0.004)
    board = build([{**ROW, "as_of": "2026-11-29", "archived_tb": 0.0}, ROW], prices, "GLACIER", "Bulk", 2, 1)
    states = {s.state: s for s in board.states}
    assert board.as_of == "2026-11-30" and len(board.history) == 2
    assert states["In Kaltura"].entries == 70 and states["In Kaltura"].bytes == pytest.approx(0.01 * TB)
    assert states["Archived"].entries == 10 and states["Placeholder"].entries == 20
    assert states["Placeholder"].bytes == pytest.approx(0.002 * TB)
    assert states["Unhealthy"].entries == 2 and states["Restoring"].entries == 1
    assert board.money is not None
    assert board.money.kaltura_freed_month == pytest.approx(0.002 * TB / GB * 0.1)
    assert board.money.archive_month == pytest.approx(0.003 * TB / GB * 0.004)
    assert board.money.saved_month == pytest.approx(0.002 * 1024 * 0.1 - 0.003 * 1024 * 0.004)


def test_no_stats_yet() -> None:
    board = build([], Prices(), "GLACIER", "Bulk")
    assert board.money is None and board.as_of == ""
    assert "No money figures" in render(board)


def test_weekly_counts_live_runs_only() -> None:
    summaries = [
        (date(2026, 11, 23), "archive", {"dry_run": False, "counts": {"done": 3}}),
        (date(2026, 11, 26), "archive", {"dry_run": False, "counts": {"done": 2}}),
        (date(2026, 11, 26), "archive", {"dry_run": True, "counts": {"done": 50}}),
        (date(2026, 11, 30), "restore", {"dry_run": False, "counts": {"done": 1}}),
    ]
    weeks = weekly(summaries)
    assert [(w.week, w.archived, w.restored) for w in weeks] == [("2026-11-23", 5, 0), ("2026-11-30", 0, 1)]


def test_amounts_keep_four_significant_digits() -> None:
    assert money(1234.5, "USD") == "1,234.50 USD" and money(0, "USD") == "0.00 USD"
    assert money(0.0011557, "EUR") == "0.001156 EUR" and money(1.241e-05, "EUR") == "0.00001241 EUR"


def test_units_fit_the_data() -> None:
    assert byte_unit([300_000, 2_500_000]) == ("MB", 1024**2)
    assert byte_unit([3 * TB]) == ("TB", TB)
    assert human_bytes(1.5 * GB) == "1.5 GB" and human_bytes(730 * 1024**2) == "730 MB"


def test_health_verdicts() -> None:
    lines = ["entry_id\tverdict\n", "0_a\thealthy\n", "0_b\tunhealthy\n", "0_c\tunhealthy\n"]
    assert verdict_counts(lines)["unhealthy"] == 2


def test_page_shows_money_states_prices_and_requests() -> None:
    board = build([ROW], Prices(currency="EUR"), "DEEP_ARCHIVE", "Standard", unhealthy=0)
    notice = RequestNotice(
        ["0_abcdefgh"], [("0_zzzzzzzz", "no such entry in Kaltura")], run="restore_request__x"
    )
    rows = [
        RequestRow(
            "2026-11-30 10:00 UTC", "admin", "0_abcdefgh", "restore_request__x", "running", "0 of 1 done"
        )
    ]
    page = render(board, rows, notice, can_request=True, user="<admin>")
    for text in (
        "Saved per month",
        "EUR",
        "DEEP_ARCHIVE",
        "deep_archive_gb_month",
        "In Kaltura",
        "Placeholder",
    ):
        assert text in page
    assert "Refused 0_zzzzzzzz: no such entry in Kaltura" in page and "restore_request__x" in page
    assert "&lt;admin&gt;" in page and "<admin>" not in page
    assert '<form method="post" action="restore-requests">' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
