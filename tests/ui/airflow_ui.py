"""A `make standalone`-like Airflow for the browser tests: the local stack plus `airflow standalone`.

Started once per test session on free loopback ports, in its own folder, with the connections,
variables and pools of airflow_settings.yaml written into the metadata DB through the REST API (as a
user would create them in the UI, so the connection list shows them). Live runs need an approval
(`kaltura_archiver_unattended` false) so the approval page can be tested.

`python -m tests.ui.airflow_ui` starts it and waits (for looking around by hand).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from dev.airflow_settings import connection_json, read_settings
from dev.kaltura_emulator.control import EmulatorControl
from dev.stack import LocalStack

ADMIN = "admin"
DAG_COUNT = 7
UNATTENDED = "kaltura_archiver_unattended"
ATTACH_FILE = "ui-airflow.json"
APPROVAL_SETTLE_SECONDS = 15

YEAR = 365 * 24 * 3600
ARCHIVE_TAG = "uitest"
ARCHIVE_IDS = ("0_uiarch01", "0_uiarch02", "0_uiarch03")
RESTORE_ID = "0_uirest01"
PLAYED_ID = "0_uiplay01"
FLOW_IDS = (*ARCHIVE_IDS, RESTORE_ID)
"""The entries tagged ARCHIVE_TAG, which the archive flow's filter selects."""


def _entry(entry_id: str, tags: list[str], age_years: float, size: int, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": entry_id,
        "name": f"UI test video {entry_id}",
        "tags": tags,
        "categories": [],
        "creator_id": "jdoe@princeton.edu",
        "created_at": now - int(age_years * YEAR),
        "last_played_at": None,
        "plays": 0,
        "status": 2,
        "media_type": 1,
        "duration": 60,
        "original_size": size,
        **extra,
    }


def ui_entries() -> list[dict[str, Any]]:
    """Entries created two years ago (the DAGs' default selections, N = 3 years, pick none of them)."""
    entries = [
        _entry(i, [ARCHIVE_TAG, "lecture"], 2.0, 300_000 + n * 100_000) for n, i in enumerate(ARCHIVE_IDS)
    ]
    entries.append(_entry(RESTORE_ID, [ARCHIVE_TAG, "uirestore"], 2.0, 2_500_000))
    entries.append(
        _entry(PLAYED_ID, ["seminar"], 2.5, 1_200_000, plays=7, last_played_at=int(time.time()) - 86400)
    )
    return entries


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def q(value: str) -> str:
    """A URL path segment (run ids hold ':' and '+')."""
    return quote(value, safe="")


