"""The middleware that lets the connection list's Test button test connections stored without a port."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from kaltura_archiver.airflow.connection_test import PortlessConnectionTest, airflow_refuses_port_zero


def _echo_app() -> TestClient:
    app = FastAPI()

    @app.post("/api/v2/connections/test")
    async def test(request: Request) -> Any:
        return {"body": (await request.body()).decode(), "length": request.headers["content-length"]}

    @app.post("/api/v2/connections")
    async def other(request: Request) -> Any:
        return {"body": (await request.body()).decode()}

    app.add_middleware(PortlessConnectionTest)
    return TestClient(app)


def test_port_zero_is_dropped_from_test_requests_only() -> None:
    client = _echo_app()
    sent = {"connection_id": "kaltura_default", "conn_type": "kaltura", "port": 0, "password": "***"}
    answer = client.post("/api/v2/connections/test", json=sent).json()
    received = json.loads(answer["body"])
    assert "port" not in received and received["password"] == "***"
    assert int(answer["length"]) == len(answer["body"].encode())
    other = client.post("/api/v2/connections", json=sent).json()
    assert json.loads(other["body"])["port"] == 0


def test_real_ports_and_bad_bodies_pass_unchanged() -> None:
    client = _echo_app()
    assert json.loads(client.post("/api/v2/connections/test", json={"port": 636}).json()["body"]) == {
        "port": 636
    }
    assert client.post("/api/v2/connections/test", content=b"not json").json()["body"] == "not json"
    assert json.loads(client.post("/api/v2/connections/test", json={"port": False}).json()["body"]) == {
        "port": False
    }


def test_this_airflow_still_needs_it() -> None:
    """Airflow 3.3.2 compares port 0 with a stored NULL as different (fixed upstream in apache/airflow#73298);
    when this fails after an upgrade, the middleware passes every request through and can go."""
    assert airflow_refuses_port_zero()
