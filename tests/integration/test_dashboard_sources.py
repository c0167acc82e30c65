"""The dashboard reads its stats table and latest health report from a folder and from an S3 prefix alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kaltura_archiver.airflow import dashboard_sources as sources
from kaltura_archiver.stats_history import upsert_row
from tests.fixtures.s3 import S3Server

LOCATION_VAR = "AIRFLOW_VAR_KALTURA_ARCHIVER_REPORTS_LOCATION"
ROWS = [
    {
        "as_of": "2026-11-22",
        "total_entries": 10,
        "archived_entries": 0,
        "replaced_entries": 0,
        "archived_bytes": 0,
    },
    {
        "as_of": "2026-11-29",
        "total_entries": 12,
        "archived_entries": 4,
        "replaced_entries": 3,
        "archived_kept_entries": 1,
        "s3_objects": 4,
        "archived_bytes": 4_000_000,
        "kaltura_bytes": 9_000_000,
        "archived_kept_bytes": 1_000_000,
        "placeholder_bytes": 3_000_000,
        "archivable_bytes": 500_000,
    },
]
HEALTH_OLD = "entry_id\tverdict\n0_aaaaaaaa\tunhealthy\n"
HEALTH_NEW = "entry_id\tverdict\n0_aaaaaaaa\thealthy\n0_bbbbbbbb\tunhealthy\n0_cccccccc\tunhealthy\n"


def _files(root: Path) -> dict[str, Path]:
    table = root / "stats.csv"
    for row in ROWS:
        upsert_row(table, row)
    old, new = root / "old.tsv", root / "new.tsv"
    old.write_text(HEALTH_OLD)
    new.write_text(HEALTH_NEW)
    return {
        "stats/kaltura_stats.csv": table,
        "health/kaltura_health_20261128T000000.tsv": old,
        "health/kaltura_health_20261129T000000.tsv": new,
    }


def _check_figures() -> None:
    rows = sources.stats_rows()
    assert [r["as_of"] for r in rows] == ["2026-11-22", "2026-11-29"]
    assert sources.latest_unhealthy() == ("health/kaltura_health_20261129T000000.tsv", 2)
    assert sources.read("stats/kaltura_stats.png") is None
    assert (sources.read("stats/kaltura_stats.csv") or b"").startswith(b"as_of,")


def test_reports_in_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reports = tmp_path / "reports"
    for name, local in _files(tmp_path).items():
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_bytes(local.read_bytes())
    monkeypatch.setenv(LOCATION_VAR, f"file://{reports}")
    _check_figures()


@pytest.mark.integration
def test_reports_on_s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="dashboard-reports")
    for name, local in _files(tmp_path).items():
        client.upload_file(str(local), "dashboard-reports", f"kaltura/{name}")
    monkeypatch.setenv(LOCATION_VAR, "s3://dashboard-reports/kaltura")
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3_server.airflow_connection_json())
    _check_figures()


def test_whole_dashboard_with_the_metadata_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, airflow_db: Path
) -> None:
    """Prices from the variable, states and money from the table, weeks from the metadata DB."""
    reports = tmp_path / "reports"
    for name, local in _files(tmp_path).items():
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_bytes(local.read_bytes())
    monkeypatch.setenv(LOCATION_VAR, f"file://{reports}")
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_PRICES", '{"kaltura_gb_month": 1.0}')
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_STORAGE_CLASS", "DEEP_ARCHIVE")
    board = sources.load_dashboard()
    assert board.problems == [] and board.as_of == "2026-11-29"
    assert {s.state: s.entries for s in board.states} == {
        "In Kaltura": 8,
        "Archived": 1,
        "Placeholder": 3,
        "Restoring": 0,
        "Unhealthy": 2,
    }
    assert board.money is not None and board.storage_class == "DEEP_ARCHIVE"
    gb = 1024**3
    assert board.money.saved_month == pytest.approx(3_000_000 / gb * 1.0 - 4_000_000 / gb * 0.00099)
    for week in board.weeks:  # live runs of this session's other tests, if any
        assert date.fromisoformat(week.week).weekday() == 0 and week.archived >= 0 and week.restored >= 0
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_PRICES", '{"kaltura": 1}')
    assert any("unknown price 'kaltura'" in p for p in sources.load_dashboard().problems)
