"""Operators of `kaltura_verify`: sample archived entries, verify each (deferring on Glacier), record.

`VerifySampleOperator` lists the bucket, reads the verification history from the reports location
for this month's spend, and returns a random sample (`verification.choose_sample`, seeded by the run
id, so a re-run picks the same entries). `VerifyEntryOperator` verifies one entry
(`verification.verify_entry`): a Glacier object is restored at the cheapest tier and the task waits
in the triggerer; a mismatch fails the task under its entry id. `RecordVerificationOperator` appends
every result to the history (`verification/history.csv`) and fails the run naming every mismatch.
Settings are the Variables `kaltura_archiver_verify_*` (`verification.SETTING_NAMES`).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator, Context, Variable
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.runtime import TaskRuntime, build_runtime
from kaltura_archiver.airflow.settings import VARIABLE_PREFIX, reports_location
from kaltura_archiver.config import SettingsError
from kaltura_archiver.filters import ENTRY_ID_RE
from kaltura_archiver.report_store import ReportLocation, ReportLocationError
from kaltura_archiver.verification import (
    HISTORY_NAME,
    MISMATCH,
    SETTING_NAMES,
    WAITING,
    VerifyLimits,
    VerifyLimitsError,
    VerifyResult,
    append_history,
    choose_sample,
    history_rows,
    limits_from_mapping,
    lines,
    month_spent,
    read_history,
    run_verdict,
    verify_entry,
)

SAMPLE_XCOM_KEY = "sample"


def load_limits() -> VerifyLimits:
    """Verification limits from the Variables `kaltura_archiver_verify_*`."""
    names = SETTING_NAMES.values()
    return limits_from_mapping({n: Variable.get(f"{VARIABLE_PREFIX}{n}", default=None) for n in names})


def _history(runtime: TaskRuntime, tmp: Path) -> tuple[ReportLocation, Path, Any]:
    location = ReportLocation.parse(reports_location())
    client = runtime.s3_client if location.scheme == "s3" else None
    local = tmp / "history.csv"
    location.fetch(HISTORY_NAME, local, s3_client=client)
    return location, local, client


class VerifySampleOperator(BaseOperator):
    """Pick this run's random sample of archived entries (module docstring); returns their ids."""

    template_fields: Sequence[str] = ("entry_ids",)
    ui_color = "#e6f4ea"

    def __init__(
        self, *, entry_ids: Any = None, aws_conn_id: str | None = "aws_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.entry_ids = entry_ids
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> list[str]:
        try:
            limits = load_limits()
            runtime = build_runtime("kaltura_default", self.aws_conn_id, self.log)
            with tempfile.TemporaryDirectory() as tmp:
                _location, local, _client = _history(runtime, Path(tmp))
                spent = month_spent(read_history(local), datetime.now(UTC))
        except (VerifyLimitsError, SettingsError, ReportLocationError) as exc:
            raise AirflowFailException(f"Invalid verification settings, nothing was read: {exc}") from None
        archives = {k: v for k, v in runtime.store.archive_sizes().items() if ENTRY_ID_RE.match(k)}
        named = [str(e) for e in (self.entry_ids or [])]
        if named:
            unknown = [e for e in named if e not in archives]
            if unknown:
                raise AirflowFailException(
                    f"no archive in S3 for {', '.join(unknown[:20])}; nothing was read"
                )
            archives = {e: archives[e] for e in named}
            limits = VerifyLimits(
                sample_entries=len(named),
                max_entry_mb=limits.max_entry_mb,
                max_run_gb=limits.max_run_gb,
                monthly_budget_gb=limits.monthly_budget_gb,
                restore_days=limits.restore_days,
            )
        sample = choose_sample(archives, limits, spent, random.Random(str(context["run_id"])))
        for line in sample.lines():
            self.log.info("%s", line)
        context["ti"].xcom_push(
            key=SAMPLE_XCOM_KEY, value={"bytes": sample.bytes, "archived": sample.archived}
        )
        return sample.entry_ids


class VerifyEntryOperator(BaseOperator):
    """Verify one entry's archive; waits for a Glacier restore in the triggerer; fails on a mismatch."""

    template_fields: Sequence[str] = ("entry_id",)
    ui_color = "#e6f4ea"

    def __init__(
        self,
        *,
        entry_id: str,
        aws_conn_id: str | None = "aws_default",
        glacier_timeout: timedelta = timedelta(days=3),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entry_id = entry_id
        self.aws_conn_id = aws_conn_id
        self.glacier_timeout = glacier_timeout

    def execute(self, context: Context) -> dict[str, Any]:
        from kaltura_archiver.airflow.triggers.s3_restore import S3ObjectRestoreTrigger

        runtime = build_runtime("kaltura_default", self.aws_conn_id, self.log)
        try:
            limits = load_limits()
        except VerifyLimitsError as exc:
            raise AirflowFailException(str(exc)) from None
        result = verify_entry(runtime.store, str(self.entry_id), limits, log=self.log.info)
        if result.status == WAITING:
            self.log.info("%s: %s; waiting in the triggerer", self.entry_id, result.detail)
            self.defer(
                trigger=S3ObjectRestoreTrigger(
                    bucket_name=runtime.settings.bucket,
                    key=str(self.entry_id),
                    aws_conn_id=self.aws_conn_id,
                    poll_interval=runtime.settings.glacier_poll_seconds,
                ),
                method_name="execute_complete",
                timeout=self.glacier_timeout,
            )
        return self._finish(context, result)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the Glacier restore: verify again from the live state."""
        event = event or {}
        if event.get("status") in {"error", "missing"}:
            result = VerifyResult(
                str(self.entry_id), event.get("status", "error"), str(event.get("message", ""))
            )
            return self._finish(context, result)
        return self.execute(context)

    def _finish(self, context: Context, result: VerifyResult) -> dict[str, Any]:
        data = result.as_dict()
        if result.status == MISMATCH:
            context["ti"].xcom_push(key="return_value", value=data)
            raise AirflowFailException(f"{result.entry_id} MISMATCH: {result.detail}")
        self.log.info("%s %s: %s", result.status.upper(), result.entry_id, result.detail)
        return data


class RecordVerificationOperator(BaseOperator):
    """Append the run's results to the verification history; fail naming every mismatch."""

    template_fields: Sequence[str] = ()
    ui_color = "#e6f4ea"

    def __init__(
        self,
        *,
        sample_task_id: str,
        entry_task_id: str,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.sample_task_id = sample_task_id
        self.entry_task_id = entry_task_id
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        sampled = ti.xcom_pull(task_ids=self.sample_task_id)
        if sampled is None:
            raise AirflowFailException(
                f"{self.sample_task_id} did not finish (see its log): nothing was verified"
            )
        raw = ti.xcom_pull(task_ids=self.entry_task_id) if sampled else []
        raw = [raw] if isinstance(raw, dict) else list(raw or [])
        results = [VerifyResult(**r) for r in raw if isinstance(r, dict)]
        seen = {r.entry_id for r in results}
        results += [
            VerifyResult(e, "failed", "its task failed (see its log)") for e in sampled if e not in seen
        ]
        for line in lines(results):
            self.log.info("%s", line)
        runtime = build_runtime("kaltura_default", self.aws_conn_id, self.log)
        with tempfile.TemporaryDirectory() as tmp:
            location, local, client = _history(runtime, Path(tmp))
            append_history(local, history_rows(str(context["run_id"]), datetime.now(UTC), results))
            uri = location.publish(local, HISTORY_NAME, client)
        self.log.info("Verification history: %s", uri)
        mismatches, not_good = run_verdict(results)
        summary = {
            "sampled": len(sampled),
            "bytes_read": sum(r.bytes_read for r in results),
            "good": len(results) - len(not_good),
            "mismatches": [r.entry_id for r in mismatches],
            "not_proven": [r.entry_id for r in not_good if r not in mismatches],
            "history": uri,
        }
        if mismatches:
            raise AirflowFailException(
                f"{len(mismatches)} archive(s) differ from what was archived: "
                + "; ".join(f"{r.entry_id}: {r.detail}" for r in mismatches[:20])
            )
        failed = [r.entry_id for r in results if r.status == "failed"]
        if failed:
            raise AirflowFailException(
                f"{len(failed)} entries could not be verified: {', '.join(failed[:20])}"
            )
        return summary
