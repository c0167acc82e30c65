"""The task graph every action DAG shares: select → approve → one task per entry → summarize."""

from __future__ import annotations

from typing import Any

from kaltura_archiver.airflow.operators.run_control import LiveRunApprovalOperator, SummarizeOutcomesOperator
from kaltura_archiver.airflow.operators.select import SelectEntriesOperator

MAX_PARALLEL_ENTRIES = 8
SELECTED = "ti.xcom_pull(task_ids='select')"
# Manual runs follow the dry_run param; scheduled runs act only where the deployment opted in.
DRY_RUN = (
    "{{ params.dry_run and not (dag_run.run_type == 'scheduled' and "
    "var.value.get('kaltura_archiver_live_schedules', 'false') | lower == 'true') }}"
)


def entry_action_tasks(operation: str, entry_operator: Any, question: str, **entry_kwargs: Any) -> Any:
    """Add the action's tasks to the DAG being defined; returns the summarize task.

    `entry_operator` is the per-entry operator class; each mapped task is named by its entry id and
    ends failed (red in the grid) when its entry failed, while the other entries still run.
    """
    select = SelectEntriesOperator(task_id="select", operation=operation)
    approve = LiveRunApprovalOperator(
        task_id="approve",
        operation=operation,
        dry_run=DRY_RUN,
        subject=f"{question} ({{{{ {SELECTED} | length }}}} entries)",
        body=f"First entries: {{{{ {SELECTED}[:50] | join(', ') }}}}",
    )
    act = entry_operator.partial(
        task_id=f"{operation}_entry",
        dry_run=DRY_RUN,
        map_index_template="{{ task.entry_id }}",
        max_active_tis_per_dagrun=MAX_PARALLEL_ENTRIES,
        settings_task_id="select",
        **entry_kwargs,
    ).expand(entry_id=select.output)
    summarize = SummarizeOutcomesOperator(
        task_id="summarize",
        operation=operation,
        select_task_id="select",
        entry_task_id=f"{operation}_entry",
        dry_run=DRY_RUN,
    )
    select >> approve >> act >> summarize
    return summarize
