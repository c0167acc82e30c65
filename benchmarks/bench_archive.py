"""Benchmark: archive throughput of a big virtual original vs a plain boto3 upload of as many bytes.

Starts the Kaltura emulator and the dev S3 server as subprocesses on free loopback ports, seeds one
entry with a generated original of --size-mb, then in two fresh child processes (so each peak RSS
is its own):

* archive: `archive_entry` live - download from the emulator, SHA256 per part, multipart upload,
  verification, manifest, tag;
* baseline: boto3 `upload_fileobj` (default TransferConfig, part size as the archiver's) of the
  same number of bytes, produced by the emulator's own content generator in process (no download).

Alternates the two --repeat times (a new entry each round) and prints medians: seconds, MB/s,
the ratio archive/baseline (target >= 0.9) and the archive's peak RSS
(target <= 256 MB). Usage: python benchmarks/bench_archive.py [--size-mb 1024] [--part-mb 16]
[--chunk-kb 1024]. Both servers and the archiver share this machine's cores, so figures vary
from run to run; the emulator's content generation competes with the S3 server for CPU.
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_servers import BENCH_AWS, s3_client, start_emulator, start_s3_server  # noqa: E402

SECRET = "bench-admin-secret-0123456789"
PARTNER = 4321
AWS = BENCH_AWS


def _peak_rss_mb() -> float:
    """Peak RSS of this process in MB from /proc (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_archive(args: argparse.Namespace) -> dict[str, Any]:
    """Archive the seeded entry; return seconds, bytes and peak RSS."""
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.config import ArchiverSettings
    from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings
    from kaltura_archiver.operations import OperationContext, archive_entry

    settings = ArchiverSettings(
        bucket=args.bucket,
        storage_class="GLACIER",
        part_size_bytes=args.part_mb * 1024 * 1024,
        size_limit_kb=100_000_000,
    )
    api = KalturaApi(
        KalturaConnectionSettings(service_url=args.kaltura, partner_id=PARTNER, admin_secret=SECRET)
    )
    store = ArchiveStore(s3_client(args.s3), args.bucket, settings)
    ctx = OperationContext(api, store, settings, live=True, download_chunk_bytes=args.chunk_kb * 1024)
    started = time.monotonic()
    result = archive_entry(ctx, args.entry_id)
    seconds = time.monotonic() - started
    if result.outcome.value != "done":
        raise SystemExit(f"archive failed: {result.reason}")
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


class _GeneratedReader:
    """A file-like reader over the emulator's content generator (no download, no disk)."""

    def __init__(self, key: str, size: int) -> None:
        from dev.kaltura_emulator.content import iter_bytes

        self._pieces = iter_bytes(key, size)
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        out = [self._buffer]
        have = len(self._buffer)
        while n < 0 or have < n:
            piece = next(self._pieces, b"")
            if not piece:
                break
            out.append(piece)
            have += len(piece)
        data = b"".join(out)
        if n < 0:
            self._buffer = b""
            return data
        self._buffer = data[n:]
        return data[:n]


def child_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """Plain boto3 upload of as many bytes; return seconds and peak RSS."""
    from boto3.s3.transfer import TransferConfig

    client = s3_client(args.s3)
    size = args.size_mb * 1024 * 1024
    config = TransferConfig(multipart_chunksize=args.part_mb * 1024 * 1024)
    started = time.monotonic()
    client.upload_fileobj(_GeneratedReader("baseline", size), args.bucket, "baseline-object", Config=config)
    return {"seconds": time.monotonic() - started, "peak_rss_mb": _peak_rss_mb()}


def _child(mode: str, args: argparse.Namespace, entry_id: str, kaltura: str, s3: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--size-mb",
        str(args.size_mb),
        "--part-mb",
        str(args.part_mb),
        "--chunk-kb",
        str(args.chunk_kb),
        "--bucket",
        args.bucket,
        "--entry-id",
        entry_id,
        "--kaltura",
        kaltura,
        "--s3",
        s3,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **AWS}, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Parse arguments; run as the coordinator or as a measuring child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--part-mb", type=int, default=16)
    parser.add_argument("--chunk-kb", type=int, default=1024, help="download chunk size")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds (archive then baseline); medians printed"
    )
    parser.add_argument("--bucket", default="bench-archive")
    parser.add_argument("--child", choices=["archive", "baseline"])
    parser.add_argument("--entry-id", default="0_bench")
    parser.add_argument("--kaltura", default="")
    parser.add_argument("--s3", default="")
    args = parser.parse_args()
    if args.child:
        result = child_archive(args) if args.child == "archive" else child_baseline(args)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as data_dir:
        emulator, kaltura = start_emulator(data_dir, PARTNER, SECRET)
        s3_proc, s3 = start_s3_server()
        try:
            from dev.kaltura_emulator.control import EmulatorControl

            size = args.size_mb * 1024 * 1024
            s3_client(s3).create_bucket(Bucket=args.bucket)
            archives, baselines = [], []
            for round_ in range(args.repeat):
                entry_id = EmulatorControl(kaltura).create_entries(
                    [
                        {
                            "id": f"{args.entry_id}{round_}",
                            "created_at": int(time.time()) - 6 * 365 * 86400,
                            "original_size": size,
                        }
                    ]
                )[0]
                archives.append(_child("archive", args, entry_id, kaltura, s3))
                baselines.append(_child("baseline", args, entry_id, kaltura, s3))
        finally:
            for proc in (emulator, s3_proc):
                proc.terminate()
                proc.wait(timeout=30)
    mb = args.size_mb
    a_secs = statistics.median(r["seconds"] for r in archives)
    b_secs = statistics.median(r["seconds"] for r in baselines)
    ratios = sorted(
        (mb / a["seconds"]) / (mb / b["seconds"]) for a, b in zip(archives, baselines, strict=True)
    )
    a_rate, b_rate = mb / a_secs, mb / b_secs
    print(f"original size            {mb} MB (part size {args.part_mb} MB), {args.repeat} rounds, medians")
    print(f"archive (download+S3)    {a_secs:.1f} s  {a_rate:.1f} MB/s")
    print(f"plain boto3 upload       {b_secs:.1f} s  {b_rate:.1f} MB/s")
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"throughput ratio         {a_rate / b_rate:.2f}  (target >= 0.9; per round {rounds})")
    print(f"archive peak RSS         {max(r['peak_rss_mb'] for r in archives):.0f} MB  (target <= 256 MB)")
    print(f"boto3 peak RSS           {max(r['peak_rss_mb'] for r in baselines):.0f} MB")


if __name__ == "__main__":
    main()
