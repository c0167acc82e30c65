"""Deferrable sensor: wait until an S3 object in Glacier is restored (readable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from kaltura_archiver.airflow.triggers.s3_restore import (
    MISSING,
    NOT_REQUESTED,
    RESTORED,
    S3ObjectRestoreTrigger,
    head_status,
)


class S3ObjectRestoredSensor(BaseSensorOperator):
    """Succeeds once s3://bucket_name/key is readable; pokes once, then defers to the trigger.

    With `request_restore=True` it asks S3 for a restore (tier and days given) when none is under
    way. Fails when the object does not exist.
    """

    template_fields: Sequence[str] = ("bucket_name", "key")

    def __init__(
        self,
        *,
        bucket_name: str,
        key: str,
        aws_conn_id: str | None = "aws_default",
        request_restore: bool = False,
        restore_tier: str = "Bulk",
        restore_days: int = 2,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 300.0)
        kwargs.setdefault("timeout", timedelta(days=2).total_seconds())
        super().__init__(**kwargs)
        self.bucket_name = bucket_name
        self.key = key
        self.aws_conn_id = aws_conn_id
        self.request_restore = request_restore
        self.restore_tier = restore_tier
        self.restore_days = restore_days
        self.deferrable = deferrable

    def poke(self, context: Any) -> bool:
        """One HEAD: True when readable; requests a restore when asked to and none is under way."""
        client: Any = S3Hook(aws_conn_id=self.aws_conn_id).get_conn()
        status = head_status(client, self.bucket_name, self.key)
        if status == MISSING:
            raise AirflowException(f"s3://{self.bucket_name}/{self.key} does not exist")
        if status == NOT_REQUESTED and self.request_restore:
            self.log.info("requesting a Glacier restore of s3://%s/%s", self.bucket_name, self.key)
            client.restore_object(
                Bucket=self.bucket_name,
                Key=self.key,
                RestoreRequest={
                    "Days": self.restore_days,
                    "GlacierJobParameters": {"Tier": self.restore_tier},
                },
            )
        return status == RESTORED

    def execute(self, context: Any) -> None:
        """Poke once; when not yet readable, defer (or poke on in the worker if not deferrable)."""
        if not self.deferrable:
            super().execute(context)
            return
        if self.poke(context):
            return
        self.defer(
            trigger=S3ObjectRestoreTrigger(
                bucket_name=self.bucket_name,
                key=self.key,
                aws_conn_id=self.aws_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger fired: succeed when restored, re-poke when no restore was under way."""
        status = (event or {}).get("status")
        if status == RESTORED:
            return
        if status == NOT_REQUESTED:
            self.execute(context)
            return
        raise AirflowException(f"waiting for s3://{self.bucket_name}/{self.key} failed: {event}")
