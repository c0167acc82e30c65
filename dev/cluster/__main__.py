"""`make cluster`: start the distributed Airflow and the local stack, print the UI and login, and stop
everything on Ctrl-C (or `python -m dev.cluster stop` from another shell).

State (PostgreSQL data, emulator account, S3 reports) persists in .stack/cluster between starts.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from dev.cluster.airflow_cluster import WORKER_NAMES, AirflowCluster
from dev.cluster.rest import ApiError
from dev.cluster.services import ServiceError, missing_packages
from dev.local_airflow import PROJECT_ROOT
from dev.stack import LocalStack, demo_account

ROOT = PROJECT_ROOT / ".stack" / "cluster"
PID_FILE = ROOT / "launcher.pid"


class Stop(Exception):
    """SIGTERM / the stop command asked the launcher to shut down."""


def _raise_stop(signum: int, frame: object) -> None:
    raise Stop()


def stop_running() -> int:
    """Ask the running launcher (from its pid file) to stop everything it started."""
    if not PID_FILE.exists():
        print("no cluster launcher is running (no pid file)")
        return 1
    pid = int(PID_FILE.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print(f"launcher {pid} is gone; removing its pid file")
        PID_FILE.unlink()
        return 1
    print(f"asked launcher {pid} to stop the cluster")
    return 0


def serve(port: int) -> int:
    """Start, print, wait for Ctrl-C or SIGTERM, stop."""
    missing = missing_packages()
    if missing:
        print(f"missing Debian packages: {' '.join(missing)} (`make setup` installs them as root)")
        return 1
    ROOT.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(str(os.getpid()))
    signal.signal(signal.SIGTERM, _raise_stop)
    stack = LocalStack(root=ROOT / "stack", glacier_restore_seconds=60.0, conversion_seconds=5.0)
    cluster = AirflowCluster(ROOT, api_port=port)
    try:
        stack.start()
        seeded = ROOT / "stack" / ".seeded"
        if not seeded.exists():
            stack.kaltura_control.create_entries(demo_account(300, 11, time.time()))
            seeded.touch()
        print("Starting PostgreSQL, Redis, api-server, scheduler, dag-processor, triggerer and 2 workers...")
        cluster.start(stack.settings_env())
        print(f"Airflow UI:  {cluster.url}   user {cluster.client().username}   password {cluster.password}")
        workers = ", ".join(WORKER_NAMES)
        print(f"Executor:    CeleryExecutor, workers {workers}; metadata DB {cluster.postgres.url}")
        print(
            f"Local stack: Kaltura {stack.kaltura.url if stack.kaltura else ''}, S3 "
            f"{stack.s3.endpoint_url if stack.s3 else ''}; logs in {ROOT / 'logs'}"
        )
        print("DAGs start paused. Ctrl-C (or `python -m dev.cluster stop`) stops everything.")
        while True:
            time.sleep(1)
            cluster.check_alive()
    except (KeyboardInterrupt, Stop):
        print("\nstopping the cluster...")
        return 0
    except (ServiceError, ApiError) as exc:
        print(f"cluster failed: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
        stack.stop()
        PID_FILE.unlink(missing_ok=True)
        print("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.cluster", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("start", "stop"), default="start")
    parser.add_argument("--port", type=int, default=8080, help="port of the Airflow UI and API (8080)")
    args = parser.parse_args(argv)
    return stop_running() if args.command == "stop" else serve(args.port)


if __name__ == "__main__":
    sys.exit(main())
