"""
### Replace archived videos with the placeholder

For every archived entry the filter selects (by default: tagged `archived_to_s3`, unplayed for
`years` years), re-check that the S3 copy is verified and matches the original, then delete the
entry's flavors, upload the placeholder video, regenerate the thumbnail, tag `flavors_deleted` and
wait (deferred, no worker held) until Kaltura has converted it. Entries created less than 3 years
ago are never replaced.

`select` → `approve` → one `replace_entry` task per entry → `summarize`. A dry run by default.
"""

from airflow.sdk import DAG

from kaltura_archiver.airflow.action_tasks import entry_action_tasks
from kaltura_archiver.airflow.dag_defaults import START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.entry_operations import ReplaceEntryOperator
from kaltura_archiver.airflow.params import action_params
from kaltura_archiver.filters import ACTION_STATUSES

with DAG(
    dag_id="kaltura_replace",
    description="Swap archived videos' flavors for the short placeholder video to free Kaltura storage",
    schedule="@weekly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params=action_params(3, "replace archived entries unplayed for N years", status=list(ACTION_STATUSES)),
    render_template_as_native_obj=True,
    tags=dag_tags("replace"),
    doc_md=__doc__,
):
    entry_action_tasks(
        "replace", ReplaceEntryOperator, "Replace these archived entries with the placeholder video?"
    )
