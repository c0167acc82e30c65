"""SelectEntriesOperator: run the filter in bulk and return the entry ids an action must act on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.runtime import build_runtime, reference_time
from kaltura_archiver.config import SettingsError
from kaltura_archiver.filters import EntryFilter, FilterError
from kaltura_archiver.operations.context import PlaceholderError, PlaceholderVideo
from kaltura_archiver.planning import Operation, filters_from_params, plan_entries
from kaltura_archiver.selection import Selector


class SelectEntriesOperator(BaseOperator):
    """Select the entries `operation` must act on (capped by `max_entries`); returns their ids.

    `filter_params` defaults to the run's params. Bad params fail the task at once (no retry) and
    change nothing. The log ends with the matches per state and why the rest were left alone.
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
                PlaceholderVideo(runtime.settings.placeholder_video).check()
        except (FilterError, SettingsError, PlaceholderError, ValueError) as exc:
            raise AirflowFailException(
                f"Invalid {self.operation.value} request, nothing was changed: {exc}"
            ) from None
        reference = reference_time(context)
        self.log.info("Selecting entries to %s as of %s", self.operation.value, reference.isoformat())
        for flt in filters:
            self.log.info("  filter: %s", flt.describe())
        max_entries = -1 if filters[0].unlimited else filters[0].max_entries
        candidates = _candidates(runtime.selector, filters, reference, self.operation.value)
        named = any(f.entry_ids for f in filters)
        plan = plan_entries(self.operation, candidates, runtime.settings, reference, max_entries, named)
        for line in plan.lines():
            self.log.info("%s", line)
        self.log.info("Calls: %s", runtime.counter.summary())
        return plan.entry_ids


def _candidates(
    selector: Selector, filters: list[EntryFilter], reference: Any, operation: str
) -> Iterator[tuple[Any, Any, Any]]:
    for flt in filters:
        for page in selector.iter_views(flt, reference, bounded=False, operation=f"select for {operation}"):
            for view in page:
                yield view.entry, view.original, view.s3
