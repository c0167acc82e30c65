"""Benchmark: setup cost of one mapped entry task (settings, connections, clients, Kaltura session).

Starts the Kaltura emulator and the dev S3 server on free loopback ports and, for each checkout
measured (this one, and with `--tree DIR` an older one unpacked with `git archive`, in an order that
alternates from round to round), a fresh Airflow home whose connections and Variables live in the
metadata database, as in a deployment (not in `AIRFLOW_CONN_*` / `AIRFLOW_VAR_*`, which a task reads
without asking the API server). Each round runs `kaltura_archive` live with `dag.test()` over
--entries small entries (one mapped `archive_entry` task each) and prints, per mapped task:

* setup: seconds from the start of the operator's `execute` to the start of the domain operation
  (settings, connection look-ups), plus the building of the boto3 client (`AwsBaseHook.get_conn`)
  and the Kaltura session start wherever in the task they happen (clients may be built lazily);
* whole task: seconds the task instance took, start to finish, in the in-process runner;
* execution-API requests the task instance made, in total and by kind (variables, connections,
  XComs, task-instance state), counted at the in-process execution API's transport;
* Kaltura `session.start` calls (from the emulator's counters).

Prints the medians over the tasks of a round, then the median over rounds with the spread, the
ratio current/tree (target: setup <= 1/3) and the 1-minute load average before each round.

`dag.test()` runs every task in one process, so what a process pays once (Python imports, the
source files `inspect.stack()` reads, botocore's data files) is paid by the first task only. A
deployment's worker runs each task in a process of its own: `--fresh N` also times, in N fresh
interpreters per checkout, what one task's process pays to build its runtime (`build_runtime`,
with Variables and connections from the environment, so no API request is counted here), its
boto3 client and its Kaltura session, imports of our package included, called from an operator's
`execute` as in a task.

    .venv/bin/python benchmarks/bench_task_setup.py [--entries 30] [--rounds 3] [--tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_servers import BENCH_AWS, s3_client, start_emulator, start_s3_server  # noqa: E402

SECRET = "bench-admin-secret-0123456789"
PARTNER = 4321
TASK_ID = "archive_entry"


def _kind(path: str) -> str:
    """The kind of an execution-API request from its URL path."""
    for marker, kind in (
        ("/variables/", "variables"),
        ("/connections/", "connections"),
        ("/xcoms/", "xcoms"),
        ("/task-instances/", "task-instances"),
        ("/task-reschedules/", "task-instances"),
        ("/dag-runs/", "dag-runs"),
        ("/assets", "assets"),
    ):
        if marker in path:
            return kind
    return "other"


class _Meter:
    """Counts execution-API requests per task instance and times setup inside the entry tasks."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.requests: dict[str, Counter[str]] = {}
        self.execute_started: dict[str, float] = {}
        self.setup: dict[str, float] = {}
        self.task: dict[str, float] = {}
        self.clients: dict[str, float] = {}
        self.parts: dict[str, dict[str, float]] = {}

    def install(self) -> None:
        import airflow.sdk.execution_time.supervisor as supervisor

        from kaltura_archiver.airflow.operators.entry_operations import EntryOperationOperator
        from kaltura_archiver.operations import runner

        api = supervisor.in_process_api_server()
        transport = api.transport
        handle = transport.handle_request
        meter = self

        def counted(request: Any) -> Any:
            if meter.current is not None:
                meter.requests.setdefault(meter.current, Counter())[_kind(request.url.path)] += 1
            return handle(request)

        transport.handle_request = counted  # type: ignore[method-assign]
        run_in_process = supervisor.run_task_in_process

        def run(ti: Any, task: Any, *args: Any, **kwargs: Any) -> Any:
            key = f"{ti.task_id}[{ti.map_index}]" if ti.task_id == TASK_ID else None
            meter.current = key
            started = time.perf_counter()
            try:
                return run_in_process(ti, task, *args, **kwargs)
            finally:
                meter.current = None
                if key is not None:
                    meter.task[key] = meter.task.get(key, 0.0) + time.perf_counter() - started

        supervisor.run_task_in_process = run
        execute = EntryOperationOperator.execute

        def timed_execute(op: Any, context: Any) -> Any:
            if meter.current is not None:
                meter.execute_started[meter.current] = time.perf_counter()
            return execute(op, context)

        EntryOperationOperator.execute = timed_execute  # type: ignore[method-assign,assignment]
        run_operation = runner.run_operation

        def timed_run_operation(*args: Any, **kwargs: Any) -> Any:
            key = meter.current
            if key is not None and key in meter.execute_started and key not in meter.setup:
                meter.setup[key] = time.perf_counter() - meter.execute_started[key]
            return run_operation(*args, **kwargs)

        runner.run_operation = timed_run_operation
        from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

        from kaltura_archiver.kaltura_api import KalturaApi

        def timed(owner: Any, name: str) -> None:
            original = getattr(owner, name)

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    key, took = meter.current, time.perf_counter() - started
                    if key is not None:
                        part = meter.parts.setdefault(key, {})
                        part[name] = part.get(name, 0.0) + took
                    if key is not None and key in meter.setup:  # built after the operation started
                        meter.clients[key] = meter.clients.get(key, 0.0) + took

            setattr(owner, name, wrapper)

        timed(AwsGenericHook, "get_conn")
        timed(KalturaApi, "_start_session")
        for module in list(sys.modules.values()):
            if getattr(module, "run_operation", None) is run_operation and module is not runner:
                module.run_operation = timed_run_operation  # type: ignore[attr-defined]


