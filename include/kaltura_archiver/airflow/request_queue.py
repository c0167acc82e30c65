"""The restore-request queue as an Airflow Asset watched by the triggerer (SQS through common-messaging).

`restore_requests_asset()` is the Asset `kaltura_restore_requests`; when the Variable (or
`AIRFLOW_VAR_...` environment variable) `kaltura_archiver_restore_queue_url` names an SQS queue, the
asset gets an `AssetWatcher` whose trigger is the common messaging provider's `MessageQueueTrigger`
with scheme ``sqs`` (the Amazon provider's `SqsSensorTrigger`): the triggerer long-polls the queue,
deletes what it received, and every batch becomes one asset event whose `extra["payload"]` holds the
messages, which schedules a `kaltura_restore_requests` run. The URL is read when the DAG file is
parsed, so a changed URL takes effect at the next parse.
"""

from __future__ import annotations

import os

from airflow.sdk import Asset, AssetWatcher

QUEUE_URL_VARIABLE = "kaltura_archiver_restore_queue_url"
QUEUE_POLL_SECONDS_VARIABLE = "kaltura_archiver_restore_queue_poll_seconds"
ASSET_NAME = "kaltura_restore_requests"
ASSET_URI = "x-kaltura-archiver://requests/restore"
"""An ``x-`` scheme: Airflow leaves it as it is, where another scheme makes parsing load every
provider's URI normaliser (the Amazon one imports boto3)."""
LONG_POLL_SECONDS = 10
"""SQS long polling (ReceiveMessage WaitTimeSeconds, at most 20): a message is seen as soon as it
arrives while the call is open, and an empty queue costs one call per this many seconds."""
DEFAULT_PAUSE_SECONDS = 5
MAX_MESSAGES = 10


def _variable(name: str) -> str | None:
    env = os.environ.get(f"AIRFLOW_VAR_{name.upper()}")
    if env is not None:
        return env
    try:
        from airflow.sdk import Variable

        value = Variable.get(name, default=None)
    except Exception:  # noqa: BLE001 - no metadata DB / API at parse time: no watcher
        return None
    return None if value is None else str(value)


def restore_queue_url() -> str | None:
    """The SQS queue URL restore requests arrive on, or None when none is configured."""
    url = (_variable(QUEUE_URL_VARIABLE) or "").strip()
    return url or None


def queue_pause_seconds() -> int:
    """Pause between two long polls that found nothing (Variable, default 5 s; 0 to 300)."""
    raw = (_variable(QUEUE_POLL_SECONDS_VARIABLE) or "").strip()
    try:
        value = int(raw) if raw else DEFAULT_PAUSE_SECONDS
    except ValueError:
        value = DEFAULT_PAUSE_SECONDS
    return min(max(value, 0), 300)


def restore_requests_asset(queue_url: str | None, aws_conn_id: str = "aws_default") -> Asset:
    """The asset a restore request updates; watched on `queue_url` when one is given."""
    if not queue_url:
        return Asset(name=ASSET_NAME, uri=ASSET_URI)
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    trigger = MessageQueueTrigger(
        scheme="sqs",
        sqs_queue=queue_url,
        aws_conn_id=aws_conn_id,
        max_messages=MAX_MESSAGES,
        wait_time_seconds=LONG_POLL_SECONDS,
        waiter_delay=queue_pause_seconds(),
    )
    return Asset(
        name=ASSET_NAME,
        uri=ASSET_URI,
        watchers=[AssetWatcher(name="kaltura_restore_request_queue", trigger=trigger)],
    )
