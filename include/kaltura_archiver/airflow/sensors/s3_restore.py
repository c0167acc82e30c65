"""Deferrable sensor: wait until an S3 object in Glacier is restored (readable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException
from botocore.exceptions import BotoCoreError, ClientError

from kaltura_archiver.airflow.triggers.s3_restore import (
    MISSING,
    NOT_REQUESTED,
    RESTORED,
    S3ObjectRestoreTrigger,
    head_status,
    permanent_error,
)


class S3ObjectRestoredSensor(BaseSensorOperator):
    """Succeeds once s3://bucket_name/key is readable; pokes once, then defers to the trigger.

    With `request_restore=True` it asks S3 for a restore (tier and days given) when none is under
    way (at most twice: again only if a restore lapsed before it was seen). It fails at once, without
    retries, when the object does not exist, when no restore is under way and it may not request one,
    and on S3 errors that will not heal (access denied, no such bucket, bad credentials).
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
        where = f"s3://{self.bucket_name}/{self.key}"
        try:
            client: Any = S3Hook(aws_conn_id=self.aws_conn_id).get_conn()
            status = head_status(client, self.bucket_name, self.key)
            if status == MISSING:
                raise AirflowFailException(f"{where} does not exist")
            if status == NOT_REQUESTED and not self.request_restore:
                raise AirflowFailException(
                    f"{where} is in Glacier and no restore is under way; request one (request_restore=True)"
                )
            if status == NOT_REQUESTED:
                self.log.info("requesting a Glacier restore of %s", where)
                client.restore_object(
                    Bucket=self.bucket_name,
                    Key=self.key,
                    RestoreRequest={
                        "Days": self.restore_days,
                        "GlacierJobParameters": {"Tier": self.restore_tier},
                    },
                )
        except (ClientError, BotoCoreError) as err:
            message = permanent_error(err)
            if message:
                raise AirflowFailException(f"{where}: {message}") from None
            raise
        return status == RESTORED

    def execute(self, context: Any, requested_before: bool = False) -> None:
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
            kwargs={"requested_before": requested_before},
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(
        self, context: Any, event: dict[str, Any] | None = None, requested_before: bool = False
    ) -> None:
        """Resume after the trigger fired: succeed when restored; a lapsed restore is requested once more."""
        status = (event or {}).get("status")
        if status == RESTORED:
            return
        where = f"s3://{self.bucket_name}/{self.key}"
        if status == NOT_REQUESTED and self.request_restore and not requested_before:
            self.log.info("the restore of %s lapsed before it was seen; requesting it once more", where)
            self.execute(context, requested_before=True)
            return
        if status == NOT_REQUESTED:
            raise AirflowFailException(f"{where}: no Glacier restore is under way any more")
        raise AirflowFailException(f"waiting for {where} failed: {(event or {}).get('message') or status}")
