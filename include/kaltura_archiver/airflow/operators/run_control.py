"""Operators around the per-entry tasks of an action DAG: the approval gate and the run summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.runtime import as_bool
from kaltura_archiver.airflow.settings import is_unattended
from kaltura_archiver.run_summary import summarize_outcomes


class LiveRunApprovalOperator(ApprovalOperator):
    """Ask a human to approve a live run; dry runs and unattended deployments pass straight through.

    Unattended operation is switched on by the Variable `kaltura_archiver_unattended`.
    """

    template_fields: Sequence[str] = (*ApprovalOperator.template_fields, "dry_run_setting")

    def __init__(self, *, dry_run: Any = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dry_run_setting = dry_run

    def execute(self, context: Context) -> Any:
        if as_bool(self.dry_run_setting):
            self.log.info("Dry run: nothing will change, no approval needed")
            return {"chosen_options": [self.APPROVE], "approved_by": "dry run"}
        if is_unattended():
            self.log.info("Live run approved automatically (kaltura_archiver_unattended is set)")
            return {"chosen_options": [self.APPROVE], "approved_by": "unattended"}
        return super().execute(context)


class SummarizeOutcomesOperator(BaseOperator):
    """Count the per-entry outcomes of a run, log them, and fail the run if any entry failed."""

    template_fields: Sequence[str] = ("dry_run_setting",)

    def __init__(
        self, *, operation: str, select_task_id: str, entry_task_id: str, dry_run: Any = True, **kwargs: Any
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.operation = operation
        self.select_task_id = select_task_id
        self.entry_task_id = entry_task_id
        self.dry_run_setting = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        selected = ti.xcom_pull(task_ids=self.select_task_id)
        if selected is None:
            raise AirflowFailException(
                f"{self.select_task_id} did not finish (see its log): no entry was touched, the run fails"
            )
        outcomes = ti.xcom_pull(task_ids=self.entry_task_id) if selected else []
        if isinstance(outcomes, dict):
            outcomes = [outcomes]
        summary = summarize_outcomes(
            self.operation, list(selected), list(outcomes or []), as_bool(self.dry_run_setting)
        )
        for line in summary.lines():
            self.log.info("%s", line)
        if not summary.ok:
            raise AirflowFailException(
                f"{summary.counts['failed']} of {summary.total} entries failed: "
                + ", ".join(f["entry_id"] for f in summary.failed[:20])
            )
        return summary.as_dict()
