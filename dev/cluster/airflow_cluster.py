"""A distributed Airflow on this machine: PostgreSQL, Redis, CeleryExecutor and one process per component.

api-server, scheduler, dag-processor, triggerer and two `airflow celery worker`s with distinct
hostnames run as separate processes (each in its own process group, logging to `root/logs/`).
Airflow runs with its stock configuration; the only settings made are the ones every Celery
deployment makes (see README, "Deploying"): executor, database, broker, result backend, the API's
base URL, the shared JWT / API / Fernet secrets, and the folders. Because both workers share one
host here, each reports its own name as task hostname (`dev.cluster.hostname`) and the workers and
the triggerer read logs from the shared log folder instead of serving them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dev.airflow_settings import connection_json, read_settings
from dev.cluster.rest import AirflowRestClient, ApiError
from dev.cluster.services import PostgresServer, RedisServer, ServiceError, free_port
from dev.local_airflow import PROJECT_ROOT

WORKER_NAMES = ("kaltura-worker-1", "kaltura-worker-2")
HOSTNAME_VARIABLE = "KALTURA_CLUSTER_HOSTNAME"
ADMIN_USER = "admin"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def _secrets(path: Path) -> dict[str, str]:
    """JWT, API and Fernet secrets of this cluster, made once and kept (mode 0600) with its database."""
    if path.exists():
        return dict(json.loads(path.read_text()))
    from cryptography.fernet import Fernet

    values = {
        "jwt_secret": secrets.token_urlsafe(32),
        "api_secret_key": secrets.token_urlsafe(32),
        "fernet_key": Fernet.generate_key().decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values))
    return values


@dataclass
class AirflowCluster:
    """Start and stop the whole deployment; `client()` talks to its REST API."""

    root: Path
    api_port: int = field(default_factory=free_port)
    worker_concurrency: int = 4
    postgres: PostgresServer = field(init=False)
    redis: RedisServer = field(init=False)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    password: str = ""

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.postgres = PostgresServer(self.root / "postgres")
        self.redis = RedisServer(self.root / "redis")

    @property
    def home(self) -> Path:
        return self.root / "airflow_home"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def bin_dir(self) -> Path:
        return Path(sys.executable).parent

    def environment(self) -> dict[str, str]:
        """The environment of every Airflow process: this shell's, less any AIRFLOW* setting, plus the
        deployment settings (connections and variables live in the metadata DB, not in the env)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        keys = _secrets(self.root / "secrets.json")
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url,
                "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.postgres.url}",
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
                "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
                "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "include")]),
            }
        )
        return env

    def _airflow(self, *args: str) -> list[str]:
        return [str(self.bin_dir / "airflow"), *args]

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as out:
            self.processes[name] = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True
            )

    def start(self, stack_settings: dict[str, str], timeout: float = 240) -> AirflowCluster:
        """Databases, schema, every component; then the connections, variables and pools of
        airflow_settings.yaml (placeholders from `stack_settings`) through the REST API."""
        self.postgres.start()
        self.redis.start()
        env = self.environment()
        migrate = subprocess.run(self._airflow("db", "migrate"), env=env, capture_output=True, text=True)
        if migrate.returncode != 0:
            raise ServiceError(
                f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}"
            )
        port = str(self.api_port)
        self._spawn(
            "api-server", self._airflow("api-server", "--host", "127.0.0.1", "--port", port, "-w", "1"), env
        )
        self._spawn("scheduler", self._airflow("scheduler"), env)
        self._spawn("dag-processor", self._airflow("dag-processor"), env)
        self._spawn("triggerer", self._airflow("triggerer", "--skip-serve-logs"), env)
        for name in WORKER_NAMES:
            worker_env = {
                **env,
                HOSTNAME_VARIABLE: name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "dev.cluster.hostname.worker_hostname",
            }
            args = ["celery", "worker", "-H", f"{name}@%h", "-c", str(self.worker_concurrency)]
            self._spawn(name, self._airflow(*args, "--skip-serve-logs"), worker_env)
        self.wait_healthy(timeout)
        self.configure(stack_settings)
        return self

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                log = self.root / "logs" / f"{name}.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
                raise ServiceError(f"{name} exited with {proc.returncode}; last lines of {log}:\n{tail}")

    def wait_healthy(self, timeout: float) -> None:
        """Wait for the UI login, healthy scheduler / triggerer / dag-processor and every DAG of dags/."""
        expected = len(list((PROJECT_ROOT / "dags").glob("*.py")))
        deadline = time.monotonic() + timeout
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        client: AirflowRestClient | None = None
        problem = "api-server not up"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if client is None and passwords.exists():
                    self.password = json.loads(passwords.read_text())[ADMIN_USER]
                    client = self.client()
                if client is not None:
                    health = client.health()
                    sick = [
                        k for k, v in health.items() if isinstance(v, dict) and v.get("status") != "healthy"
                    ]
                    dags = client.dag_ids()
                    errors = client.get("/importErrors")["import_errors"]
                    if errors:
                        raise ServiceError(f"DAG import errors: {errors}")
                    problem = f"unhealthy: {sick}; DAGs parsed: {len(dags)} of {expected}"
                    if not sick and len(dags) >= expected:
                        return
            except (OSError, ValueError, ApiError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            time.sleep(2)
        raise ServiceError(
            f"the cluster was not ready within {timeout:.0f} s ({problem}); logs in {self.root / 'logs'}"
        )

    def client(self) -> AirflowRestClient:
        """A REST client logged in as the admin user."""
        return AirflowRestClient(self.url, ADMIN_USER, self.password)

    def configure(self, stack_settings: dict[str, str]) -> None:
        """Connections, variables and pools of airflow_settings.yaml, created or updated through the API."""
        client = self.client()
        settings = read_settings(stack_settings)
        for conn in settings["connections"]:
            body: dict[str, Any] = json.loads(connection_json(conn))
            body["connection_id"] = conn["conn_id"]
            if "extra" in body:
                body["extra"] = json.dumps(body["extra"])
            client.upsert("/connections", body["connection_id"], body)
        for var in settings["variables"]:
            client.set_variable(var["variable_name"], str(var["variable_value"]))
        for pool in settings["pools"]:
            body = {
                "name": pool["pool_name"],
                "slots": int(pool["pool_slot"]),
                "description": pool.get("pool_description", ""),
                "include_deferred": False,
            }
            client.upsert("/pools", body["name"], body)

    def stop(self) -> None:
        """Stop every process this object started (SIGTERM to each process group, SIGKILL after 20 s)."""
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGKILL)  # children left behind in the group
        self.processes.clear()
        self.redis.stop()
        self.postgres.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
