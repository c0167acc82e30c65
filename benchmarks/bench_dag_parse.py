"""Benchmark: parse time of each DAG file against an empty DAG's, and the task-time libraries parsing loads.

Each measurement is one fresh interpreter that imports Airflow's `DagBag` first (so Airflow's own
import cost is left out, as in the dag-processor, which has Airflow loaded) and then times
`DagBag(dag_folder=FILE)`: the DAG file, our package modules it imports and the DAG objects. The
empty DAG is a file holding one `DAG` with no task. Files are measured in an order that changes
from round to round; the medians over --rounds are printed with their spread, the ratio to the
empty DAG, and which of pandas, python-ldap (ldap), KalturaClient and boto3 parsing imported
(target: none). `--tree DIR` measures the DAG files and package of another checkout too (e.g. an
older commit unpacked with `git archive`), for before/after figures in the same run.

    .venv/bin/python benchmarks/bench_dag_parse.py [--rounds 5] [--tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "ldap", "KalturaClient", "boto3")
PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "errors": len(bag.import_errors), "dags": len(bag.dags),
                  "heavy": [m for m in HEAVY if m in sys.modules]}))
"""
EMPTY_DAG = "from airflow.sdk import DAG\n\nwith DAG(dag_id='empty', schedule=None):\n    pass\n"


def parse(path: Path, tree: Path) -> dict[str, Any]:
    """Parse one DAG file in a fresh interpreter with `tree`'s package first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "include"), str(tree)])
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    out = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tree,
    )
    if out.returncode != 0:
        raise SystemExit(f"parsing {path} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["errors"] or not result["dags"]:
        raise SystemExit(f"{path}: {result['errors']} import errors, {result['dags']} DAGs")
    return result


def main() -> None:
    """Measure every DAG file of this checkout (and of --tree) and the empty DAG; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tree", default="", help="also measure this checkout's DAG files")
    args = parser.parse_args()
    trees = {"current": REPO}
    if args.tree:
        trees["tree"] = Path(args.tree).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-dag-parse-") as tmp:
        empty = Path(tmp) / "empty_dag.py"
        empty.write_text(EMPTY_DAG)
        jobs = [("empty", "(empty DAG)", empty, REPO)]
        for label, tree in trees.items():
            jobs += [(label, path.name, path, tree) for path in sorted((tree / "dags").glob("*.py"))]
        times: dict[tuple[str, str], list[float]] = {(label, name): [] for label, name, _, _ in jobs}
        heavy: dict[tuple[str, str], set[str]] = {key: set() for key in times}
        loads = []
        for round_ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            ordered = jobs if round_ % 2 == 0 else list(reversed(jobs))
            for label, name, path, tree in ordered:
                result = parse(path, tree)
                times[(label, name)].append(result["seconds"])
                heavy[(label, name)].update(result["heavy"])
            print(f"round {round_ + 1} done (load {loads[-1]:.1f})", flush=True)
    listed = ", ".join(f"{x:.1f}" for x in loads)
    print(f"DagBag parse time per file, median of {args.rounds} rounds (min-max); load before each: {listed}")
    base = statistics.median(times[("empty", "(empty DAG)")])
    for (label, name), values in times.items():
        median = statistics.median(values)
        loaded = ", ".join(sorted(heavy[(label, name)])) or "none"
        print(
            f"{label:8s} {name:28s} {median:6.3f} s ({min(values):.3f}-{max(values):.3f}), "
            f"x{median / base:5.1f} the empty DAG; task-time libraries imported: {loaded}"
        )
    for label in trees:
        clean = all(not heavy[key] for key in heavy if key[0] == label)
        print(f"{label}: no DAG file imports {', '.join(HEAVY)}: {'MET' if clean else 'MISSED'}")


if __name__ == "__main__":
    main()
