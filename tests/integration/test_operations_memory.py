"""Archiving streams: peak memory does not grow with the original's size (measured in child processes).

Peak RSS rises over the first few parts (buffers, allocator arenas) and then stays put, so the
comparison is between two multi-part originals, 112 MB and a much bigger one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def _archive_in_child(emulator: Any, s3_server: Any, bucket: str, size: int) -> dict[str, Any]:
    entry_id = f"0_{uuid.uuid4().hex[:8]}"
    emulator.control.create_entries(
        [{"id": entry_id, "created_at": int(time.time()) - 6 * 365 * 86400, "original_size": size}]
    )
    params = {
        "kaltura": emulator.url,
        "partner_id": emulator.partner_id,
        "secret": emulator.admin_secret,
        "s3": s3_server.endpoint_url,
        "bucket": bucket,
        "entry_id": entry_id,
    }
    out = subprocess.run(
        [sys.executable, "-m", "tests.integration.archive_child"],
        input=json.dumps(params),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    assert result["outcome"] == "done", result["reason"]
    return result


@pytest.mark.parametrize(
    "size", [pytest.param(320 * MB, id="320MB"), pytest.param(2048 * MB, id="2GB", marks=pytest.mark.slow)]
)
def test_archive_memory_is_flat(emulator: Any, s3_server: Any, s3_bucket: tuple[Any, str], size: int) -> None:
    _client, bucket = s3_bucket
    small = _archive_in_child(emulator, s3_server, bucket, 112 * MB)
    big = _archive_in_child(emulator, s3_server, bucket, size)
    assert big["peak_rss_mb"] <= 256, (small["peak_rss_mb"], big["peak_rss_mb"])
    assert big["peak_rss_mb"] - small["peak_rss_mb"] < 32, (small["peak_rss_mb"], big["peak_rss_mb"])
