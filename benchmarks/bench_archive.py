"""Benchmark: archive copy (Kaltura download to verified S3 object) vs the pipeline a person would write.

Starts the Kaltura emulator and the dev S3 server as subprocesses on free loopback ports, then, per
round, seeds one entry with a generated original of --size-mb and runs in fresh child processes (so
each peak RSS is its own), in an order that alternates from round to round:

* archive: `archive_entry` live - download from the emulator, whole-object SHA-256, CRC32C per part,
  multipart upload, verification, manifest, tag;
* hand: the minimal pipeline by hand - `flavorAsset.getUrl`, a plain `requests` streaming download of
  that URL fed straight into boto3 `upload_fileobj` (TransferConfig with the archiver's part size),
  no hashing of its own (botocore adds its default CRC32 per part);
* generated: boto3 `upload_fileobj` of as many bytes generated in process (no download leg; the
  baseline of the earlier figure).

Prints, for each path, the median seconds and MB/s, and the median of the per-round ratios
archive/hand (target >= 0.95) and archive/generated with their spread (min-max), the archive's
peak RSS (target <= 256 MB) and the 1-minute load average before each round (the machine's cores
are shared: figures taken under load are noisy). `--tree DIR` runs the archive child on the
package of another checkout (e.g. an older commit unpacked with `git archive`), for before/after
figures with the same baselines.

    .venv/bin/python benchmarks/bench_archive.py [--size-mb 1024] [--part-mb 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
MODES = ("archive", "hand", "generated")
HAND_TARGET = 0.95


def _peak_rss_mb() -> float:
    """Peak RSS of this process in MB from /proc (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def _api(args: argparse.Namespace) -> Any:
    from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings

    return KalturaApi(
        KalturaConnectionSettings(service_url=args.kaltura, partner_id=PARTNER, admin_secret=SECRET)
    )


def child_archive(args: argparse.Namespace) -> dict[str, Any]:
    """Archive the seeded entry; return seconds and peak RSS."""
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.config import ArchiverSettings
    from kaltura_archiver.operations import OperationContext, archive_entry

    settings = ArchiverSettings(
        bucket=args.bucket,
        storage_class="GLACIER",
        part_size_bytes=args.part_mb * 1024 * 1024,
        size_limit_kb=100_000_000,
    )
    api = _api(args)
    store = ArchiveStore(s3_client(args.s3), args.bucket, settings)
    chunking = {"download_chunk_bytes": args.chunk_kb * 1024} if args.chunk_kb else {}
    ctx = OperationContext(api, store, settings, live=True, **chunking)
    started, cpu = time.monotonic(), _cpu_seconds()
    result = archive_entry(ctx, args.entry_id)
    seconds = time.monotonic() - started
    if result.outcome.value != "done":
        raise SystemExit(f"archive failed: {result.reason}")
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "cpu_s": _cpu_seconds() - cpu}


def child_hand(args: argparse.Namespace) -> dict[str, Any]:
    """The hand-written pipeline: getUrl, requests streaming GET into upload_fileobj; seconds, peak RSS."""
    import requests
    from boto3.s3.transfer import TransferConfig

    api = _api(args)
    client = s3_client(args.s3)
    config = TransferConfig(multipart_chunksize=args.part_mb * 1024 * 1024)
    started, cpu = time.monotonic(), _cpu_seconds()
    entry = api.get_entry(args.entry_id)
    flavors = api.list_flavors([args.entry_id], originals_only=True)[args.entry_id]
    assert entry is not None and flavors
    url = api.call("flavorAsset.getUrl", lambda c: c.flavorAsset.getUrl(flavors[0].flavor_id))
    with requests.get(url, stream=True, timeout=(10, 60)) as response:
        response.raise_for_status()
        client.upload_fileobj(response.raw, args.bucket, f"hand-{args.entry_id}", Config=config)
    seconds = time.monotonic() - started
    size = client.head_object(Bucket=args.bucket, Key=f"hand-{args.entry_id}")["ContentLength"]
    if size != args.size_mb * 1024 * 1024:
        raise SystemExit(f"hand pipeline stored {size} bytes")
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "cpu_s": _cpu_seconds() - cpu}


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


def child_generated(args: argparse.Namespace) -> dict[str, Any]:
    """Plain boto3 upload of as many generated bytes; return seconds and peak RSS."""
    from boto3.s3.transfer import TransferConfig

    client = s3_client(args.s3)
    size = args.size_mb * 1024 * 1024
    config = TransferConfig(multipart_chunksize=args.part_mb * 1024 * 1024)
    started, cpu = time.monotonic(), _cpu_seconds()
    client.upload_fileobj(_GeneratedReader("baseline", size), args.bucket, "baseline-object", Config=config)
    seconds = time.monotonic() - started
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "cpu_s": _cpu_seconds() - cpu}


