"""A small client of Airflow's public REST API (/api/v2), as an operator's script would use it.

Authenticates with a JWT from `/auth/token` (SimpleAuthManager user and password) and renews it once
when the API answers 401.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import requests

T = TypeVar("T")
FINISHED_RUN_STATES = frozenset({"success", "failed"})


class ApiError(RuntimeError):
    """The API answered with an error status; the message has the method, path, status and body."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:2000]}")
        self.status = status


def q(value: str) -> str:
    """A path segment, URL-quoted (run ids hold ':' and '+')."""
    return quote(value, safe="")


class AirflowRestClient:
    """GET/POST/PATCH on /api/v2 with a bearer token; helpers for runs, task instances and approvals."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self.session = requests.Session()
        self._token: str | None = None

    def token(self) -> str:
        """A fresh access token from /auth/token."""
        response = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self._password},
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise ApiError("POST", "/auth/token", response.status_code, response.text)
        return str(response.json()["access_token"])

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to /api/v2`path`; returns the decoded JSON (None for an empty body)."""
        url = f"{self.base_url}/api/v2{path}"
        for attempt in (1, 2):
            if self._token is None:
                self._token = self.token()
            headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
            response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            if response.status_code >= 400:
                raise ApiError(method, path, response.status_code, response.text)
            if not response.content:
                return None
            if "json" in response.headers.get("content-type", ""):
                return response.json()
            return response.text
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("PATCH", path, json=body, params=params or None)

    # -- helpers --------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """/api/v2/monitor/health (needs no token)."""
        response = self.session.get(f"{self.base_url}/api/v2/monitor/health", timeout=self.timeout)
        response.raise_for_status()
        return dict(response.json())

    def upsert(self, collection: str, key: str, body: dict[str, Any]) -> None:
        """Create an item of `collection` (/connections, /variables, /pools) or update it if it exists."""
        try:
            self.post(collection, body)
        except ApiError as exc:
            if exc.status != 409:
                raise
            self.patch(f"{collection}/{q(key)}", body)

    def set_variable(self, key: str, value: str) -> None:
        self.upsert("/variables", key, {"key": key, "value": value})

    def dag_ids(self) -> list[str]:
        return [d["dag_id"] for d in self.get("/dags", limit=100)["dags"]]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.patch(f"/dags/{q(dag_id)}", {"is_paused": paused}, update_mask="is_paused")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Trigger a manual run; returns its run id."""
        run = self.post(f"/dags/{q(dag_id)}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}"))

    def runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{q(dag_id)}/dagRuns", limit=100, **params)["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str, **params: Any) -> list[dict[str, Any]]:
        """Every task instance of a run (mapped ones included), following pages."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.get(
                f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances", limit=100, offset=len(out), **params
            )
            out += page["task_instances"]
            if not page["task_instances"] or len(out) >= page["total_entries"]:
                return out

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/xcomEntries/{q(key)}"
        value = self.get(path, map_index=map_index)["value"]
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def task_log(self, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int = 1) -> str:
        """The text of one task try's log, by map index."""
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/logs/{try_number}"
        body = self.request(
            "GET", path, params={"map_index": map_index}, headers={"Accept": "application/json"}
        )
        content = body.get("content") if isinstance(body, dict) else body
        if isinstance(content, list):
            return "\n".join(
                str(line.get("event", line)) if isinstance(line, dict) else str(line) for line in content
            )
        return str(content)

    def approval_request(self, dag_id: str, run_id: str, task_id: str = "approve") -> dict[str, Any]:
        """The open approval (HITL) request of a run: subject, options, defaults, answer so far."""
        return dict(
            self.get(f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/-1/hitlDetails")
        )

    def answer_approval(
        self, dag_id: str, run_id: str, option: str, task_id: str = "approve"
    ) -> dict[str, Any]:
        """Answer a pending approval (HITL) with `option` ("Approve" / "Reject")."""
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}/-1/hitlDetails"
        return dict(self.patch(path, {"chosen_options": [option], "params_input": {}}))

    def wait(self, check: Callable[[], T | None], timeout: float, what: str, interval: float = 1.0) -> T:
        """Call `check` until it returns something other than None (or time runs out)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """Wait until the run is finished; returns it."""

        def finished() -> dict[str, Any] | None:
            run = self.run(dag_id, run_id)
            return run if run["state"] in FINISHED_RUN_STATES else None

        return self.wait(finished, timeout, f"{dag_id} run {run_id} to finish", interval=2.0)

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, timeout: float
    ) -> dict[str, Any]:
        """Wait until the (unmapped) task instance `task_id` is in `state`; fails early if the run ends."""

        def reached() -> dict[str, Any] | None:
            ti = self.get(f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/{q(task_id)}")
            if ti["state"] == state:
                return dict(ti)
            if self.run(dag_id, run_id)["state"] in FINISHED_RUN_STATES:
                raise AssertionError(
                    f"{dag_id} {run_id} ended while {task_id} was {ti['state']}, not {state}"
                )
            return None

        return self.wait(reached, timeout, f"{dag_id}.{task_id} to be {state}", interval=1.0)
