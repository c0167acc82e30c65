"""SelectEntriesOperator: run the filter in bulk and return the entry ids an action must act on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.runtime import build_runtime, reference_time
from kaltura_archiver.airflow.settings import SETTINGS_XCOM_KEY, settings_to_xcom
from kaltura_archiver.config import SettingsError
from kaltura_archiver.filters import EntryFilter, FilterError
from kaltura_archiver.operations.context import PlaceholderError, PlaceholderFile
from kaltura_archiver.planning import LIVE_PLAYS_OPERATIONS, Operation, filters_from_params, plan_entries

if TYPE_CHECKING:
    from kaltura_archiver.selection import Selector

PLAN_XCOM_KEY = "plan"


def max_map_length() -> int:
    """The effective `[core] max_map_length`: the most map indexes one mapped task may get (stock 1,024)."""
    from airflow.sdk.configuration import conf

    return conf.getint("core", "max_map_length", fallback=1024)


def run_limit(max_entries: int, map_limit: int) -> int:
    """How many entries one run may map: `max_entries` (-1: no limit of its own), never over `map_limit`."""
    return map_limit if max_entries < 0 else min(max_entries, map_limit)


class SelectEntriesOperator(BaseOperator):
    """Select the entries `operation` must act on; returns their ids, at most `max_entries` and
    `[core] max_map_length` (so the mapped list is never refused).

    `filter_params` defaults to the run's params. Bad params fail the task at once (no retry) and
    change nothing. The log ends with the matches per state, why the rest were left alone and how
    many remain for the next run; the counts are also pushed as the XCom `plan`.
    """

    template_fields: Sequence[str] = ("filter_params",)
    NEEDS_PLACEHOLDER = (Operation.REPLACE, Operation.REPAIR)

    def __init__(
        self,
        *,
        operation: str,
        filter_params: dict[str, Any] | None = None,
        kaltura_conn_id: str = "kaltura_default",
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.operation = Operation(operation)
        self.filter_params = filter_params
        self.kaltura_conn_id = kaltura_conn_id
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> list[str]:
        params = dict(self.filter_params if self.filter_params is not None else context["params"])
        try:
            runtime = build_runtime(self.kaltura_conn_id, self.aws_conn_id, self.log)
            filters = filters_from_params(self.operation, params, runtime.settings)
            if self.operation in self.NEEDS_PLACEHOLDER:
                PlaceholderFile(runtime.settings.placeholder_video_path).check()
                PlaceholderFile(runtime.settings.placeholder_thumbnail_path, "thumbnail").check()
        except (FilterError, SettingsError, PlaceholderError, ValueError) as exc:
            raise AirflowFailException(
                f"Invalid {self.operation.value} request, nothing was changed: {exc}"
            ) from None
        reference = reference_time(context)
        self.log.info("Selecting entries to %s as of %s", self.operation.value, reference.isoformat())
        for flt in filters:
            self.log.info("  filter: %s", flt.describe())
        max_entries = -1 if filters[0].unlimited else filters[0].max_entries
        map_limit = max_map_length()
        limit = run_limit(max_entries, map_limit)
        candidates = _candidates(runtime.selector, filters, reference, self.operation.value)
        named = any(f.entry_ids for f in filters)
        # planned without a cap, so the entries left for later runs are counted too
        plan = plan_entries(self.operation, candidates, runtime.settings, reference, -1, named)
        for line in plan.lines():
            self.log.info("%s", line)
        selected = plan.entry_ids[:limit]
        remaining = len(plan.entry_ids) - len(selected)
        self.log.info(
            "This run maps %d entries (max_entries %s, core.max_map_length %d); %d remain for the next run",
            len(selected),
            "unlimited" if max_entries < 0 else max_entries,
            map_limit,
            remaining,
        )
        self.log.info("Calls: %s", runtime.counter.summary())
        counts = {**plan.as_dict(), "selected": len(selected), "remaining": remaining, "limit": limit}
        context["ti"].xcom_push(key=PLAN_XCOM_KEY, value=counts)
        context["ti"].xcom_push(key=SETTINGS_XCOM_KEY, value=settings_to_xcom(runtime.settings))
        return selected


def _candidates(
    selector: Selector, filters: list[EntryFilter], reference: Any, operation: str
) -> Iterator[tuple[Any, Any, Any]]:
    selector.live_plays = Operation(operation) in LIVE_PLAYS_OPERATIONS
    for flt in filters:
        for page in selector.iter_views(flt, reference, bounded=False, operation=f"select for {operation}"):
            for view in page:
                yield view.entry, view.original, view.s3
