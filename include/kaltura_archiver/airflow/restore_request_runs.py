"""Self-service restore requests from the dashboard: checked, then a `kaltura_restore` run or a message.

The entry ids a person types are parsed and screened like a queue message (`kaltura_archiver.
restore_requests`): malformed ids, entries Kaltura does not know, entries that hold their real video
and placeholders without an S3 archive are refused with the reason. The rest become one live
`kaltura_restore` run named `restore_request__<time>`, triggered as the person who asked (the run
records who, when and which entries; its note says it came from the dashboard). When the variable
`kaltura_archiver_restore_queue_url` names an SQS queue, the request goes there as a message instead,
for the DAG that watches the queue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kaltura_archiver.airflow.dashboard_sources import AWS_CONN_ID, archiver_settings, s3_client, variable
from kaltura_archiver.airflow.settings import VARIABLE_PREFIX
from kaltura_archiver.dashboard_html import RequestNotice, RequestRow
from kaltura_archiver.restore_requests import EntryFacts, QueueMessage, parse_message, screen

RESTORE_DAG = "kaltura_restore"
RUN_PREFIX = "restore_request__"
QUEUE_VARIABLE = f"{VARIABLE_PREFIX}restore_queue_url"
KALTURA_CONN_ID = "kaltura_default"
SHOWN = 20


def entry_facts(entry_ids: list[str]) -> dict[str, EntryFacts]:
    """What Kaltura and S3 know of each entry (one multi-get, one HEAD per entry)."""
    from botocore.exceptions import ClientError

    from kaltura_archiver.airflow.hooks.kaltura import KalturaHook

    settings = archiver_settings()
    found = KalturaHook(KALTURA_CONN_ID).get_api().get_entries(entry_ids)
    client = s3_client()
    facts: dict[str, EntryFacts] = {}
    for entry_id in entry_ids:
        record = found.get(entry_id)
        if record is None:
            facts[entry_id] = EntryFacts(exists=False)
            continue
        size, storage = None, None
        try:
            head = client.head_object(Bucket=settings.bucket, Key=entry_id)
            size, storage = int(head["ContentLength"]), head.get("StorageClass", "STANDARD")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        facts[entry_id] = EntryFacts(True, tuple(record.tags), size, storage)
    return facts


def submit(text: str, user: str) -> RequestNotice:
    """Check the typed ids and start (or queue) the restore of the acceptable ones."""
    ids = [part for part in re.split(r"[\s,;]+", text) if part]
    now = datetime.now(UTC)
    body = {"entry_ids": ids, "requested_by": user[:200], "source": "dashboard"}
    requests, rejected = parse_message(QueueMessage(f"dashboard-{now:%Y%m%dT%H%M%S}", body))
    refused = [(r.entry_id or "request", r.reason) for r in rejected]
    if not requests:
        return RequestNotice([], refused or [("request", "no entry ids given")])
    try:
        facts = entry_facts([r.entry_id for r in requests])
    except Exception as exc:  # noqa: BLE001 - Kaltura and S3 errors of every kind end up on the page
        return RequestNotice([], refused, error=f"could not check the entries: {type(exc).__name__}: {exc}")
    kept, dropped = screen(requests, facts, archiver_settings().replaced_tag)
    refused += [(r.entry_id, r.reason.split(": ", 1)[-1]) for r in dropped]
    accepted = [r.entry_id for r in kept]
    if not accepted:
        return RequestNotice([], refused)
    queue = variable(QUEUE_VARIABLE)
    if queue:
        from airflow.providers.amazon.aws.hooks.sqs import SqsHook

        message = {**body, "entry_ids": accepted}
        sqs: Any = SqsHook(aws_conn_id=AWS_CONN_ID).get_conn()
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(message))
        return RequestNotice(accepted, refused, run=f"sent to the restore queue {queue}")
    run_id = f"{RUN_PREFIX}{now:%Y-%m-%dT%H:%M:%S.%f}"
    _trigger(run_id, accepted, user)
    return RequestNotice(accepted, refused, run=run_id)


def _trigger(run_id: str, entry_ids: list[str], user: str) -> None:
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.utils.types import DagRunTriggeredByType

    conf = {"entry_ids": entry_ids, "dry_run": False, "max_entries": len(entry_ids)}
    trigger_dag(
        RESTORE_DAG,
        triggered_by=DagRunTriggeredByType.UI,
        triggering_user_name=user,
        run_id=run_id,
        conf=conf,
        note=f"Restore requested on the Kaltura archive dashboard by {user}",
    )


def _progress(states: Mapping[str, int], run_state: str, paused: bool) -> str:
    if run_state == "queued" and paused:
        return f"waiting: {RESTORE_DAG} is paused (unpause it to start restores)"
    if not states:
        return "selecting entries" if run_state in ("queued", "running") else "no entry was restored"
    total = sum(states.values())
    done = states.get("success", 0)
    parts = [f"{done} of {total} done"]
    waiting = sum(states.get(s, 0) for s in ("deferred", "running", "queued", "scheduled", "up_for_retry"))
    if waiting:
        parts.append(f"{waiting} under way (Glacier or conversion)")
    if states.get("failed"):
        parts.append(f"{states['failed']} failed")
    return ", ".join(parts)


def recent_requests() -> list[RequestRow]:
    """The latest dashboard restore requests with the state of their runs and entries."""
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    rows: list[RequestRow] = []
    with create_session() as session:
        paused = bool(session.scalar(select(DagModel.is_paused).where(DagModel.dag_id == RESTORE_DAG)))
        runs = session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == RESTORE_DAG, DagRun.run_id.like(f"{RUN_PREFIX}%"))
            .order_by(DagRun.run_after.desc())
            .limit(SHOWN)
        ).all()
        for run in runs:
            counts = session.execute(
                select(TaskInstance.state, func.count())
                .where(
                    TaskInstance.dag_id == RESTORE_DAG,
                    TaskInstance.run_id == run.run_id,
                    TaskInstance.task_id == "restore_entry",
                    TaskInstance.map_index >= 0,
                )
                .group_by(TaskInstance.state)
            ).all()
            states = {str(state): int(n) for state, n in counts}
            conf: dict[str, Any] = dict(run.conf or {})
            rows.append(
                RequestRow(
                    when=f"{run.run_after:%Y-%m-%d %H:%M} UTC",
                    who=str(run.triggering_user_name or ""),
                    entries=", ".join(conf.get("entry_ids") or []),
                    run=run.run_id,
                    state=str(run.state),
                    progress=_progress(states, str(run.state), paused),
                )
            )
    return rows
