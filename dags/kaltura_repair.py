"""
### Repair entries that fail the health check

For every selected entry that is unhealthy: if it is tagged `archived_to_s3` and its S3 copy is
usable, put back the right content (the placeholder when tagged `flavors_deleted`, else the video
from S3, waiting for Glacier when needed); otherwise report that it cannot be repaired.

`select` → `approve` → one `repair_entry` task per entry → `summarize`. A dry run by default.
"""

from airflow.sdk import DAG

from kaltura_archiver.airflow.action_tasks import entry_action_tasks
from kaltura_archiver.airflow.dag_defaults import START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.entry_operations import RepairEntryOperator
from kaltura_archiver.airflow.params import action_params

with DAG(
    dag_id="kaltura_repair",
    description="Put the right content back for entries that fail the health audit",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params=action_params(0, "unused: repair selects the archived entries that fail health"),
    render_template_as_native_obj=True,
    tags=dag_tags("repair"),
    doc_md=__doc__,
):
    entry_action_tasks("repair", RepairEntryOperator, "Repair these unhealthy entries?")
