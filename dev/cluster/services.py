"""PostgreSQL and Redis from their Debian packages, run in a data folder on loopback ports.

Both run as plain processes of this machine (no Docker, no system service): PostgreSQL through
`pg_ctl` (as the `postgres` user when started by root, since PostgreSQL refuses to run as root),
Redis as a child process. Each `stop()` ends only what its `start()` began.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_USER = "postgres"
DB_NAME = "airflow"
DB_USER = "airflow"


class ServiceError(RuntimeError):
    """A service could not be started; the message says why and where its log is."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, what: str, log: Path | None = None) -> None:
    """Wait until 127.0.0.1:`port` accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise ServiceError(f"{what} did not listen on port {port} within {timeout:.0f} s" + _tail(log))


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    return f"; last lines of {log}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl, if any."""
    found = [Path(p) for p in glob.glob(PG_BIN_GLOB) if (Path(p) / "initdb").exists()]
    if not found:
        return None
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def missing_packages() -> list[str]:
    """Debian packages the cluster needs that are not installed (`postgresql`, `redis-server`)."""
    missing = []
    if postgres_bin_dir() is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in `root`, listening on 127.0.0.1:`port`, with database and user `airflow`."""

    root: Path
    port: int = field(default_factory=free_port)
    data: Path = field(init=False)
    log: Path = field(init=False)
    _as_postgres: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `airflow` database (psycopg2 driver, trust auth on loopback)."""
        return f"postgresql+psycopg2://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    def _cmd(self, *args: str) -> list[str]:
        if self._as_postgres:
            return ["runuser", "-u", PG_USER, "--", *args]
        return list(args)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self._cmd(*args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceError(
                f"{' '.join(args[:2])} failed: {result.stderr.strip()[-2000:]}" + _tail(self.log)
            )
        return result

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.root, PG_USER, PG_USER)
            probe = subprocess.run(
                ["runuser", "-u", PG_USER, "--", "test", "-w", str(self.root)], check=False
            )
            if probe.returncode != 0:
                raise ServiceError(
                    f"user {PG_USER} cannot write {self.root} (a parent folder is closed to it); "
                    "run from a checkout that other users can traverse"
                )

    def start(self) -> PostgresServer:
        """initdb on first use, then `pg_ctl start`; creates the `airflow` database when missing."""
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise ServiceError("PostgreSQL is not installed (Debian package postgresql)")
        self._prepare_root()
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                DB_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
        self.stop_stale(bin_dir)
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        wait_for_port(self.port, 30, "PostgreSQL", self.log)
        exists = self._run(
            str(bin_dir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            DB_USER,
            "-d",
            "postgres",
            "-tAc",
            "SELECT datname FROM pg_database",
        )
        if DB_NAME not in exists.stdout.split():
            self._run(
                str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, DB_NAME
            )
        return self

    def stop_stale(self, bin_dir: Path) -> None:
        """Stop a server a previous, killed launcher left running on this data folder."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                self._cmd(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"),
                capture_output=True,
                check=False,
            )

    def stop(self) -> None:
        """`pg_ctl stop -m fast` (ends the server this object started)."""
        bin_dir = postgres_bin_dir()
        if bin_dir is not None:
            self.stop_stale(bin_dir)


@dataclass
class RedisServer:
    """redis-server on 127.0.0.1:`port`, no persistence (the Celery broker of the local cluster)."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("Redis is not installed (Debian package redis-server)")
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / "redis.log"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", str(log)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 20, "Redis", log)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
