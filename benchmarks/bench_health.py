"""Benchmark: health over a whole account (default 100,000 entries), single window vs concurrent windows.

Starts the Kaltura emulator and the dev S3 server as subprocesses on free loopback ports (so they
run beside, not inside, the measured process), seeds the account through their control APIs
(a third of the entries archived with a matching S3 object, a tenth of those replaced), then, in
rounds that alternate the order, runs `write_health` over every entry walking one createdAt window
at a time (concurrency 1, the earlier behaviour) and walking independent windows concurrently
(`AUDIT_CONCURRENCY`). Prints wall seconds, Kaltura + S3 calls per 1,000 entries, the emulator's
CPU seconds, the medians with their spread, the speed-up, whether both reports are identical, and
the 1-minute load average before each round (targets for the concurrent audit: <= 20 s and
<= 5 calls per 1,000 entries).

    .venv/bin/python benchmarks/bench_health.py [--entries 100000] [--rounds 3] [--concurrency 3]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_servers import s3_client, start_emulator, start_s3_server  # noqa: E402

from dev.kaltura_emulator.control import EmulatorControl  # noqa: E402
from dev.s3_server import S3DevControl  # noqa: E402
from kaltura_archiver.archive_store import ArchiveStore  # noqa: E402
from kaltura_archiver.config import ArchiverSettings  # noqa: E402
from kaltura_archiver.filters import EntryFilter  # noqa: E402
from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings  # noqa: E402
from kaltura_archiver.listing import write_health  # noqa: E402
from kaltura_archiver.progress import CallCounter  # noqa: E402
from kaltura_archiver.selection import AUDIT_CONCURRENCY, Selector  # noqa: E402

PARTNER_ID = 4321
SECRET = "bench-admin-secret"
BUCKET = "bench-health"
WALL_TARGET = 20.0
CALLS_TARGET = 5.0
REFERENCE = datetime.now(UTC)
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def seed(control: EmulatorControl, s3: S3DevControl, n: int) -> dict[str, int]:
    """Create n entries (created 1-8 years ago) and the S3 objects of the archived ones."""
    now = int(time.time())
    year = 365 * 86400
    specs: list[dict[str, Any]] = []
    for i in range(n):
        archived = i % 3 == 0
        replaced = archived and i % 30 == 0
        tags = ["archived_to_s3"] if archived else []
        if replaced:
            tags.append("flavors_deleted")
        specs.append(
            {
                "created_at": now - year - (i * 7 * year) // n,
                "last_played_at": None if i % 4 else now - (i % 5) * year,
                "plays": 0 if i % 4 else i % 50 + 1,
                "tags": tags,
                "original_size": 5000 * (1 + i % 13) if not replaced else 1234,
                "flavors": True,
            }
        )
    ids = control.create_entries(specs)
    objects = [
        {"key": entry_id, "size": 0, "virtual_size": 5000 * (1 + i % 13), "storage_class": "GLACIER"}
        for i, entry_id in enumerate(ids)
        if i % 3 == 0
    ]
    for start_at in range(0, len(objects), 5000):
        s3.seed(BUCKET, objects[start_at : start_at + 5000], create_bucket=True)
    return {"entries": len(ids), "s3_objects": len(objects)}


def run_health(kaltura_url: str, s3_url: str, out: Path, concurrency: int) -> dict[str, Any]:
    """One health audit over every entry with fresh clients; wall seconds, calls, verdicts, TSV digest."""
    counter = CallCounter()
    api = KalturaApi(
        KalturaConnectionSettings(service_url=kaltura_url, partner_id=PARTNER_ID, admin_secret=SECRET),
        counter=counter,
    )
    settings = ArchiverSettings(bucket=BUCKET)
    store = ArchiveStore(s3_client(s3_url), BUCKET, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(api, settings, inventory=store.inventory, prepare_inventory=store.list_bucket)
    started = time.monotonic()
    result = write_health(selector, EntryFilter(max_entries=-1), REFERENCE, out, concurrency=concurrency)
    wall = time.monotonic() - started
    return {
        "wall": wall,
        "entries": result.entries,
        "verdicts": dict(result.verdicts),
        "calls": counter.total,
        "kaltura": counter.total - counter.total_with_prefix("s3."),
        "s3": counter.total_with_prefix("s3."),
        "summary": counter.summary(),
        "digest": hashlib.sha256(out.read_bytes()).hexdigest(),
    }


def main() -> int:
    """Seed once, then audit everything single-window and concurrently in alternating rounds."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=AUDIT_CONCURRENCY)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench_health_"))
    kaltura, kaltura_url = start_emulator(work / "kaltura", PARTNER_ID, SECRET, log_path=work / "kaltura.log")
    s3_proc, s3_url = start_s3_server(log_path=work / "s3.log")
    try:
        t0 = time.monotonic()
        seeded = seed(EmulatorControl(kaltura_url), S3DevControl(s3_url), args.entries)
        print(
            f"seeded {seeded['entries']} entries and {seeded['s3_objects']} S3 objects "
            f"in {time.monotonic() - t0:.1f}s",
            flush=True,
        )
        modes = {"single window": 1, f"concurrent ({args.concurrency})": args.concurrency}
        results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        loads: list[float] = []
        for round_ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            order = list(modes) if round_ % 2 == 0 else list(reversed(modes))
            for mode in order:
                before = server_cpu_seconds(kaltura.pid)
                figures = run_health(kaltura_url, s3_url, work / "health.tsv", modes[mode])
                figures["server_cpu"] = server_cpu_seconds(kaltura.pid) - before
                results[mode].append(figures)
                per_k = 1000 * figures["calls"] / max(1, figures["entries"])
                print(
                    f"round {round_ + 1} (load {loads[-1]:.1f}) {mode}: {figures['wall']:.1f} s, "
                    f"{figures['entries']} entries, {per_k:.2f} calls per 1,000 "
                    f"(Kaltura {figures['kaltura']}, S3 {figures['s3']}), emulator CPU "
                    f"{figures['server_cpu']:.1f} s",
                    flush=True,
                )
        return report(args, results, loads)
    finally:
        for process in (kaltura, s3_proc):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]], loads: list[float]) -> int:
    """Medians with spread, the speed-up, the verdict against the targets; 0 when every target is met."""
    print(f"{args.entries} entries, {args.rounds} rounds alternating, medians (min-max)")
    listed = ", ".join(f"{x:.1f}" for x in loads)
    print(f"load average (1 min) before each round: {listed} on {os.cpu_count()} CPUs")
    single, concurrent = results.values()
    for mode, runs in results.items():
        walls = [r["wall"] for r in runs]
        per_k = [1000 * r["calls"] / max(1, r["entries"]) for r in runs]
        print(
            f"{mode:16s} wall {statistics.median(walls):.1f} s ({min(walls):.1f}-{max(walls):.1f}), "
            f"{statistics.median(per_k):.2f} calls per 1,000 entries; {runs[0]['summary']}"
        )
    speedups = [s["wall"] / c["wall"] for s, c in zip(single, concurrent, strict=True)]
    spread = f"{min(speedups):.2f}-{max(speedups):.2f}"
    print(f"speed-up concurrent/single: median {statistics.median(speedups):.2f} ({spread})")
    same = {r["digest"] for r in single + concurrent}
    print(f"reports identical across modes and rounds: {len(same) == 1}")
    wall = statistics.median(r["wall"] for r in concurrent)
    per_k = statistics.median(1000 * r["calls"] / max(1, r["entries"]) for r in concurrent)
    complete = all(r["entries"] == args.entries for r in single + concurrent)
    ok = wall <= WALL_TARGET and per_k <= CALLS_TARGET and complete and len(same) == 1
    print(
        f"concurrent: {wall:.1f} s (target <= {WALL_TARGET:.0f} s), {per_k:.2f} calls per 1,000 entries "
        f"(target <= {CALLS_TARGET:.0f}): {'within targets' if ok else 'OUTSIDE targets'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
