"""Trigger that waits for an S3 Glacier restore: polls HEAD's `Restore` header without blocking the loop.

Nothing in the Amazon provider waits for an object restore; this follows its S3KeyTrigger: the
connection comes from the provider's S3Hook, and each HEAD runs in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)

from kaltura_archiver.archive_store import ARCHIVE_CLASSES, RESTORE_DONE, RESTORE_ONGOING, parse_restore

RESTORED = "restored"
ONGOING = "ongoing"
NOT_REQUESTED = "not_requested"
MISSING = "missing"
ERROR = "error"
# S3 answers that waiting will not change: wrong or missing credentials, no permission, no bucket or key.
PERMANENT_CODES = frozenset(
    {
        "403",
        "Forbidden",
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "NoSuchBucket",
        "NoSuchKey",
        "InvalidBucketName",
    }
)
PERMANENT_BOTO_ERRORS = (NoCredentialsError, PartialCredentialsError, ParamValidationError)


def permanent_error(err: Exception) -> str | None:
    """A clear message when `err` will not heal by waiting (credentials, access, bucket); else None."""
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code"))
        if code in PERMANENT_CODES:
            return f"S3 refused the request ({code}): check the credentials, permissions, bucket and key"
        return None
    if isinstance(err, PERMANENT_BOTO_ERRORS):
        return f"S3 client error that will not heal: {type(err).__name__}: {err}"
    return None


def restore_status(head: dict[str, Any]) -> str:
    """RESTORED (readable), ONGOING or NOT_REQUESTED from a head_object response."""
    if head.get("StorageClass", "STANDARD") not in ARCHIVE_CLASSES and not head.get("ArchiveStatus"):
        return RESTORED
    state, _expiry = parse_restore(head.get("Restore"))
    if state == RESTORE_DONE:
        return RESTORED
    if state == RESTORE_ONGOING:
        return ONGOING
    return NOT_REQUESTED


def head_status(client: Any, bucket: str, key: str) -> str:
    """Restore status of one object (one HEAD); MISSING when it does not exist."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if str(err.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}:
            return MISSING
        raise
    return restore_status(head)


class S3ObjectRestoreTrigger(BaseTrigger):
    """Fires {"status": "restored"|"not_requested"|"missing"|"error", "bucket", "key"[, "message"]}.

    Keeps polling while the restore is ongoing; transient S3 errors (throttling, 5xx, network) are
    retried on the next poll, errors that will not heal (see `permanent_error`) fire "error" at once.
    """

    def __init__(
        self,
        bucket_name: str,
        key: str,
        aws_conn_id: str | None = "aws_default",
        poll_interval: float = 300.0,
    ):
        super().__init__()
        self.bucket_name = bucket_name
        self.key = key
        self.aws_conn_id = aws_conn_id
        self.poll_interval = poll_interval
        self._client: Any = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and constructor arguments."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket_name": self.bucket_name,
                "key": self.key,
                "aws_conn_id": self.aws_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    def _poll(self) -> str:
        """One blocking HEAD (runs in a thread)."""
        if self._client is None:
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            self._client = S3Hook(aws_conn_id=self.aws_conn_id).get_conn()
        return head_status(self._client, self.bucket_name, self.key)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the object is readable (or gone, or no restore is under way)."""
        payload = {"bucket": self.bucket_name, "key": self.key}
        while True:
            try:
                status = await asyncio.to_thread(self._poll)
            except (ClientError, BotoCoreError) as err:
                message = permanent_error(err)
                if message:
                    yield TriggerEvent({"status": ERROR, "message": message, **payload})
                    return
                self.log.info("S3 error while waiting for s3://%s/%s: %s", self.bucket_name, self.key, err)
            else:
                if status != ONGOING:
                    yield TriggerEvent({"status": status, **payload})
                    return
                self.log.info("Glacier restore of s3://%s/%s still under way", self.bucket_name, self.key)
            await asyncio.sleep(self.poll_interval)