def _store_config(kaltura: str, s3: str, bucket: str, work: Path) -> None:
    """Connections and Variables in the metadata database, as a deployment keeps them."""
    from airflow.models.connection import Connection
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    from dev.stack import write_placeholder_video
    from tests.fixtures.dag_stack import kaltura_connection_json

    kaltura_conn = json.loads(kaltura_connection_json(kaltura, PARTNER, SECRET))
    with create_session() as session:
        session.add(
            Connection(
                conn_id="kaltura_default",
                conn_type=kaltura_conn["conn_type"],
                host=kaltura_conn["host"],
                login=kaltura_conn["login"],
                password=kaltura_conn["password"],
                extra=json.dumps(kaltura_conn["extra"]),
            )
        )
        session.add(
            Connection(
                conn_id="aws_default",
                conn_type="aws",
                login="bench",
                password="bench",
                extra=json.dumps({"endpoint_url": s3, "region_name": "us-east-1"}),
            )
        )
    variables = {
        "kaltura_archiver_bucket": bucket,
        "kaltura_archiver_placeholder_video": str(write_placeholder_video(work / "ph.mp4")),
        "kaltura_archiver_reports_location": f"file://{work / 'reports'}",
        "kaltura_archiver_unattended": "true",
    }
    for key, value in variables.items():
        Variable.set(key, value)


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One DAG run in this process (package and dags of `args.dags`); per-task figures as JSON."""
    from airflow.dag_processing.dagbag import DagBag

    from dev.kaltura_emulator.control import EmulatorControl
    from tests.fixtures.dag_stack import read_run, reset_params, small_entry, speed_up

    work = Path(args.work)
    bucket = f"bench-setup-{args.label}-{args.round}"
    s3_client(args.s3).create_bucket(Bucket=bucket)
    _store_config(args.kaltura, args.s3, bucket, work)
    bag = DagBag(dag_folder=str(Path(args.dags) / "kaltura_archive.py"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags["kaltura_archive"]
    speed_up(dag)
    reset_params(dag)
    meter = _Meter()
    meter.install()
    control = EmulatorControl(args.kaltura)
    now = time.time()
    control.reset()
    control.create_entries([small_entry(now, 5, None, size=2_000 + 97 * i) for i in range(args.entries)])
    before = control.calls()
    dag_run = dag.test(run_conf={"dry_run": False, "max_entries": -1})
    result = read_run(dag.dag_id, dag_run.run_id, str(dag_run.state))
    after = control.calls()
    if result.state != "success" or len(result.mapped(TASK_ID)) != args.entries:
        states = [(t.task_id, t.map_index, t.state) for t in result.tasks]
        raise SystemExit(f"run ended {result.state}: {states}; outcomes {result.entry_outcomes('archive')}")
    tasks = sorted(meter.requests)
    totals = [sum(meter.requests[t].values()) for t in tasks]
    kinds: Counter[str] = Counter()
    for t in tasks:
        kinds.update(meter.requests[t])
    sessions = after.get("session.start", 0) - before.get("session.start", 0)
    return {
        "tasks": len(tasks),
        "setup_s": statistics.median(
            meter.setup[t] + meter.clients.get(t, 0.0) for t in tasks if t in meter.setup
        ),
        "task_s": statistics.median(meter.task[t] for t in tasks),
        "parts_s": {
            name: statistics.median(meter.parts.get(t, {}).get(name, 0.0) for t in tasks)
            for name in ("get_conn", "_start_session")
        },
        "api_per_task": statistics.median(totals),
        "api_kinds": {k: v / len(tasks) for k, v in sorted(kinds.items())},
        "sessions_per_task": sessions / len(tasks),
    }


FRESH_PROBE = """
import json, sys, time, logging
from airflow.sdk import BaseOperator