class Rest:
    """Airflow's REST API (/api/v2) as the admin user, for set-up and for checking what the UI did."""

    def __init__(self, base_url: str, password: str) -> None:
        self.base_url = base_url
        self.password = password
        self.session = requests.Session()
        self._token = ""

    def token(self) -> str:
        if not self._token:
            answer = self.session.post(
                f"{self.base_url}/auth/token", json={"username": ADMIN, "password": self.password}, timeout=30
            )
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return self._token

    def call(self, method: str, path: str, ok: tuple[int, ...] = (), **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = self.session.request(
            method, f"{self.base_url}/api/v2{path}", headers=headers, timeout=60, **kwargs
        )
        if answer.status_code >= 400 and answer.status_code not in ok:
            raise RuntimeError(f"{method} {path} -> {answer.status_code}: {answer.text[:1000]}")
        return answer.json() if answer.content and "json" in answer.headers.get("content-type", "") else None

    def upsert(self, collection: str, key: str, body: dict[str, Any]) -> None:
        """Create `body` in `collection`, or update it when it exists."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = self.session.post(
            f"{self.base_url}/api/v2{collection}", json=body, headers=headers, timeout=60
        )
        if answer.status_code == 409:
            self.call("PATCH", f"{collection}/{q(key)}", json=body)
        elif answer.status_code >= 400:
            raise RuntimeError(f"POST {collection} -> {answer.status_code}: {answer.text[:1000]}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        params = {"limit": 100, "order_by": "-run_after"}
        return list(self.call("GET", f"/dags/{q(dag_id)}/dagRuns", params=params)["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances"
        return list(self.call("GET", path, params={"limit": 200})["task_instances"])

    def unpause(self, dag_id: str) -> None:
        self.call(
            "PATCH", f"/dags/{q(dag_id)}", json={"is_paused": False}, params={"update_mask": "is_paused"}
        )

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        run = self.call("POST", f"/dags/{q(dag_id)}/dagRuns", json={"logical_date": None, "conf": conf})
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.call("GET", f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}")["state"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        """Wait until the run finishes; its final state."""
        return str(
            self.wait(
                lambda: (state := self.run_state(dag_id, run_id)) in ("success", "failed") and state,
                timeout,
                f"{dag_id} {run_id}",
                2,
            )
        )

    def awaiting_approval(self, dag_id: str, run_id: str, timeout: float = 300) -> None:
        """Wait until the run's approval has waited for an answer a few seconds.

        An answer that reaches the scheduler before the executor's report that the paused task's process
        ended (5-6 s on a busy machine) makes Airflow 3.3.2 mark the task up for retry; the new try asks
        again and the answered request refuses a second answer, so the run hangs (seen on this stack).
        """
        task = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/approve"
        self.wait(
            lambda: self.call("GET", task)["state"] == "awaiting_input", timeout, f"{dag_id} approval", 1
        )
        time.sleep(APPROVAL_SETTLE_SECONDS)

    def approve(self, dag_id: str, run_id: str, timeout: float = 300) -> None:
        """Answer the run's approval with Approve once it waits for one."""
        self.awaiting_approval(dag_id, run_id, timeout)
        task = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/approve"
        self.call("PATCH", f"{task}/-1/hitlDetails", json={"chosen_options": ["Approve"], "params_input": {}})

    def live_run(self, dag_id: str, conf: dict[str, Any]) -> str:
        """Trigger a live run, approve it, wait for it; its final state."""
        run_id = self.trigger(dag_id, {**conf, "dry_run": False})
        self.approve(dag_id, run_id)
        return self.wait_run(dag_id, run_id)

    def wait(self, check: Any, timeout: float, what: str, interval: float = 1.0) -> Any:
        """Call `check()` until it returns something truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)


@dataclass
class UiAirflow:
    """The local stack and `airflow standalone` (scheduler, dag-processor, triggerer, API server)."""

    root: Path
    port: int = 0
    stack: LocalStack | None = None
    process: subprocess.Popen[bytes] | None = None
    password: str = ""
    env: dict[str, str] = field(default_factory=dict)
    kaltura_url: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        return self.root / "airflow_home"

    def start_stack(self) -> LocalStack:
        """The Kaltura emulator, S3 server and slapd (an empty account: seed it before `start`)."""
        self.stack = LocalStack(root=self.root, glacier_restore_seconds=5.0, conversion_seconds=1.0).start()
        return self.stack

    def start(self, timeout: float = 240.0) -> UiAirflow:
        """Airflow standalone (and the stack, unless started); returns when all seven DAGs are parsed."""
        self.port = self.port or free_port()
        if self.stack is None:
            self.start_stack()
        assert self.stack is not None
        env = self.stack.airflow_env(self.home)
        bin_dir = str(Path(sys.executable).parent)
        env.update(
            {
                "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                f"AIRFLOW_VAR_{UNATTENDED.upper()}": "false",
            }
        )
        self.env = env
        log = open(self.root / "standalone.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [f"{bin_dir}/airflow", "standalone"],
            env=env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_ready(timeout)
        self._configure()
        state = {"port": self.port, "password": self.password, "kaltura": self.stack.kaltura_control.base_url}
        (self.root / ATTACH_FILE).write_text(json.dumps(state))
        return self

    @classmethod
    def attach(cls, root: Path) -> UiAirflow:
        """A running instance started by `python -m tests.ui.airflow_ui` in `root` (stop() leaves it)."""
        state = json.loads((root / ATTACH_FILE).read_text())
        ui = cls(root, port=int(state["port"]), password=str(state["password"]))
        ui.kaltura_url = str(state["kaltura"])
        return ui

    @property
    def kaltura_control(self) -> EmulatorControl:
        """The Kaltura emulator's control API (seeding, checking entries)."""
        return self.stack.kaltura_control if self.stack is not None else EmulatorControl(self.kaltura_url)

    def _wait_ready(self, timeout: float) -> None:
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        deadline = time.monotonic() + timeout
        problem = "not started"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"airflow standalone exited; see {self.root / 'standalone.log'}")
            try:
                if passwords.exists() and not self.password:
                    self.password = json.loads(passwords.read_text())[ADMIN]
                if self.password:
                    dags = self.rest().call("GET", "/dags", params={"limit": 100})["dags"]
                    problem = f"{len(dags)} DAGs parsed"
                    if len(dags) >= DAG_COUNT:
                        return
            except (OSError, ValueError, RuntimeError, requests.RequestException) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            time.sleep(2)
        raise TimeoutError(
            f"Airflow was not ready in {timeout:.0f} s ({problem}); see {self.root / 'standalone.log'}"
        )

    def rest(self) -> Rest:
        return Rest(self.url, self.password)

    def _configure(self) -> None:
        """Connections, variables and pools of airflow_settings.yaml into the metadata DB (REST API)."""
        assert self.stack is not None
        rest = self.rest()
        settings = read_settings(self.stack.settings_env())
        for conn in settings["connections"]:
            body: dict[str, Any] = json.loads(connection_json(conn))
            body["connection_id"] = conn["conn_id"]
            if "extra" in body:
                body["extra"] = json.dumps(body["extra"])
            rest.upsert("/connections", conn["conn_id"], body)
        for var in settings["variables"]:
            value = "false" if var["variable_name"] == UNATTENDED else str(var["variable_value"])
            rest.upsert("/variables", var["variable_name"], {"key": var["variable_name"], "value": value})
        for pool in settings["pools"]:
            body = {"name": pool["pool_name"], "slots": int(pool["pool_slot"])}
            rest.upsert("/pools", pool["pool_name"], body)

    def stop(self) -> None:
        """Stop standalone (SIGINT makes it stop its components), then anything left in its session."""
        if self.process is not None:
            session = self.process.pid
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
            try:  # a throwaway instance: what standalone has not stopped in 10 s, SIGTERM then SIGKILL stop
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            _end_session(session)
            self.process = None
        if self.stack is not None:
            self.stack.stop()
            self.stack = None


def _end_session(session: int) -> None:
    """SIGTERM, then SIGKILL, every process left in `session` (the standalone components)."""
    import psutil

    def members() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(ProcessLookupError, PermissionError, psutil.Error):
                if os.getsid(proc.pid) == session:
                    found.append(proc)
        return found

    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = members()
        for proc in left:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
        psutil.wait_procs(left, timeout=15)


def main() -> None:
    import tempfile

    ui = UiAirflow(Path(tempfile.mkdtemp(prefix="kaltura-ui-")), port=int(os.environ.get("UI_PORT", "0")))
    ui.start_stack().kaltura_control.create_entries(ui_entries())
    ui.start()
    print(f"{ui.url} admin / {ui.password}; root {ui.root}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        ui.stop()


if __name__ == "__main__":
    main()
