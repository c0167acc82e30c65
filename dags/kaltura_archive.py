"""
### Archive old, unplayed Kaltura videos to S3

For every entry the filter selects (by default: unplayed for `years` years, or never played and
created `years` ago, not yet tagged `archived_to_s3`), stream the original flavor to
`s3://BUCKET/ENTRY_ID`, verify the copy (size and SHA-256), then tag the entry `archived_to_s3`.
Originals over the size limit are skipped; exempt entries are never selected.

`select` (at most `max_entries` and `[core] max_map_length`; logs how many remain) → `approve`
(live runs only, unless unattended; *Reject*, or no answer in 24 h, ends the run with nothing
touched) → one `archive_entry` task per entry, named by its entry id and red when that entry
failed → `summarize` (fails the run if any entry failed).
A dry run by default: untick `dry_run` to act.
"""

from airflow.sdk import DAG

from kaltura_archiver.airflow.action_tasks import entry_action_tasks
from kaltura_archiver.airflow.dag_defaults import START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.entry_operations import ArchiveEntryOperator
from kaltura_archiver.airflow.params import action_params
from kaltura_archiver.filters import ACTION_STATUSES

with DAG(
    dag_id="kaltura_archive",
    description="Copy the originals of old, unplayed videos to S3 (Glacier) and tag them archived_to_s3",
    schedule="@weekly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params=action_params(
        3,
        "archive entries unplayed (or never played and created) N years ago",
        status=list(ACTION_STATUSES),
    ),
    render_template_as_native_obj=True,
    tags=dag_tags("archive"),
    doc_md=__doc__,
):
    entry_action_tasks("archive", ArchiveEntryOperator, "Archive these Kaltura entries to S3?")
