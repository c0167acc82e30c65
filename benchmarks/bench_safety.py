"""Benchmark: the long safety scenario (profile `bench`) and its summary table.

A bigger account (400 entries, a quarter old enough to archive; originals up to 600 KB, crash
subjects of 2 MB), slower conversions and Glacier restores, and every bad param triggered as a
real DAG run; otherwise what `make test` runs in tests/safety/test_scenario.py: faults at ~10% of
Kaltura and S3 calls through archive, replace, plays, restore, repair, health and reports; the task
killed at every step of archive, replace and restore; the independent checker; the secrets scan.
Prints the table (faults by kind, crashes, entries checked, lost, secrets) and exits 1 if a video
was lost, a secret leaked or a bad input was accepted.

    .venv/bin/python benchmarks/bench_safety.py [--profile bench|test] [--workdir DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dev.safety.scenario import PROFILES, run_parallel, summary_table  # noqa: E402


def main() -> int:
    """Run the scenario processes side by side, print the table, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="bench")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs and results here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-safety-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = run_parallel(args.profile, root, timeout=args.timeout, seed=args.seed)
    print(summary_table(result))
    print(f"wall time {time.monotonic() - started:.0f} s; logs and results under {root}")
    for line in result.problems:
        print(f"  {line}")
    refused_all = result.bad_input_refused == len(result.bad_input)
    return 0 if result.entries_lost == 0 and not result.secrets and refused_all else 1


if __name__ == "__main__":
    sys.exit(main())
