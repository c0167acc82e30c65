"""Read-only operators: the health report, list / count reports (with LDAP people columns), stats.

Each processes entries in bulk pages inside one task and publishes its file to the reports location
(Variable `kaltura_archiver_reports_location`: a local folder by default, an S3 prefix in production).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from kaltura_archiver.airflow.runtime import build_runtime, reference_time
from kaltura_archiver.airflow.settings import reports_location
from kaltura_archiver.filters import EntryFilter, FilterError
from kaltura_archiver.report_store import ReportLocation, ReportLocationError

if TYPE_CHECKING:  # pandas, python-ldap and the Kaltura client are imported when a report runs
    from kaltura_archiver.airflow.runtime import TaskRuntime

REPORT_MODES = ("video", "flavor", "count")


class _ReportOperator(BaseOperator):
    """Shared plumbing: params → filter, runtime from the connections, publishing to the location."""

    template_fields: Sequence[str] = ("filter_params", "report_name")
    needs_s3_inventory = True

    def __init__(
        self,
        *,
        report_name: str,
        filter_params: dict[str, Any] | None = None,
        kaltura_conn_id: str = "kaltura_default",
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.report_name = report_name
        self.filter_params = filter_params
        self.kaltura_conn_id = kaltura_conn_id
        self.aws_conn_id = aws_conn_id

    def params_of(self, context: Context) -> dict[str, Any]:
        return dict(self.filter_params if self.filter_params is not None else context["params"])

    def entry_filter(self, params: dict[str, Any]) -> EntryFilter:
        try:
            return EntryFilter.from_params(params)
        except FilterError as exc:
            raise AirflowFailException(f"Invalid filter, nothing was read: {exc}") from None

    def location(self) -> ReportLocation:
        try:
            return ReportLocation.parse(reports_location())
        except ReportLocationError as exc:
            raise AirflowFailException(str(exc)) from None

    def runtime(self, with_s3: bool) -> TaskRuntime:
        try:
            return build_runtime(self.kaltura_conn_id, self.aws_conn_id, self.log, with_s3=with_s3)
        except ValueError as exc:  # SettingsError, KalturaConnectionError: a setting to fix, not to retry
            raise AirflowFailException(f"Invalid configuration, nothing was read: {exc}") from None

    def publish(self, runtime: TaskRuntime, local: Path, name: str) -> str:
        client = runtime.s3_client if runtime.s3_client is not None else _s3_client(self.aws_conn_id)
        location = self.location()
        uri = location.publish(local, name, s3_client=client if location.scheme == "s3" else None)
        self.log.info("Report written to %s", uri)
        return uri


def _s3_client(aws_conn_id: str | None) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=aws_conn_id).get_conn()


class HealthReportOperator(_ReportOperator):
    """Health rows of the filter's entries (bulk); fails the run when any entry is unhealthy."""

    def execute(self, context: Context) -> dict[str, Any]:
        from kaltura_archiver.listing import write_health

        flt = self.entry_filter(self.params_of(context))
        runtime = self.runtime(with_s3=True)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "health.tsv"
            result = write_health(runtime.selector, flt, reference_time(context), local)
            uri = self.publish(runtime, local, self.report_name)
        self.log.info("Health: %s", ", ".join(f"{k}={v}" for k, v in result.verdicts.items()))
        self.log.info("Calls: %s", runtime.counter.summary())
        summary = {"report": uri, "entries": result.entries, "verdicts": dict(result.verdicts)}
        if result.unhealthy:
            names = ", ".join(result.unhealthy_ids[:50])
            raise AirflowFailException(
                f"{result.unhealthy} of {result.entries} entries are unhealthy: {names} ({uri})"
            )
        return summary


class EntryReportOperator(_ReportOperator):
    """`video` / `flavor` list TSV or an exact `count`; with `people`, LDAP columns are added."""

    template_fields: Sequence[str] = (*_ReportOperator.template_fields, "mode", "people")

    def __init__(
        self, *, mode: str = "video", people: Any = False, ldap_conn_id: str = "ldap_default", **kw: Any
    ):
        super().__init__(**kw)
        self.mode = mode
        self.people = people
        self.ldap_conn_id = ldap_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from kaltura_archiver.airflow.hooks.ldap_hook import LdapHook
        from kaltura_archiver.listing import count, write_list

        if self.mode not in REPORT_MODES:
            raise AirflowFailException(f"mode must be one of {', '.join(REPORT_MODES)}, got {self.mode!r}")
        flt = self.entry_filter(self.params_of(context))
        runtime = self.runtime(with_s3=False)
        reference = reference_time(context)
        if self.mode == "count":
            n = count(runtime.selector, flt, reference)
            self.log.info("count: %d entries match %s", n, flt.describe())
            self.log.info("Calls: %s", runtime.counter.summary())
            return {"count": n, "filter": flt.describe()}
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "list.tsv"
            result = write_list(runtime.selector, flt, reference, local, mode=self.mode)
            if self.people and self.mode == "video":
                LdapHook(self.ldap_conn_id).enrich_report(local, local)
            uri = self.publish(runtime, local, self.report_name)
        self.log.info("Calls: %s", runtime.counter.summary())
        return {"report": uri, "rows": result.rows, "entries": result.entries}


class StatsOperator(_ReportOperator):
    """Figures as of the run's data interval end, appended to the stats table; redraws the chart."""

    template_fields: Sequence[str] = (*_ReportOperator.template_fields, "years", "played_window_years")

    def __init__(self, *, years: Any = 3, played_window_years: Any = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.years = years
        self.played_window_years = played_window_years

    def execute(self, context: Context) -> dict[str, Any]:
        from kaltura_archiver.selection import Selector
        from kaltura_archiver.stats import StatsOptions, compute_stats, verification_figures
        from kaltura_archiver.stats_history import draw_chart, upsert_row
        from kaltura_archiver.stats_source import SelectorStatsSource
        from kaltura_archiver.verification import HISTORY_NAME, read_history

        as_of = context.get("data_interval_end") or reference_time(context)
        runtime = self.runtime(with_s3=True)
        source = SelectorStatsSource(
            Selector(runtime.api, runtime.settings, log=runtime.selector.log),  # sizes from Kaltura alone
            runtime.s3_client,
            runtime.settings.bucket,
            lambda op: runtime.counter.add(f"s3.{op}"),
        )
        options = StatsOptions(years=float(self.years), played_window_years=float(self.played_window_years))
        row = compute_stats(source, runtime.settings, as_of, options, log=self.log.info)
        location = self.location()
        client = runtime.s3_client if location.scheme == "s3" else None
        with tempfile.TemporaryDirectory() as tmp:
            history = Path(tmp) / "verification.csv"
            location.fetch(HISTORY_NAME, history, s3_client=client)
            row.update(verification_figures(read_history(history), as_of))
        self.log.info("Archives last proven good: %s", row["last_proven_good"] or "never verified yet")
        table_name, chart_name = f"{self.report_name}.csv", f"{self.report_name}.png"
        with tempfile.TemporaryDirectory() as tmp:
            table, chart = Path(tmp) / "stats.csv", Path(tmp) / "stats.png"
            location.fetch(table_name, table, s3_client=client)
            frame = upsert_row(table, row)
            draw_chart(frame, chart)
            uris = [location.publish(table, table_name, client), location.publish(chart, chart_name, client)]
        self.log.info("Stats table %s, chart %s (%d days)", uris[0], uris[1], len(frame))
        self.log.info("Calls: %s", runtime.counter.summary())
        return {"row": row, "table": uris[0], "chart": uris[1]}
