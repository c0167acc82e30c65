"""
### Restore the entries people ask for, within a minute of the request

Scheduled on the asset `kaltura_restore_requests`, which the triggerer watches on the SQS queue named
by the variable `kaltura_archiver_restore_queue_url` (no queue configured: manual runs only). Each
message names entry ids, and optionally who asked and how urgent it is:
`{"entry_ids": ["0_abcd1234"], "urgency": "urgent", "requested_by": "help-desk #123"}`.

`read_requests` validates the messages (a malformed message or id, an entry Kaltura does not know or
that holds no placeholder is reported and dropped) and picks each entry's Glacier tier from its size
and the urgency (Expedited for small urgent ones, Standard or Bulk otherwise; thresholds are the
variables `kaltura_archiver_restore_expedited_max_mb` and `_standard_max_mb`; Standard when S3 has
no Expedited capacity) → `approve` (passes unless `kaltura_archiver_approve_restores`) → one
`restore_entry` per entry → `summarize`. Runs made by the queue act when
`kaltura_archiver_live_schedules` is true, like scheduled runs; a manual run follows `dry_run`.
"""

from airflow.sdk import DAG, Param

from kaltura_archiver.airflow.action_tasks import MAX_PARALLEL_ENTRIES
from kaltura_archiver.airflow.dag_defaults import START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.restore_requests import (
    ReadRestoreRequestsOperator,
    RequestedRestoreOperator,
)
from kaltura_archiver.airflow.operators.run_control import LiveRunApprovalOperator, SummarizeOutcomesOperator
from kaltura_archiver.airflow.params import MAX_ENTRY_IDS, dry_run_param
from kaltura_archiver.airflow.request_queue import restore_queue_url, restore_requests_asset
from kaltura_archiver.filters import ENTRY_ID_RE
from kaltura_archiver.restore_tiers import NORMAL, URGENCIES

REQUESTS = restore_requests_asset(restore_queue_url())
DRY_RUN = (
    "{{ params.dry_run and not (dag_run.run_type in ('scheduled', 'asset_triggered') and "
    "var.value.get('kaltura_archiver_live_schedules', 'false') | lower == 'true') }}"
)

with DAG(
    dag_id="kaltura_restore_requests",
    description="Restore the entries named on the restore-request queue, at a tier that fits the urgency",
    schedule=[REQUESTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=8,
    default_args=default_args(),
    params={
        "dry_run": dry_run_param(),
        "entry_ids": Param(
            [],
            type="array",
            items={"type": "string", "pattern": ENTRY_ID_RE.pattern},
            maxItems=MAX_ENTRY_IDS,
            title="Entry ids (manual runs)",
            description="Entries to restore, as a queue message would name them; runs made by the queue "
            "take their entries from the messages.",
        ),
        "urgency": Param(NORMAL, enum=list(URGENCIES), title="Urgency (manual runs)"),
        "requested_by": Param("", type="string", maxLength=200, title="Requested by (manual runs)"),
    },
    render_template_as_native_obj=True,
    tags=dag_tags("restore", "requests"),
    doc_md=__doc__,
):
    read = ReadRestoreRequestsOperator(task_id="read_requests")
    approve = LiveRunApprovalOperator(
        task_id="approve",
        operation="restore",
        select_task_id="read_requests",
        dry_run=DRY_RUN,
        subject="Restore these requested entries? ({{ ti.xcom_pull(task_ids='read_requests') | length }})",
        body="Entries: {{ ti.xcom_pull(task_ids='read_requests')[:50] | join(', ') }}",
    )
    restore = RequestedRestoreOperator.partial(
        task_id="restore_entry",
        dry_run=DRY_RUN,
        map_index_template="{{ task.entry_id }}",
        max_active_tis_per_dagrun=MAX_PARALLEL_ENTRIES,
    ).expand(entry_id=read.output)
    summarize = SummarizeOutcomesOperator(
        task_id="summarize",
        operation="restore",
        select_task_id="read_requests",
        entry_task_id="restore_entry",
        dry_run=DRY_RUN,
    )
    read >> approve >> restore >> summarize
