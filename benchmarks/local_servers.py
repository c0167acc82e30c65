"""The local stack's servers as subprocesses for the benchmarks, and S3 clients for them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
EMULATOR_URL = r"at (http://\S+)"
S3_URL = r"listening on (http://\S+)"


def start_server(
    args: list[str], pattern: str, log_path: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Run `python -m ARGS` with output to `log_path` and wait for the line that announces its URL."""
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix=f"{args[0]}-", suffix=".log")[1])
    env = {**os.environ, **BENCH_AWS, "PYTHONPATH": str(REPO)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        match = re.search(pattern, log_path.read_text(errors="replace"))
        if match:
            return process, match.group(1)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args[0]} did not start; see {log_path}")


def start_emulator(
    data_dir: str | Path, partner_id: int, admin_secret: str, *extra: str, log_path: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The Kaltura emulator on a free port (as the demo runs it); returns the process and its URL."""
    args = [
        "dev.kaltura_emulator",
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        "--partner-id",
        str(partner_id),
    ]
    args += list(extra)
    os.environ["KALTURA_EMULATOR_ADMIN_SECRET"] = admin_secret
    return start_server(args, EMULATOR_URL, log_path)


def start_s3_server(*extra: str, log_path: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """The dev S3 server (moto with the Glacier and fault layer) on a free port."""
    return start_server(["dev.s3_server", "--port", "0", *extra], S3_URL, log_path)


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client for `endpoint` with the benchmark credentials, configured as the archiver's
    hook configures its clients (`configure_s3_session`)."""
    import boto3

    session = boto3.session.Session()
    try:
        from kaltura_archiver.archive_store import configure_s3_session
    except ImportError:  # an older checkout measured beside this one (`--tree`)
        pass
    else:
        configure_s3_session(session)
    return session.client(
        "s3",
        endpoint_url=endpoint,
        region_name=BENCH_AWS["AWS_DEFAULT_REGION"],
        aws_access_key_id=BENCH_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=BENCH_AWS["AWS_SECRET_ACCESS_KEY"],
    )
