"""Benchmark: ArchiveStore.upload_stream of a generated original vs a plain boto3 upload_fileobj.

Both upload the same bytes (a repeated 1 MiB block, generated on the fly) to the same S3
endpoint, each in a fresh subprocess so its peak RSS (resource.getrusage) is its own, in an order
that alternates from round to round.  Prints the median throughput of both, the median of the
per-round ratios with their spread (target >= 0.98), peak RSS of the archive path (target
<= 256 MB) and the 1-minute load average before each round (the cores are shared: figures taken
under load are noisy).  Without --endpoint it starts the dev S3 server (dev/s3_server.py) on a free
port.  `--tree DIR` runs the archive path on the package of another checkout (before/after).

    .venv/bin/python benchmarks/bench_archive_stream.py [--size-mb 1024] [--rounds 5] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_servers import s3_client, start_s3_server  # noqa: E402

from dev.s3_server import S3DevControl  # noqa: E402

BUCKET = "bench-archive-stream"
MIB = 1024 * 1024
BLOCK = bytes(range(256)) * 4096


def generate(size: int, block: bytes = BLOCK) -> Iterator[bytes]:
    """`size` bytes as chunks of `block` (the last one cut short)."""
    sent = 0
    while sent < size:
        piece = block if size - sent >= len(block) else block[: size - sent]
        sent += len(piece)
        yield piece


class GeneratedFile(io.RawIOBase):
    """A read-only file object over `generate`, for upload_fileobj."""

    def __init__(self, size: int):
        self.chunks = generate(size)
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the generated chunks; 0 at the end."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self.pending:
                self.pending = next(self.chunks, b"")
                if not self.pending:
                    break
            n = min(len(view) - filled, len(self.pending))
            view[filled : filled + n] = self.pending[:n]
            self.pending = self.pending[n:]
            filled += n
        return filled


def child(mode: str, endpoint: str, size: int, key: str) -> dict[str, Any]:
    """Run one upload in this process; return seconds, peak RSS and S3 calls."""
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.config import ArchiverSettings

    s3 = s3_client(endpoint)
    settings = ArchiverSettings(bucket=BUCKET)
    calls: dict[str, int] = {}
    started = time.monotonic()
    if mode == "archive":
        manifest = ArchiveStore(s3, BUCKET, settings, calls=calls).upload_stream(
            key, generate(size), "0_benchflavor", size
        )
        assert manifest.size_bytes == size
    else:
        s3.upload_fileobj(
            io.BufferedReader(GeneratedFile(size), MIB),
            BUCKET,
            key,
            ExtraArgs={"StorageClass": settings.storage_class},
        )
    seconds = time.monotonic() - started
    return {
        "mode": mode,
        "seconds": seconds,
        "mb_per_s": size / seconds / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "client_cpu_s": _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)),
        "calls": calls,
    }


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return float(usage.ru_utime + usage.ru_stime)


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(mode: str, endpoint: str, size: int, key: str, tree: str = "") -> dict[str, Any]:
    """Run `child` in a fresh interpreter (the archive path on `tree`'s package if given); parse its JSON."""
    path = [str(REPO_ROOT)]
    if tree and mode == "archive":
        path = [str(Path(tree).resolve() / "include"), str(Path(tree).resolve())]
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--endpoint",
            endpoint,
            "--size-mb",
            str(size // MIB),
            "--key",
            key,
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(path)),
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Benchmark both upload paths and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5, help="rounds, alternating which path goes first")
    parser.add_argument("--tree", default="", help="run the archive path on this checkout's package")
    parser.add_argument("--endpoint", default=None, help="S3 endpoint (default: start the dev S3 server)")
    parser.add_argument("--child", choices=["archive", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--key", default="0_bench", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = args.size_mb * MIB
    if args.child:
        print(json.dumps(child(args.child, args.endpoint, size, args.key)))
        return
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server, endpoint = (None, args.endpoint) if args.endpoint else start_s3_server()
    try:
        s3 = s3_client(endpoint)
        results: dict[str, list[dict[str, Any]]] = {"plain": [], "archive": []}
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        loads: list[float] = []
        for round_no in range(args.rounds):
            loads.append(os.getloadavg()[0])
            order = ("plain", "archive") if round_no % 2 == 0 else ("archive", "plain")
            for mode in order:
                if server is not None:
                    S3DevControl(endpoint).reset(data=True)
                with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                    s3.create_bucket(Bucket=BUCKET)
                key = f"0_bench_{mode}_{round_no}"
                before = server_cpu_seconds(server.pid) if server is not None else 0.0
                result = run_child(mode, endpoint, size, key, args.tree)
                if server is not None:
                    result["server_cpu_s"] = server_cpu_seconds(server.pid) - before
                s3.delete_object(Bucket=BUCKET, Key=key)
                results[mode].append(result)
                print(
                    f"round {round_no + 1} (load {loads[-1]:.1f}) {mode:8s} {result['seconds']:7.2f} s "
                    f"{result['mb_per_s']:7.1f} MB/s  peak RSS {result['peak_rss_mb']:6.1f} MB  "
                    f"CPU s: client {result['client_cpu_s']:.1f}, server {result.get('server_cpu_s', 0):.1f}",
                    flush=True,
                )
        report(args.size_mb, endpoint, results, loads)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


def report(size_mb: int, endpoint: str, results: dict[str, list[dict[str, Any]]], loads: list[float]) -> None:
    """Print medians, per-round ratios with their spread, and the verdicts against the targets."""
    round_ratios = [
        a["mb_per_s"] / p["mb_per_s"] for a, p in zip(results["archive"], results["plain"], strict=True)
    ]
    ratio = statistics.median(round_ratios)
    peak = max(r["peak_rss_mb"] for r in results["archive"])
    print(f"size: {size_mb} MiB, endpoint: {endpoint}, {len(round_ratios)} rounds")
    listed_loads = ", ".join(f"{x:.1f}" for x in loads)
    print(f"load average (1 min) before each round: {listed_loads} on {os.cpu_count()} CPUs")
    plain_rate = statistics.median(r["mb_per_s"] for r in results["plain"])
    archive_rate = statistics.median(r["mb_per_s"] for r in results["archive"])
    plain_rss = max(r["peak_rss_mb"] for r in results["plain"])
    print(f"plain boto3 upload_fileobj (median): {plain_rate:.1f} MB/s, peak RSS {plain_rss:.0f} MB")
    print(f"ArchiveStore.upload_stream (median): {archive_rate:.1f} MB/s, peak RSS {peak:.0f} MB")
    print(f"S3 calls of one upload_stream: {results['archive'][0]['calls']}")
    for mode, runs in results.items():
        client_cpu = statistics.median(r["client_cpu_s"] for r in runs)
        server_cpu = statistics.median(r.get("server_cpu_s", 0.0) for r in runs)
        print(f"median CPU seconds {mode:8s}: client {client_cpu:.1f}, S3 server {server_cpu:.1f}")
    listed = ", ".join(f"{r:.2f}" for r in round_ratios)
    print(f"ratio per round: {listed}")
    verdict = "OK" if ratio >= 0.98 else "MISSED"
    spread = f"min {min(round_ratios):.2f}, max {max(round_ratios):.2f}"
    print(f"throughput ratio archive/plain: median {ratio:.2f} ({spread}) (target >= 0.98) {verdict}")
    verdict = "OK" if peak <= 256 else "MISSED"
    print(f"peak RSS of upload_stream (max over rounds): {peak:.0f} MB (target <= 256) {verdict}")


if __name__ == "__main__":
    main()
