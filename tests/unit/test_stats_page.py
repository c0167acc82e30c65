"""The dashboard app asks Airflow's auth manager: anonymous and forged requests get 401, roles without
read access to kaltura_stats 403; a logged-in user sees the figures the stats DAG wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kaltura_archiver.airflow.stats_page import create_app
from kaltura_archiver.stats_history import draw_chart, upsert_row

ROUTES = ("/", "/stats.csv", "/stats.png", "/openapi.json", "/docs")


@pytest.fixture()
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, airflow_db: Path) -> Iterator[TestClient]:
    monkeypatch.setenv("AIRFLOW_VAR_KALTURA_ARCHIVER_REPORTS_LOCATION", f"file://{tmp_path}")
    from airflow.api_fastapi.app import init_auth_manager

    init_auth_manager()
    yield TestClient(create_app())


def _token(role: str | None) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="jdoe", role=role))


def test_anonymous_and_forged_requests_are_refused(client: TestClient) -> None:
    for route in ROUTES:
        assert client.get(route).status_code == 401, route
        assert client.get(route, headers={"Authorization": "Bearer forged"}).status_code == 401, route
    assert client.post("/restore-requests", data={"entry_ids": "0_abcdefgh"}).status_code == 401
    assert "/auth/login" in client.get("/").text


def test_a_role_without_dag_access_is_refused(client: TestClient) -> None:
    assert client.get("/", cookies={"_token": _token(None)}).status_code == 403


def test_logged_in_users_see_the_stats(client: TestClient, tmp_path: Path) -> None:
    viewer = {"_token": _token("viewer")}
    page = client.get("/", cookies=viewer)
    assert page.status_code == 200 and "No stats yet" in page.text
    assert client.get("/stats.csv", cookies=viewer).status_code == 404
    frame = upsert_row(
        tmp_path / "stats" / "kaltura_stats.csv",
        {"as_of": "2026-01-01", "total_entries": 50, "archived_entries": 42, "replaced_entries": 40},
    )
    draw_chart(frame, tmp_path / "stats" / "kaltura_stats.png")
    page = client.get("/", cookies=viewer)
    assert page.status_code == 200 and "figures as of 2026-01-01" in page.text
    assert "<td>Placeholder</td><td class='n'>40</td>" in page.text
    assert "Your role may not trigger kaltura_restore runs" in page.text
    assert client.get("/stats.png", cookies=viewer).content[:4] == b"\x89PNG"
    assert "archived_entries" in client.get("/stats.csv", cookies=viewer).text
    bearer = {"Authorization": f"Bearer {_token('viewer')}"}
    assert "/restore-requests" in client.get("/openapi.json", headers=bearer).json()["paths"]
    assert (
        client.post("/restore-requests", data={"entry_ids": "0_abcdefgh"}, cookies=viewer).status_code == 403
    )
    admin = client.get("/", cookies={"_token": _token("admin")})
    assert '<form method="post" action="restore-requests">' in admin.text
