"""Real DAG runs of the project's DAGs in this process (`dag.test()`), with their per-entry outcomes.

The DAGs are loaded from dags/ unchanged except for waiting times: retries keep their count but
wait 0 s instead of 30 s with backoff, and the READY / Glacier triggers poll every `poll_seconds`
instead of every 30 s / 10 min (dag.test() runs triggers inline, one at a time). Connections and
variables come from AIRFLOW_CONN_* / AIRFLOW_VAR_* in the environment.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dev.local_airflow import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "dags"
ACTION_DAGS = ("kaltura_archive", "kaltura_replace", "kaltura_restore", "kaltura_repair")
ALL_DAGS = (
    *ACTION_DAGS,
    "kaltura_health",
    "kaltura_report",
    "kaltura_stats",
    "kaltura_restore_requests",
    "kaltura_verify",
)
POLL_FIELDS = ("ready_poll_interval", "glacier_poll_interval")


@dataclass
class RunResult:
    """One DAG run: its state, the refusal message if params were refused, the entries' outcomes."""

    dag_id: str
    conf: dict[str, Any]
    state: str
    run_id: str | None = None
    refused: str | None = None
    selected: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def outcome_counts(self) -> dict[str, int]:
        """Entries per outcome (done, done_before, failed, ...)."""
        counts: dict[str, int] = {}
        for item in self.outcomes:
            counts[str(item.get("outcome"))] = counts.get(str(item.get("outcome")), 0) + 1
        return dict(sorted(counts.items()))

    def failed_entries(self) -> set[str]:
        """Entries whose outcome is failed or whose task failed without an outcome."""
        reported = {str(o["entry_id"]) for o in self.outcomes if o.get("outcome") != "failed"}
        return set(self.selected) - reported

    def line(self) -> str:
        """One line for the scenario log."""
        if self.refused is not None:
            return f"{self.dag_id}: refused ({self.refused[:160]})"
        return (
            f"{self.dag_id} {self.state}: {len(self.selected)} selected, outcomes {self.outcome_counts()}, "
            f"{len(self.failed_tasks)} failed tasks, {self.seconds:.1f} s"
        )


class DagRunner:
    """Loads the DAGs once and runs them with `dag.test()`."""

    def __init__(self, poll_seconds: float = 0.5, dag_ids: tuple[str, ...] = ALL_DAGS) -> None:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_FOLDER))
        if bag.import_errors:
            raise RuntimeError(f"DAG import errors: {bag.import_errors}")
        self.dags = {dag_id: bag.get_dag(dag_id) for dag_id in dag_ids}
        for dag in self.dags.values():
            make_fast(dag, poll_seconds)
        self.runs: list[RunResult] = []
        self._serialized: dict[str, Any] = {}

    def run(self, dag_id: str, conf: dict[str, Any], logical_date: datetime | None = None) -> RunResult:
        """Trigger one run with `conf` as its params and wait for it to finish."""
        from airflow.exceptions import ParamValidationError

        dag = self.dags[dag_id]
        started = time.monotonic()
        try:
            kwargs: dict[str, Any] = {"run_conf": conf}
            if logical_date is not None:
                kwargs["logical_date"] = logical_date
            dag_run = dag.test(**kwargs)
        except ParamValidationError as err:
            result = RunResult(dag_id, conf, "refused", refused=str(err))
        else:
            result = RunResult(dag_id, conf, str(dag_run.state), run_id=dag_run.run_id)
            _read_run(result)
        result.seconds = time.monotonic() - started
        self.runs.append(result)
        return result

    def validate(self, dag_id: str, conf: dict[str, Any]) -> str | None:
        """The trigger-time check alone (what `create_dagrun` runs first): the refusal message, or None."""
        from airflow.exceptions import ParamValidationError
        from airflow.serialization.serialized_objects import DagSerialization

        if dag_id not in self._serialized:
            dag = self.dags[dag_id]
            self._serialized[dag_id] = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
        try:
            self._serialized[dag_id].params.deep_merge(conf).validate()
        except ParamValidationError as err:
            return str(err)
        return None


def make_fast(dag: Any, poll_seconds: float) -> None:
    """Retries without delay and triggers that poll every `poll_seconds` (see the module docstring)."""
    for task in dag.tasks:
        partial = getattr(task, "partial_kwargs", None)
        if partial is not None:
            partial["retry_delay"] = timedelta(0)
            partial["retry_exponential_backoff"] = False
            for name in POLL_FIELDS:
                partial[name] = poll_seconds
            continue
        task.retry_delay = timedelta(0)
        task.retry_exponential_backoff = False
        for name in POLL_FIELDS:
            if hasattr(task, name):
                setattr(task, name, poll_seconds)


def _read_run(result: RunResult) -> None:
    """Selected ids, entry outcomes and failed tasks of a finished run, from the metadata DB."""
    from airflow.utils.session import create_session
    from sqlalchemy import text

    with create_session() as session:
        rows = session.execute(
            text(
                "SELECT x.task_id, x.map_index, x.value FROM xcom x JOIN dag_run d ON d.id = x.dag_run_id "
                "WHERE d.dag_id = :dag AND d.run_id = :run AND x.key = 'return_value'"
            ),
            {"dag": result.dag_id, "run": result.run_id},
        ).fetchall()
        failed = session.execute(
            text(
                "SELECT task_id, map_index, rendered_map_index FROM task_instance "
                "WHERE dag_id = :dag AND run_id = :run AND state IN ('failed', 'upstream_failed')"
            ),
            {"dag": result.dag_id, "run": result.run_id},
        ).fetchall()
    for task_id, _map_index, value in rows:
        decoded = _decode(value)
        if task_id == "select" and isinstance(decoded, list):
            result.selected = [str(v) for v in decoded]
        elif task_id.endswith("_entry") and isinstance(decoded, dict):
            result.outcomes.append(decoded)
    result.failed_tasks = [f"{t}[{r or m}]" for t, m, r in failed]


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def metadata_db_path() -> Path | None:
    """The SQLite file of the metadata DB, when it is SQLite."""
    from airflow.configuration import conf

    url = conf.get("database", "sql_alchemy_conn")
    return Path(url.split("sqlite:///", 1)[1]) if url.startswith("sqlite:///") else None
