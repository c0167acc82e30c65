"""
### Restore placeholders that people play again

For every entry tagged `flavors_deleted` that was played (or created) within `years` years, request
a Glacier restore when needed and wait for it in the triggerer (Bulk tier: 5-12 hours, no worker
slot held), then upload the real video back to Kaltura, verify it, remove `flavors_deleted` and wait
for READY.

`select` → `approve` (passes unless `kaltura_archiver_approve_restores` is true: a restore destroys
nothing) → one `restore_entry` task per entry → `summarize`. A dry run by default.
"""

from airflow.sdk import DAG

from kaltura_archiver.airflow.action_tasks import entry_action_tasks
from kaltura_archiver.airflow.dag_defaults import START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.entry_operations import RestoreEntryOperator
from kaltura_archiver.airflow.params import action_params

with DAG(
    dag_id="kaltura_restore",
    description="Bring archived videos back from S3 when they are played again or requested",
    schedule="@hourly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params=action_params(1, "restore placeholders played or created within N years"),
    render_template_as_native_obj=True,
    tags=dag_tags("restore"),
    doc_md=__doc__,
):
    entry_action_tasks("restore", RestoreEntryOperator, "Restore these entries from S3?")
