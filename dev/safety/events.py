"""Safety of the event-driven restore and of archive verification, for tests/safety/.

* `bucket_state`: every key of the bucket with its ETag, size and storage class (manifests too), so a
  test can show that verification wrote nothing.
* `kill_requested_restores`: a requested restore (`RequestedRestoreOperator`, the task a queue
  message starts) run in a child process and killed before each of its steps in turn (dev.safety.crash).
* `kill_verification_mid_stream`: a verification killed (SIGKILL) after the first chunk it read.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from typing import Any

from dev.safety.crash import ChildRun, run_children, run_in_child, start_child


def bucket_state(s3: Any, bucket: str) -> dict[str, tuple[str, int, str]]:
    """key -> (ETag, size, storage class) of every object, manifests and previous versions included."""
    state: dict[str, tuple[str, int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            state[item["Key"]] = (item["ETag"], int(item["Size"]), item.get("StorageClass", "STANDARD"))
    return state


def kill_requested_restores(
    reference_id: str, entry_ids: list[str], tier: str
) -> tuple[ChildRun, list[ChildRun]]:
    """Run the reference entry's requested restore to the end (its steps), then kill one child per
    entry before step k (k = 0 .. len(steps), the last one after every step)."""
    operation = f"requested-restore:{tier}"
    reference = run_in_child(operation, reference_id)
    wanted = len(reference.steps) + 1
    if len(entry_ids) < wanted:
        raise ValueError(f"{len(reference.steps)} steps need {wanted} entries, got {len(entry_ids)}")
    specs: list[tuple[str, str, int | None, bool]] = [
        (operation, entry_id, k, k % 2 == 0) for k, entry_id in enumerate(entry_ids[:wanted])
    ]
    return reference, run_children(specs)


def _verify_killed_after_first_chunk(entry_id: str) -> None:
    from kaltura_archiver.airflow.operators.verify import load_limits
    from kaltura_archiver.airflow.runtime import build_runtime
    from kaltura_archiver.verification import verify_entry

    runtime = build_runtime("kaltura_default", "aws_default", logging.getLogger("safety"))

    def chunks(key: str) -> Iterator[bytes]:
        for chunk in runtime.store.open_stream(key):
            yield chunk
            os.kill(os.getpid(), signal.SIGKILL)

    verify_entry(runtime.store, entry_id, load_limits(), chunks=chunks)
    os._exit(3)


def kill_verification_mid_stream(entry_id: str) -> int:
    """Verify `entry_id` (connections from AIRFLOW_CONN_*) in a child killed after its first chunk;
    returns the child's exit code (a signal number as a negative value)."""
    child = start_child(_verify_killed_after_first_chunk, entry_id)
    child.join()
    return child.exitcode
