"""The plugin's stats page serves the chart and table the stats DAG wrote, and says when there are none."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kaltura_archiver.airflow.stats_page import create_app
from kaltura_archiver.stats_history import draw_chart, upsert_row


def test_page_shows_the_stats_written_by_the_dag(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_REPORTS_LOCATION", f"file://{tmp_path}")
    client = TestClient(create_app())
    assert "run the kaltura_stats DAG" in client.get("/").text
    frame = upsert_row(
        tmp_path / "stats" / "kaltura_stats.csv", {"as_of": "2026-01-01", "archived_entries": 42}
    )
    draw_chart(frame, tmp_path / "stats" / "kaltura_stats.png")
    page = client.get("/")
    assert page.status_code == 200 and "<td>42</td>" in page.text
    assert client.get("/stats.png").content[:4] == b"\x89PNG"
    assert "archived_entries" in client.get("/stats.csv").text


def test_s3_locations_are_named_not_served(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_REPORTS_LOCATION", "s3://reports-bucket/kaltura")
    response = TestClient(create_app()).get("/stats.png")
    assert response.status_code == 404
    assert "s3://reports-bucket/kaltura/stats/kaltura_stats.png" in response.text
