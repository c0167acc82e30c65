"""Child process for the memory test: archive one entry, print seconds and peak RSS as JSON.

Reads its parameters as JSON on stdin (so the admin secret never appears in a process listing).
"""

from __future__ import annotations

import json
import sys
import time

from kaltura_archiver.archive_store import ArchiveStore
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings
from kaltura_archiver.operations import OperationContext, archive_entry


def peak_rss_mb() -> float:
    """This process's peak RSS in MB from /proc (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    """Archive params["entry_id"] live and report."""
    import boto3

    params = json.loads(sys.stdin.read())
    settings = ArchiverSettings(
        bucket=params["bucket"],
        storage_class="GLACIER",
        part_size_bytes=16 * 1024 * 1024,
        size_limit_kb=10**9,
    )
    api = KalturaApi(
        KalturaConnectionSettings(
            service_url=params["kaltura"], partner_id=params["partner_id"], admin_secret=params["secret"]
        )
    )
    client = boto3.client("s3", endpoint_url=params["s3"], region_name="us-east-1")
    ctx = OperationContext(api, ArchiveStore(client, params["bucket"], settings), settings, live=True)
    started = time.monotonic()
    result = archive_entry(ctx, params["entry_id"])
    print(
        json.dumps(
            {
                "outcome": result.outcome.value,
                "reason": result.reason,
                "seconds": time.monotonic() - started,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