CHILDREN = {"archive": child_archive, "hand": child_hand, "generated": child_generated}


def _child(mode: str, args: argparse.Namespace, entry_id: str, kaltura: str, s3: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--size-mb", str(args.size_mb)]
    cmd += ["--part-mb", str(args.part_mb), "--chunk-kb", str(args.chunk_kb), "--bucket", args.bucket]
    cmd += ["--entry-id", entry_id, "--kaltura", kaltura, "--s3", s3]
    env = {**os.environ, **AWS}
    if mode == "archive" and args.tree:
        tree = Path(args.tree).resolve()
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "include"), str(tree)])
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    """Parse arguments; run as the coordinator or as a measuring child."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--part-mb", type=int, default=16)
    parser.add_argument(
        "--chunk-kb", type=int, default=0, help="download chunk size (default: the archiver's)"
    )
    parser.add_argument("--rounds", "--repeat", type=int, default=5, help="rounds; medians printed")
    parser.add_argument("--tree", default="", help="run the archive child on this checkout's package")
    parser.add_argument("--bucket", default="bench-archive")
    parser.add_argument("--child", choices=MODES)
    parser.add_argument("--entry-id", default="0_bench")
    parser.add_argument("--kaltura", default="")
    parser.add_argument("--s3", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as data_dir:
        emulator, kaltura = start_emulator(data_dir, PARTNER, SECRET)
        s3_proc, s3 = start_s3_server()
        try:
            from dev.kaltura_emulator.control import EmulatorControl
            from dev.s3_server import S3DevControl

            size = args.size_mb * 1024 * 1024
            for round_ in range(args.rounds):
                S3DevControl(s3).reset(data=True)
                s3_client(s3).create_bucket(Bucket=args.bucket)
                entry_id = EmulatorControl(kaltura).create_entries(
                    [
                        {
                            "id": f"{args.entry_id}{round_}",
                            "created_at": int(time.time()) - 6 * 365 * 86400,
                            "original_size": size,
                        }
                    ]
                )[0]
                loads.append(os.getloadavg()[0])
                order = MODES[round_ % len(MODES) :] + MODES[: round_ % len(MODES)]
                line = []
                for mode in order:
                    result = _child(mode, args, entry_id, kaltura, s3)
                    results[mode].append(result)
                    line.append(f"{mode} {result['seconds']:.1f} s")
                print(f"round {round_ + 1} (load {loads[-1]:.1f}): " + ", ".join(line), flush=True)
        finally:
            for proc in (emulator, s3_proc):
                proc.terminate()
                proc.wait(timeout=30)
    report(args, results, loads)


def report(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]], loads: list[float]) -> None:
    """Medians, per-round ratios with their spread, peak RSS and load."""
    mb = args.size_mb
    cpus = os.cpu_count()
    print(f"original size {mb} MB (part size {args.part_mb} MB), {args.rounds} rounds, alternating order")
    print(f"load average (1 min) before each round: {', '.join(f'{x:.1f}' for x in loads)} on {cpus} CPUs")
    labels = {
        "archive": "archive (download + S3, verified)",
        "hand": "hand pipeline (requests -> upload_fileobj)",
        "generated": "generated bytes -> upload_fileobj (no download)",
    }
    for mode in MODES:
        secs = statistics.median(r["seconds"] for r in results[mode])
        cpu = statistics.median(r["cpu_s"] for r in results[mode])
        print(f"{labels[mode]:50s} {secs:6.1f} s  {mb / secs:7.1f} MB/s  client CPU {cpu:.1f} s (medians)")
    archive = results["archive"]
    for base, target in (("hand", HAND_TARGET), ("generated", None)):
        ratios = [b["seconds"] / a["seconds"] for a, b in zip(archive, results[base], strict=True)]
        verdict = ""
        if target is not None:
            verdict = f"  target >= {target}: {'MET' if statistics.median(ratios) >= target else 'MISSED'}"
        print(f"throughput ratio archive/{base:9s} {_spread(ratios)}{verdict}")
    peak = max(r["peak_rss_mb"] for r in archive)
    print(f"archive peak RSS  {peak:.0f} MB (target <= 256 MB: {'MET' if peak <= 256 else 'MISSED'})")
    print(f"hand pipeline peak RSS {max(r['peak_rss_mb'] for r in results['hand']):.0f} MB")


if __name__ == "__main__":
    main()
