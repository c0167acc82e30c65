"""Benchmark: health over a whole account (default 100,000 entries) with bulk reads.

Starts the Kaltura emulator and the dev S3 server as subprocesses on free loopback ports (so they
run beside, not inside, the measured process), seeds the account through their control APIs
(a third of the entries archived with a matching S3 object, a tenth of those replaced), then runs
`write_health` over every entry and prints wall seconds, entries per second, and Kaltura + S3 calls
per 1,000 entries (targets: <= 10 calls per 1,000 entries and <= 120 s).

    .venv/bin/python benchmarks/bench_health.py [--entries 100000] [--out /tmp/health.tsv]
"""

from __future__ import annotations

import argparse
import logging
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
from kaltura_archiver.selection import Selector  # noqa: E402

PARTNER_ID = 4321
SECRET = "bench-admin-secret"
BUCKET = "bench-health"
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


def main() -> int:
    """Seed, run health over everything, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--out", default=None, help="where to write the TSV (default: a temp file)")
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
            f"in {time.monotonic() - t0:.1f}s"
        )
        counter = CallCounter()
        api = KalturaApi(
            KalturaConnectionSettings(service_url=kaltura_url, partner_id=PARTNER_ID, admin_secret=SECRET),
            counter=counter,
        )
        settings = ArchiverSettings(bucket=BUCKET)
        client = s3_client(s3_url)
        store = ArchiveStore(client, BUCKET, settings, calls=lambda op: counter.add(f"s3.{op}"))
        selector = Selector(api, settings, inventory=store.inventory)
        out = Path(args.out) if args.out else work / "health.tsv"
        started = time.monotonic()
        result = write_health(selector, EntryFilter(max_entries=-1), datetime.now(UTC), out)
        wall = time.monotonic() - started
        kaltura_calls = counter.total - counter.total_with_prefix("s3.")
        s3_calls = counter.total_with_prefix("s3.")
        per_k = 1000 * counter.total / max(1, result.entries)
        print(
            f"health over {result.entries} entries: {wall:.1f} s wall, {result.entries / wall:.0f} entries/s"
        )
        print(f"verdicts: {result.verdicts}")
        print(f"calls: {counter.summary()}")
        print(
            f"Kaltura calls {kaltura_calls}, S3 calls {s3_calls}: {per_k:.2f} calls per 1,000 entries "
            f"(target <= 10), wall {wall:.1f} s (target <= 120)"
        )
        ok = per_k <= 10 and wall <= 120 and result.entries == args.entries
        print("RESULT:", "within targets" if ok else "OUTSIDE targets")
        return 0 if ok else 1
    finally:
        for process in (kaltura, s3_proc):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
