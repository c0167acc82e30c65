"""Benchmark: real DAG runs (`dag.test()`) of kaltura_archive against the emulator and the dev S3 server.

Starts the Kaltura emulator and the dev S3 server as subprocesses on free loopback ports, a fresh
Airflow home (SQLite) in a temporary folder, then measures

* a live archive run of --entries small entries (one mapped task per entry): wall time, wall time per
  entry, time inside the per-entry tasks and the orchestration overhead per entry;
* a no-op live archive run over --archived entries that are all archived already (tagged, S3 objects
  of the right size): the user's filter matches every one, `select` maps zero tasks (target <= 60 s);
  and the scheduled default selection (not yet archived), which Kaltura answers with no match.

The first run of a process also starts Airflow's in-process execution API; it is timed on its own
(warm-up) and left out of the figures. Usage: python benchmarks/bench_dag_runs.py [--entries 200]
[--archived 10000].
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_servers import BENCH_AWS, s3_client, start_emulator, start_s3_server  # noqa: E402

SECRET = "bench-admin-secret-0123456789"
PARTNER = 4321
AWS = BENCH_AWS
NOOP_TARGET_SECONDS = 60.0


def _durations(dag_id: str, run_id: str) -> dict[str, list[float]]:
    """Seconds each task instance of a run took, by task id."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    out: dict[str, list[float]] = {}
    with create_session() as session:
        query = select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        for ti in session.scalars(query):
            if ti.start_date and ti.end_date:
                out.setdefault(ti.task_id, []).append((ti.end_date - ti.start_date).total_seconds())
    return out


def _timed_run(dag: Any, conf: dict[str, Any]) -> tuple[float, Any, dict[str, list[float]]]:
    from tests.fixtures.dag_stack import run_dag

    started = time.monotonic()
    result = run_dag(dag, conf)
    wall = time.monotonic() - started
    if result.state != "success":
        raise SystemExit(f"{dag.dag_id} run {result.run_id} ended {result.state}")
    return wall, result, _durations(dag.dag_id, result.run_id)


def _archived_account(control: Any, s3_control: Any, bucket: str, n: int) -> None:
    """N READY entries tagged archived_to_s3, each with an S3 object of its original's size."""
    from tests.fixtures.dag_stack import small_entry

    now = time.time()
    entries = [
        small_entry(now, 4 + (i % 300) / 100, None, size=1_000 + i % 977, tags=["archived_to_s3"])
        for i in range(n)
    ]
    ids = control.create_entries(entries)
    objects = [
        {"key": entry_id, "size": item["original_size"], "storage_class": "GLACIER"}
        for entry_id, item in zip(ids, entries, strict=True)
    ]
    s3_control.seed(bucket, objects)


def _bucket(s3: str, bucket: str) -> str:
    s3_client(s3).create_bucket(Bucket=bucket)
    os.environ["AIRFLOW_VAR_KALTURA_ARCHIVER_BUCKET"] = bucket
    return bucket


def bench(args: argparse.Namespace, kaltura: str, s3: str, work: Path) -> None:
    """Seed, run and print the figures."""
    from dev.kaltura_emulator.control import EmulatorControl
    from dev.s3_server import S3DevControl
    from dev.stack import write_placeholder_video
    from tests.fixtures.dag_stack import kaltura_connection_json, load_dags, small_entry

    control, s3_control = EmulatorControl(kaltura), S3DevControl(s3)
    os.environ.update(
        {
            "AIRFLOW_CONN_KALTURA_DEFAULT": kaltura_connection_json(kaltura, PARTNER, SECRET),
            "AIRFLOW_CONN_AWS_DEFAULT": (
                '{"conn_type": "aws", "login": "bench", "password": "bench", '
                f'"extra": {{"endpoint_url": "{s3}", "region_name": "us-east-1"}}}}'
            ),
            "AIRFLOW_VAR_KALTURA_ARCHIVER_PLACEHOLDER_VIDEO": str(write_placeholder_video(work / "ph.mp4")),
            "AIRFLOW_VAR_KALTURA_ARCHIVER_REPORTS_LOCATION": f"file://{work / 'reports'}",
            "AIRFLOW_VAR_KALTURA_ARCHIVER_UNATTENDED": "true",
        }
    )
    dag = load_dags()["kaltura_archive"]

    _bucket(s3, f"bench-{uuid.uuid4().hex[:12]}")
    warm, _, _ = _timed_run(dag, {"dry_run": True})
    print(f"warm-up (first run, starts the in-process execution API): {warm:.1f} s")

    now = time.time()
    control.create_entries([small_entry(now, 5, None, size=20_000 + 97 * i) for i in range(args.entries)])
    wall, result, took = _timed_run(dag, {"dry_run": False, "max_entries": -1})
    mapped = took.get("archive_entry", [])
    if len(mapped) != args.entries or result.value("summarize")["counts"]["done"] != args.entries:
        raise SystemExit(f"expected {args.entries} archived entries, got {result.value('summarize')}")
    inside = sum(sum(v) for v in took.values())
    per_entry = wall / args.entries
    print(f"live archive of {args.entries} small entries: {wall:.1f} s wall, {per_entry:.3f} s per entry")
    print(
        f"  select {sum(took['select']):.1f} s, per-entry task {sum(mapped) / len(mapped):.3f} s on average "
        f"(max {max(mapped):.2f} s), summarize {sum(took['summarize']):.2f} s"
    )
    print(f"  orchestration outside the tasks: {(wall - inside) / args.entries:.3f} s per entry")

    control.reset()
    bucket = _bucket(s3, f"bench-{uuid.uuid4().hex[:12]}")
    started = time.monotonic()
    _archived_account(control, s3_control, bucket, args.archived)
    print(f"seeded {args.archived} archived entries and S3 objects in {time.monotonic() - started:.1f} s")
    for label, conf in [
        ("user filter (matches all, all archived before)", {"unplayed_for": 3, "max_entries": -1}),
        ("scheduled default (not yet archived)", {}),
    ]:
        calls = control.calls()
        wall, result, took = _timed_run(dag, {"dry_run": False, **conf})
        if result.value("select") or result.mapped("archive_entry"):
            raise SystemExit(f"the no-op run mapped tasks: {len(result.value('select'))}")
        after = control.calls()
        kaltura_calls = sum(after.values()) - sum(calls.values())
        verdict = "met" if wall <= NOOP_TARGET_SECONDS else "NOT met"
        print(
            f"no-op live archive over {args.archived} archived entries, {label}: {wall:.1f} s wall "
            f"(select {sum(took['select']):.1f} s, {kaltura_calls} Kaltura calls), 0 tasks mapped; "
            f"target <= {NOOP_TARGET_SECONDS:.0f} s {verdict}"
        )


def main() -> None:
    """Start the servers and a fresh Airflow home, then benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--archived", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dag-runs-") as tmp:
        work = Path(tmp)
        from dev.local_airflow import airflow_environment

        os.environ.update(airflow_environment(work / "airflow_home"))
        os.environ.update(AWS)
        os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
        emulator, kaltura = start_emulator(
            work / "kaltura", PARTNER, SECRET, "--conversion-seconds", "0.3", log_path=work / "kaltura.log"
        )
        s3_proc, s3 = start_s3_server(log_path=work / "s3.log")
        try:
            bench(args, kaltura, s3, work)
        finally:
            for proc in (emulator, s3_proc):
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
