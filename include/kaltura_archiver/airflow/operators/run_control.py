"""Operators around the per-entry tasks of an action DAG: the approval gate and the run summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.operators.select import PLAN_XCOM_KEY
from kaltura_archiver.airflow.runtime import as_bool
from kaltura_archiver.airflow.settings import approval_timeout, is_unattended, restores_need_approval
from kaltura_archiver.config import SettingsError
from kaltura_archiver.run_summary import summarize_outcomes

APPROVAL_OPTIONAL = frozenset({"restore"})
DECISION_KEY = "decision"


class LiveRunApprovalOperator(ApprovalOperator):
    """Ask a human to approve a live run; dry runs, empty selections and unattended deployments pass.

    Unattended operation is switched on by the Variable `kaltura_archiver_unattended`. Restores (which
    destroy nothing) pass unless `kaltura_archiver_approve_restores` is true. An unanswered request
    counts as rejected after `kaltura_archiver_approval_timeout_hours` (24 by default), so a forgotten
    approval never blocks later runs for long.
    """

    template_fields: Sequence[str] = (*ApprovalOperator.template_fields, "dry_run_setting")

    def __init__(
        self, *, operation: str, select_task_id: str = "select", dry_run: Any = True, **kwargs: Any
    ) -> None:
        kwargs.setdefault("defaults", self.REJECT)
        super().__init__(**kwargs)
        self.operation = operation
        self.select_task_id = select_task_id
        self.dry_run_setting = dry_run

    def _passes(self, reason: str) -> dict[str, Any]:
        self.log.info("No approval needed: %s", reason)
        return {"chosen_options": [self.APPROVE], "approved_by": reason}

    def execute(self, context: Context) -> Any:
        if as_bool(self.dry_run_setting):
            return self._passes("dry run")
        if not context["ti"].xcom_pull(task_ids=self.select_task_id):
            return self._passes("nothing selected")
        if is_unattended():
            return self._passes("unattended")
        if self.operation in APPROVAL_OPTIONAL and not restores_need_approval():
            return self._passes(f"a {self.operation} destroys nothing")
        try:
            self.response_timeout = approval_timeout()
        except SettingsError as exc:
            raise AirflowFailException(f"{exc}; nothing was changed") from None
        self.log.info("Waiting up to %s for an approval (no answer counts as Reject)", self.response_timeout)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Record the answer as the XCom `decision` (a rejection skips downstream, so nothing is returned)."""
        if "error" not in event:
            decision: dict[str, Any] = {
                "chosen_options": list(event["chosen_options"]),
                "responded_by_user": None,
            }
            user = event.get("responded_by_user")
            if isinstance(user, dict):
                decision["responded_by_user"] = {"id": user.get("id"), "name": user.get("name")}
            context["ti"].xcom_push(key=DECISION_KEY, value=decision)
        return super().execute_complete(context, event)


def rejection(approval: Any) -> str | None:
    """Who rejected the run (or that nobody answered in time), None when it was not rejected."""
    chosen = approval.get("chosen_options") if isinstance(approval, dict) else None
    if not isinstance(approval, dict) or ApprovalOperator.REJECT not in (chosen or []):
        return None
    user = approval.get("responded_by_user")
    if isinstance(user, dict):
        return f"rejected by {user.get('name') or user.get('id') or 'a user'}"
    return "rejected: no answer before the approval timeout"


class SummarizeOutcomesOperator(BaseOperator):
    """Count the per-entry outcomes of a run, log them, and fail the run if any entry failed.

    A rejected approval ends the run cleanly: the summary says "rejected" and counts no entry as failed.
    """

    template_fields: Sequence[str] = ("dry_run_setting",)

    def __init__(
        self,
        *,
        operation: str,
        select_task_id: str,
        entry_task_id: str,
        approve_task_id: str = "approve",
        dry_run: Any = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.operation = operation
        self.select_task_id = select_task_id
        self.entry_task_id = entry_task_id
        self.approve_task_id = approve_task_id
        self.dry_run_setting = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        selected = ti.xcom_pull(task_ids=self.select_task_id)
        if selected is None:
            raise AirflowFailException(
                f"{self.select_task_id} did not finish (see its log): no entry was touched, the run fails"
            )
        plan = ti.xcom_pull(task_ids=self.select_task_id, key=PLAN_XCOM_KEY) or {}
        remaining = int(plan.get("remaining", 0))
        dry_run = as_bool(self.dry_run_setting)
        decision = ti.xcom_pull(task_ids=self.approve_task_id, key=DECISION_KEY) if selected else None
        rejected = rejection(decision)
        if rejected:
            summary = summarize_outcomes(self.operation, [], [], dry_run)
            self.log.info(
                "%s %s: %d selected entries, %s; no entry was touched",
                "REJECTED",
                self.operation,
                len(selected),
                rejected,
            )
            return {
                **summary.as_dict(),
                "approval": "rejected",
                "rejected": len(selected),
                "reason": rejected,
                "remaining": remaining,
            }
        outcomes = ti.xcom_pull(task_ids=self.entry_task_id) if selected else []
        if isinstance(outcomes, dict):
            outcomes = [outcomes]
        summary = summarize_outcomes(self.operation, list(selected), list(outcomes or []), dry_run)
        for line in summary.lines():
            self.log.info("%s", line)
        if remaining:
            self.log.info("%d more matching entries remain for the next run", remaining)
        if not summary.ok:
            raise AirflowFailException(
                f"{summary.counts['failed']} of {summary.total} entries failed: "
                + ", ".join(f["entry_id"] for f in summary.failed[:20])
            )
        return {**summary.as_dict(), "approval": "approved", "remaining": remaining}
