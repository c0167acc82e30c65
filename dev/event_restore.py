"""Event-driven restore on the local stack: the request queue in the moto server, request messages,
placeholders made without Airflow, and an Airflow deployment whose triggerer watches the queue.

Used by tests/cluster/test_event_restore.py and `make demo`. The queue lives in the same moto server
as S3 (`dev/s3_server.py` passes SQS requests through), so `aws_default`'s one `endpoint_url` serves
both, as a deployment's AWS connection serves S3 and SQS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from dev.cluster.airflow_cluster import AirflowCluster
from dev.stack import AWS_KEY_ID, AWS_SECRET, BUCKET, LocalStack

QUEUE_NAME = "kaltura-restore-requests"


def sqs_client(endpoint_url: str) -> Any:
    """A boto3 SQS client for the local moto server."""
    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
        region_name="us-east-1",
    )


def create_queue(endpoint_url: str, name: str = QUEUE_NAME) -> str:
    """Create (or find) the request queue; returns its URL."""
    return str(sqs_client(endpoint_url).create_queue(QueueName=name)["QueueUrl"])


def send_request(
    endpoint_url: str,
    queue_url: str,
    entry_ids: Iterable[str],
    urgency: str = "normal",
    requested_by: str = "",
) -> str:
    """Send one restore request as a deployment's sender would (see README); returns the message id."""
    body: dict[str, Any] = {"entry_ids": list(entry_ids), "urgency": urgency}
    if requested_by:
        body["requested_by"] = requested_by
    return send_raw(endpoint_url, queue_url, json.dumps(body))


def send_raw(endpoint_url: str, queue_url: str, body: str) -> str:
    """Send any body (a malformed message, for instance); returns the message id."""
    return str(sqs_client(endpoint_url).send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"])


def make_placeholders(stack: LocalStack, entry_ids: Iterable[str], timeout: float = 120) -> None:
    """Archive and replace entries with the project's own operations (no Airflow), Glacier class."""
    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.config import ArchiverSettings
    from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings
    from kaltura_archiver.operations import OperationContext, archive_entry, replace_entry
    from kaltura_archiver.operations.outcome import Outcome

    assert stack.kaltura is not None
    settings = ArchiverSettings(
        bucket=BUCKET, placeholder_video=stack.placeholder_video, replace_min_age_years=0
    )
    env = stack.settings_env()
    api = KalturaApi(
        KalturaConnectionSettings(
            service_url=stack.kaltura.url,
            partner_id=int(env["KALTURA_PARTNER_ID"]),
            admin_secret=env["KALTURA_ADMIN_SECRET"],
        )
    )
    for entry_id in entry_ids:
        for operation in (archive_entry, replace_entry):
            deadline = time.monotonic() + timeout
            after_wait = False
            while True:
                ctx = OperationContext(
                    api, ArchiveStore(stack.s3_client(), BUCKET, settings), settings, live=True
                )
                result = operation(ctx, entry_id, after_wait=after_wait)
                if result.outcome in (Outcome.DONE, Outcome.DONE_BEFORE):
                    break
                if result.outcome is not Outcome.WAITING_FOR_READY or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{entry_id}: {result.operation} {result.outcome.value}: {result.reason}"
                    )
                after_wait = True
                time.sleep(0.5)


@dataclass
class WatchingCluster(AirflowCluster):
    """`make cluster`'s deployment with the restore-request queue configured for the DAG processor.

    The queue URL is read when DAG files are parsed, so it is given to every component as
    `AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_URL` (a deployment sets the Variable instead).
    """

    queue_url: str = ""
    queue_pause_seconds: int = 1

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_URL"] = self.queue_url
        env["AIRFLOW_VAR_KALTURA_ARCHIVER_RESTORE_QUEUE_POLL_SECONDS"] = str(self.queue_pause_seconds)
        return env


def first_restore_request(stack: LocalStack, entry_ids: Iterable[str], timeout: float) -> dict[str, float]:
    """Wait until S3 has a restore request for each entry; seconds (from now) at which each appeared."""
    wanted = set(entry_ids)
    started = time.monotonic()
    seen: dict[str, float] = {}
    control = stack.s3_control
    while wanted - set(seen):
        for item in control.restores():
            if item["bucket"] == BUCKET and item["key"] in wanted and item["key"] not in seen:
                seen[item["key"]] = time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no restore request for {sorted(wanted - set(seen))} within {timeout:.0f} s")
        time.sleep(0.2)
    return seen


def start_watching_cluster(
    stack: LocalStack, root: Path, queue_url: str, timeout: float = 300
) -> WatchingCluster:
    """Start the deployment with the queue watched; unpause `kaltura_restore_requests`; live requests."""
    cluster = WatchingCluster(root, queue_url=queue_url, worker_concurrency=2)
    cluster.start(stack.settings_env(), timeout=timeout)
    api = cluster.client()
    for key, value in {
        "kaltura_archiver_live_schedules": "true",
        "kaltura_archiver_unattended": "true",
        "kaltura_archiver_glacier_poll_seconds": "1",
        "kaltura_archiver_ready_poll_seconds": "1",
    }.items():
        api.set_variable(key, value)
    api.set_paused("kaltura_restore_requests", False)
    wait_for_watcher(cluster, timeout)
    return cluster


WATCHER_POLLING = "SqsSensor checking for message on queue"
"""What the Amazon provider's SqsSensorTrigger logs each time it polls (in the triggerer's log)."""


def wait_for_watcher(cluster: AirflowCluster, timeout: float) -> None:
    """Wait until the triggerer's log shows the queue watcher polling (the asset watcher is running)."""
    log = cluster.root / "logs" / "triggerer.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        if log.exists() and WATCHER_POLLING in log.read_text(errors="replace"):
            return
        time.sleep(1)
    raise TimeoutError(f"the triggerer did not start watching the queue within {timeout:.0f} s; see {log}")


def demo_event_restore(
    stack: LocalStack, root: Path, entry_ids: list[str], timeout: float = 600
) -> dict[str, Any]:
    """`make demo`'s last act: a deployment watching the queue restores `entry_ids` on one message.

    Returns what a person wants to know: seconds from the message to the run and to the Glacier
    restore request, and which entries came back.
    """
    from datetime import UTC, datetime

    endpoint = stack.s3.endpoint_url if stack.s3 else ""
    queue_url = create_queue(endpoint)
    cluster = start_watching_cluster(stack, root, queue_url)
    try:
        api = cluster.client()
        sent = datetime.now(UTC)
        send_request(endpoint, queue_url, entry_ids, "urgent", "make demo")
        seen = first_restore_request(stack, entry_ids, timeout=timeout)
        runs = api.wait(lambda: api.runs("kaltura_restore_requests") or None, timeout, "the run")
        created = min(datetime.fromisoformat(r["queued_at"]) for r in runs)
        for run in runs:
            api.wait_for_run("kaltura_restore_requests", run["dag_run_id"], timeout)
        back = [e for e in entry_ids if "flavors_deleted" not in stack.kaltura_control.entry(e)["tags"]]
        return {
            "message_to_run_s": round((created - sent).total_seconds(), 1),
            "message_to_restore_request_s": round(max(seen.values()), 1),
            "restored": back,
            "runs": [
                r["state"] for r in (api.run("kaltura_restore_requests", x["dag_run_id"]) for x in runs)
            ],
        }
    finally:
        cluster.stop()
