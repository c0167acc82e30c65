"""
### Prove that archives are still good

Weekly: a random sample of archived entries (at most `kaltura_archiver_verify_sample_entries`, each at
most `_verify_max_entry_mb`, together at most `_verify_max_run_gb` and what is left of the monthly
retrieval budget `_verify_monthly_budget_gb`) is restored from Glacier at the cheapest tier (Bulk,
kept 1 day, waiting in the triggerer), streamed once, and compared with its manifest's SHA-256 (an
old-tool archive without a manifest: with its own S3 ETag). Results are appended to
`verification/history.csv` in the reports location; `kaltura_stats` shows the last time every sampled
entry was proved good ("last proven good"). The run fails naming every entry whose archive differs.
Reads only: nothing in S3 or Kaltura is changed (a Glacier restore makes a temporary readable copy).

`sample` → one `verify_entry` per sampled entry → `record`. `entry_ids` verifies chosen entries.
"""

from airflow.sdk import DAG, Param

from kaltura_archiver.airflow.action_tasks import MAX_PARALLEL_ENTRIES
from kaltura_archiver.airflow.dag_defaults import START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.verify import (
    RecordVerificationOperator,
    VerifyEntryOperator,
    VerifySampleOperator,
)
from kaltura_archiver.airflow.params import MAX_ENTRY_IDS
from kaltura_archiver.filters import ENTRY_ID_RE

with DAG(
    dag_id="kaltura_verify",
    description="Restore a random sample of archives and prove each still matches what was archived",
    schedule="@weekly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params={
        "entry_ids": Param(
            [],
            type="array",
            items={"type": "string", "pattern": ENTRY_ID_RE.pattern},
            maxItems=MAX_ENTRY_IDS,
            title="Entry ids",
            description="Verify these archived entries instead of a random sample (byte limits apply).",
        ),
    },
    render_template_as_native_obj=True,
    tags=dag_tags("verify"),
    doc_md=__doc__,
):
    sample = VerifySampleOperator(task_id="sample", entry_ids="{{ params.entry_ids }}")
    verify = VerifyEntryOperator.partial(
        task_id="verify_entry",
        map_index_template="{{ task.entry_id }}",
        max_active_tis_per_dagrun=MAX_PARALLEL_ENTRIES,
    ).expand(entry_id=sample.output)
    record = RecordVerificationOperator(
        task_id="record", sample_task_id="sample", entry_task_id="verify_entry"
    )
    sample >> verify >> record