class Probe(BaseOperator):
    def execute(self, context):
        started = time.perf_counter()
        from kaltura_archiver.airflow.runtime import build_runtime

        runtime = build_runtime("kaltura_default", "aws_default", logging.getLogger("probe"))
        built = time.perf_counter()
        runtime.store.client.meta.region_name
        client = time.perf_counter()
        runtime.api.session_info()
        session = time.perf_counter()
        return {"runtime": built - started, "s3_client": client - built, "session": session - client,
                "total": session - started}

print(json.dumps(Probe(task_id="probe").execute({})))
"""


def fresh_setup(tree: Path, kaltura: str, s3: str) -> dict[str, float]:
    """What one task's own process pays for its runtime, S3 client and Kaltura session (see --fresh)."""
    from tests.fixtures.dag_stack import kaltura_connection_json

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(BENCH_AWS)
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "include"), str(REPO)])
    env["AIRFLOW_CONN_KALTURA_DEFAULT"] = kaltura_connection_json(kaltura, PARTNER, SECRET)
    env["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {"conn_type": "aws", "login": "bench", "password": "bench-secret", "extra": {"endpoint_url": s3}}
    )
    env["AIRFLOW_VAR_KALTURA_ARCHIVER_BUCKET"] = "bench-fresh"
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROBE], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"fresh probe failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _run_child(label: str, tree: Path, args: argparse.Namespace, kaltura: str, s3: str, round_: int) -> Any:
    work = Path(tempfile.mkdtemp(prefix=f"bench-setup-{label}-"))
    from dev.local_airflow import airflow_environment

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))
    }
    env.update(airflow_environment(work / "airflow_home"))
    env.update(BENCH_AWS)
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "include"), str(REPO)])
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=env)
    cmd = [sys.executable, __file__, "--child", "--label", label, "--dags", str(tree / "dags")]
    cmd += ["--work", str(work), "--kaltura", kaltura, "--s3", s3, "--entries", str(args.entries)]
    cmd += ["--round", str(round_)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{label} child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _spread(values: list[float], fmt: str = ".3f") -> str:
    return f"{statistics.median(values):{fmt}} (min {min(values):{fmt}}, max {max(values):{fmt}})"


def main() -> None:
    """Coordinate the rounds, or measure one run (`--child`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", default="", help="also measure this checkout (e.g. an older commit)")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--label", default="current")
    parser.add_argument("--dags", default=str(REPO / "dags"))
    parser.add_argument("--work", default="")
    parser.add_argument("--kaltura", default="")
    parser.add_argument("--s3", default="")
    parser.add_argument("--round", type=int, default=0)
    parser.add_argument("--fresh", type=int, default=5, help="fresh-process probes per checkout (0: none)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    trees = {"current": REPO}
    if args.tree:
        trees["tree"] = Path(args.tree).resolve()
    results: dict[str, list[dict[str, Any]]] = {label: [] for label in trees}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-setup-") as tmp:
        emulator, kaltura = start_emulator(
            Path(tmp) / "kaltura",
            PARTNER,
            SECRET,
            "--conversion-seconds",
            "0.3",
            log_path=Path(tmp) / "k.log",
        )
        s3_proc, s3 = start_s3_server(log_path=Path(tmp) / "s3.log")
        fresh: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        try:
            for probe in range(args.fresh):
                for label in list(trees) if probe % 2 == 0 else list(reversed(trees)):
                    fresh[label].append(fresh_setup(trees[label], kaltura, s3))
            for round_ in range(args.rounds):
                loads.append(os.getloadavg()[0])
                labels = list(trees) if round_ % 2 == 0 else list(reversed(trees))
                for label in labels:
                    figures = _run_child(label, trees[label], args, kaltura, s3, round_)
                    results[label].append(figures)
                    print(
                        f"round {round_ + 1} (load {loads[-1]:.1f}) {label:8s} "
                        f"setup {figures['setup_s']:.3f} s, whole task {figures['task_s']:.3f} s, "
                        f"{figures['api_per_task']:.0f} execution-API requests {figures['api_kinds']}, "
                        f"{figures['sessions_per_task']:.2f} Kaltura sessions per task; of the setup: "
                        f"S3 client {figures['parts_s']['get_conn']:.3f} s, "
                        f"Kaltura session {figures['parts_s']['_start_session']:.3f} s",
                        flush=True,
                    )
        finally:
            for proc in (emulator, s3_proc):
                proc.terminate()
                proc.wait(timeout=30)
    print(f"{args.entries} mapped archive_entry tasks per run, {args.rounds} rounds, medians per task")
    listed = ", ".join(f"{x:.1f}" for x in loads)
    print(f"load average (1 min) before each round: {listed} on {os.cpu_count()} CPUs")
    for label, runs in results.items():
        if not runs:
            continue
        setup = [r["setup_s"] for r in runs]
        whole = [r["task_s"] for r in runs]
        api = [r["api_per_task"] for r in runs]
        sessions = [r["sessions_per_task"] for r in runs]
        print(
            f"{label:8s} setup {_spread(setup)} s; whole task {_spread(whole)} s;"
            f" execution-API requests {_spread(api, '.1f')};"
            f" Kaltura sessions {_spread(sessions, '.2f')} per task"
        )
    for label, probes in fresh.items():
        if probes:
            parts = ", ".join(
                f"{part} {statistics.median(p[part] for p in probes):.3f} s"
                for part in ("runtime", "s3_client", "session")
            )
            total = [p["total"] for p in probes]
            print(f"{label:8s} one task's own process ({len(probes)} probes): {_spread(total)} s ({parts})")
    if all(fresh.values()) and "tree" in fresh:
        ratio = statistics.median(p["total"] for p in fresh["current"]) / statistics.median(
            p["total"] for p in fresh["tree"]
        )
        print(f"fresh-process setup ratio current/tree {ratio:.2f} (plus the execution-API requests above)")
    if "tree" in results and results["tree"]:
        ratios = [
            c["setup_s"] / t["setup_s"] for c, t in zip(results["current"], results["tree"], strict=True)
        ]
        verdict = "MET" if statistics.median(ratios) <= 1 / 3 else "MISSED"
        print(f"setup ratio current/tree {_spread(ratios, '.2f')} (target <= 0.33: {verdict})")


if __name__ == "__main__":
    main()
