"""Operators of `kaltura_restore_requests`: read and check the requests, restore each entry at its tier.

`ReadRestoreRequestsOperator` takes the messages from the run's triggering asset events (the SQS
watcher's payload) and from the `entry_ids` param of a manual run, parses and screens them
(`kaltura_archiver.restore_requests`), logs every rejection with its reason, pushes the plan (XCom
`requests`: entry id -> tier, urgency, requester) and the rejections (XCom `rejected`), and returns
the entry ids to map. A bad message never fails the run: it is reported and dropped.
`RequestedRestoreOperator` is `RestoreEntryOperator` with the planned tier
(`operations.requested_restore`), polling Glacier at a pace that suits the tier.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow.sdk import BaseOperator, Context, Variable
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.operators.entry_operations import RestoreEntryOperator
from kaltura_archiver.airflow.operators.select import PLAN_XCOM_KEY, max_map_length
from kaltura_archiver.airflow.runtime import build_runtime
from kaltura_archiver.airflow.settings import VARIABLE_PREFIX
from kaltura_archiver.config import SettingsError
from kaltura_archiver.operations import EntryOutcome, OperationContext
from kaltura_archiver.restore_requests import (
    QueueMessage,
    gather_facts,
    messages_from_events,
    parse_messages,
    plan_restores,
)
from kaltura_archiver.restore_tiers import (
    BULK,
    EXPEDITED,
    SETTING_NAMES,
    TierPolicy,
    TierPolicyError,
    policy_from_mapping,
)

REQUESTS_XCOM_KEY = "requests"
REJECTED_XCOM_KEY = "rejected"
TIER_POLL_SECONDS = {EXPEDITED: 30.0, BULK: None}
"""Glacier polling per tier: Expedited every 30 s, Standard every 5 minutes, Bulk as configured."""
STANDARD_POLL_SECONDS = 300.0


def load_tier_policy() -> TierPolicy:
    """Tier thresholds from the Variables `kaltura_archiver_restore_expedited_max_mb` / `_standard_max_mb`."""
    names = SETTING_NAMES.values()
    return policy_from_mapping({n: Variable.get(f"{VARIABLE_PREFIX}{n}", default=None) for n in names})


def _event_extras(context: Context) -> list[dict[str, Any]]:
    events = context.get("triggering_asset_events") or {}
    extras: list[dict[str, Any]] = []
    for asset in events:
        for event in events[asset]:
            extras.append(dict(getattr(event, "extra", None) or {}))
    return extras


def _param_message(params: dict[str, Any]) -> Iterable[QueueMessage]:
    ids = params.get("entry_ids") or []
    if not ids:
        return []
    body = {"entry_ids": list(ids), "urgency": params.get("urgency") or "normal"}
    if params.get("requested_by"):
        body["requested_by"] = str(params["requested_by"])
    return [QueueMessage("trigger-params", body)]


class ReadRestoreRequestsOperator(BaseOperator):
    """Read, check and plan the run's restore requests; returns the entry ids to restore."""

    ui_color = "#fdf2d0"

    def __init__(
        self,
        *,
        kaltura_conn_id: str = "kaltura_default",
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kaltura_conn_id = kaltura_conn_id
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> list[str]:
        try:
            runtime = build_runtime(self.kaltura_conn_id, self.aws_conn_id, self.log)
            policy = load_tier_policy()
        except (SettingsError, TierPolicyError) as exc:
            raise AirflowFailException(f"Invalid settings, nothing was changed: {exc}") from None
        messages = messages_from_events(_event_extras(context))
        messages.extend(_param_message(dict(context.get("params") or {})))
        self.log.info("%d request message(s) in this run", len(messages))
        requests, rejected = parse_messages(messages)
        facts = gather_facts(runtime.api, runtime.store, [r.entry_id for r in requests])
        planned, dropped = plan_restores(requests, facts, runtime.settings.replaced_tag, policy)
        rejected.extend(dropped)
        for item in rejected:
            self.log.warning("REJECTED %s (message %s): %s", item.kind, item.message_id or "-", item.reason)
        limit = max_map_length()
        for plan in planned:
            request = plan.request
            self.log.info(
                "RESTORE %s: %s urgency, %d bytes in %s -> %s tier (asked by %s)",
                request.entry_id,
                request.urgency,
                plan.size_bytes,
                plan.storage_class,
                plan.tier,
                request.requested_by or "unknown",
            )
        chosen = planned[:limit]
        if len(planned) > limit:
            self.log.warning(
                "%d requests over [core] max_map_length wait for the next run", len(planned) - limit
            )
        ti = context["ti"]
        ti.xcom_push(key=REQUESTS_XCOM_KEY, value={p.request.entry_id: p.as_dict() for p in chosen})
        ti.xcom_push(key=REJECTED_XCOM_KEY, value=[r.as_dict() for r in rejected])
        ti.xcom_push(
            key=PLAN_XCOM_KEY,
            value={
                "selected": len(chosen),
                "rejected": len(rejected),
                "remaining": len(planned) - len(chosen),
            },
        )
        self.log.info("Calls: %s", runtime.counter.summary())
        return [p.request.entry_id for p in chosen]


class RequestedRestoreOperator(RestoreEntryOperator):
    """Restore one requested entry at the tier `read_requests` planned for it (or at `tier`)."""

    def __init__(
        self, *, requests_task_id: str = "read_requests", tier: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.requests_task_id = requests_task_id
        self.tier = tier

    def _tier(self, context: Any) -> str:
        if self.tier:
            return self.tier
        plans = context["ti"].xcom_pull(task_ids=self.requests_task_id, key=REQUESTS_XCOM_KEY) or {}
        plan = plans.get(str(self.entry_id)) or {}
        return str(plan.get("tier") or BULK)

    def build_context(self, context: Any) -> OperationContext:
        """The restore context; Glacier is polled at the pace of the entry's tier (never slower than set)."""
        ctx = super().build_context(context)
        pace = TIER_POLL_SECONDS.get(self._tier(context), STANDARD_POLL_SECONDS)
        if self.glacier_poll_interval is None and pace is not None:
            self.glacier_poll_interval = min(pace, ctx.settings.glacier_poll_seconds)
        return ctx

    def run_operation(self, ctx: OperationContext, context: Any, after_wait: bool) -> EntryOutcome:
        """The requested restore of this entry at its planned tier."""
        from kaltura_archiver.operations.requested_restore import restore_at_tier

        return restore_at_tier(ctx, str(self.entry_id), self._tier(context), after_wait=after_wait)
