"""Thin operators around the per-entry operations: archive, replace, restore, repair.

Each builds the domain context from Airflow (KalturaApi from `KalturaHook`, a boto3 client from
the Amazon provider's `S3Hook` built on first use, `ArchiverSettings` as the run's `select` task
handed them over in one XCom, else from Variables), runs the operation on one
entry and returns `EntryOutcome.as_dict()`. Waiting never holds a worker slot: WAITING_FOR_READY
defers to `KalturaEntryReadyTrigger`, WAITING_FOR_GLACIER to `S3ObjectRestoreTrigger` (unless
`wait_for_glacier=False`, then the outcome is returned and a later run continues); on resume the
operation runs again from the live state. A failed entry fails its task, so it shows red under
its entry id: a retryable failure is retried by Airflow, a refusal (precondition not met) fails at
once. Either way the FAILED outcome is still pushed as the task's XCom for `summarize` to count.
Dry run (`dry_run=True`) is the default; the flag is kept (and templated) as `dry_run_flag`,
because `BaseOperator.dry_run` is a method.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from kaltura_archiver.airflow.runtime import as_bool, build_runtime, reference_time
from kaltura_archiver.airflow.settings import SETTINGS_XCOM_KEY, settings_from_xcom
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import ACTION_STATUSES, EntryFilter
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome

if TYPE_CHECKING:  # the operations (KalturaClient, requests, boto3) are imported when a task runs
    from kaltura_archiver.operations.context import OperationContext


class EntryOperationFailed(AirflowException):
    """A transient failure of an entry operation: Airflow retries the task."""


class EntryOperationRefused(AirflowFailException):
    """A failure that retrying will not heal (a precondition, a permanent error): the task fails at once."""


class EntryOperationOperator(BaseOperator):
    """Run one operation on one entry (see the module docstring); subclasses name the operation."""

    template_fields: Sequence[str] = ("entry_id", "dry_run_flag", "reference_time")
    operation_name: ClassVar[str] = "archive"
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        entry_id: str,
        dry_run: bool | str = True,
        kaltura_conn_id: str = "kaltura_default",
        aws_conn_id: str | None = "aws_default",
        reference_time: datetime | str | None = None,
        ready_poll_interval: float | None = None,
        ready_timeout: timedelta = timedelta(hours=6),
        glacier_poll_interval: float | None = None,
        glacier_timeout: timedelta = timedelta(days=2),
        wait_for_glacier: bool = True,
        settings_task_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entry_id = entry_id
        self.dry_run_flag = dry_run
        self.kaltura_conn_id = kaltura_conn_id
        self.aws_conn_id = aws_conn_id
        self.reference_time = reference_time
        self.ready_poll_interval = ready_poll_interval
        self.ready_timeout = ready_timeout
        self.glacier_poll_interval = glacier_poll_interval
        self.glacier_timeout = glacier_timeout
        self.wait_for_glacier = wait_for_glacier
        self.settings_task_id = settings_task_id

    def build_context(self, context: Any) -> OperationContext:
        """Connections, settings, mode and reference time for the domain operation."""
        from kaltura_archiver.operations.context import OperationContext

        runtime = build_runtime(
            self.kaltura_conn_id, self.aws_conn_id, self.log, settings=self.run_settings(context)
        )
        return OperationContext(
            api=runtime.api,
            store=runtime.store,
            settings=runtime.settings,
            live=not as_bool(self.dry_run_flag),
            now=reference_time(context, self.reference_time),
            logger=self.log,
            entry_statuses=run_statuses(context),
        )

    def run_settings(self, context: Any) -> ArchiverSettings | None:
        """The settings `settings_task_id` handed over (one XCom read), else None (read the Variables)."""
        if not self.settings_task_id:
            return None
        value = context["ti"].xcom_pull(task_ids=self.settings_task_id, key=SETTINGS_XCOM_KEY)
        return settings_from_xcom(value)

    def execute(self, context: Any) -> dict[str, Any]:
        """Run the operation; defer when it waits; return the outcome."""
        return self._run(context, after_wait=False)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after a wait: re-run the operation from the live state."""
        event = event or {}
        self.log.info("resumed after waiting: %s", event)
        if event.get("status") in {"error", "missing"}:
            result = EntryOutcome(
                str(self.entry_id),
                self.operation_name,
                Outcome.FAILED,
                f"waiting failed: {event.get('message') or event.get('status')}",
                {"dry_run": as_bool(self.dry_run_flag), "retryable": False},
            )
            return self._finish(context, result)
        return self._run(context, after_wait=True)

    def _run(self, context: Any, after_wait: bool) -> dict[str, Any]:
        from kaltura_archiver.airflow.triggers.kaltura_ready import KalturaEntryReadyTrigger
        from kaltura_archiver.airflow.triggers.s3_restore import S3ObjectRestoreTrigger

        ctx = self.build_context(context)
        result = self.run_operation(ctx, context, after_wait)
        if ctx.live and result.outcome is Outcome.WAITING_FOR_READY:
            self.defer(
                trigger=KalturaEntryReadyTrigger(
                    entry_id=str(self.entry_id),
                    kaltura_conn_id=self.kaltura_conn_id,
                    poll_interval=self.ready_poll_interval or ctx.settings.ready_poll_seconds,
                ),
                method_name="execute_complete",
                timeout=self.ready_timeout,
            )
        if ctx.live and self.wait_for_glacier and result.outcome is Outcome.WAITING_FOR_GLACIER:
            self.defer(
                trigger=S3ObjectRestoreTrigger(
                    bucket_name=ctx.settings.bucket,
                    key=str(self.entry_id),
                    aws_conn_id=self.aws_conn_id,
                    poll_interval=self.glacier_poll_interval or ctx.settings.glacier_poll_seconds,
                ),
                method_name="execute_complete",
                timeout=self.glacier_timeout,
            )
        return self._finish(context, result)

    def run_operation(self, ctx: OperationContext, context: Any, after_wait: bool) -> EntryOutcome:
        """The domain operation on this entry (a subclass may run a variant of it)."""
        from kaltura_archiver.operations import OPERATIONS

        return OPERATIONS[self.operation_name](ctx, str(self.entry_id), after_wait=after_wait)

    def _finish(self, context: Any, result: EntryOutcome) -> dict[str, Any]:
        """Return the outcome; a FAILED one is pushed as XCom and fails the task (retried if it may heal)."""
        from kaltura_archiver.operations.runner import outcome_label

        if result.outcome is Outcome.FAILED:
            context["ti"].xcom_push(key="return_value", value=result.as_dict())
            message = f"{result.entry_id} {result.operation} failed: {result.reason}"
            if result.retryable:
                raise EntryOperationFailed(message)
            raise EntryOperationRefused(message)
        self.log.info(
            "%s %s: %s - %s", result.entry_id, result.operation, outcome_label(result), result.reason
        )
        return result.as_dict()


class ArchiveEntryOperator(EntryOperationOperator):
    """Archive one entry's original flavor to S3 and tag it `archived_to_s3`."""

    operation_name = "archive"


class ReplaceEntryOperator(EntryOperationOperator):
    """Replace one archived entry's video by the placeholder; waits for READY by deferral."""

    operation_name = "replace"


class RestoreEntryOperator(EntryOperationOperator):
    """Restore one replaced entry's video from S3; waits for Glacier and READY by deferral."""

    operation_name = "restore"


class RepairEntryOperator(EntryOperationOperator):
    """Repair one unhealthy entry from its tags and S3 copy; waits for Glacier and READY by deferral."""

    operation_name = "repair"


def run_statuses(context: Any) -> tuple[int | str, ...]:
    """The entry statuses the run's trigger named (`status` param), else READY only."""
    named = (context.get("params") or {}).get("status")
    return EntryFilter(status=named).status if named else ACTION_STATUSES
