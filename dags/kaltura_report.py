"""
### List or count Kaltura entries, optionally with their owners from LDAP

`mode`: `video` writes one TSV row per entry (last_played_date, plays, entry_id, status,
archived_to_s3, flavors_deleted, created_date, created, creator_id, category_ids, categories);
`flavor` one row per flavor (entry_id, flavor_id, original, size_KB, created_date, deleted_date,
status); `count` logs and returns the exact number of matches. With `people`, the video list gets
the owner's status (active / inactive), name and org unit from the directory (`ldap_default`).
Reports go to the reports location.
"""

from airflow.sdk import DAG, Param

from kaltura_archiver.airflow.dag_defaults import ENTRY_REPORT, START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.reports import REPORT_MODES, EntryReportOperator
from kaltura_archiver.airflow.params import report_params

with DAG(
    dag_id="kaltura_report",
    description="List or count Kaltura entries as a TSV report, optionally with owners from LDAP",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=default_args(),
    params={
        "mode": Param(
            "video",
            type="string",
            enum=list(REPORT_MODES),
            title="Report",
            values_display={
                "video": "One row per video",
                "flavor": "One row per flavor",
                "count": "Count only",
            },
            description="video, flavor or count",
        ),
        "people": Param(
            False, type="boolean", title="Add owners from LDAP", description="owner status, name and org unit"
        ),
        **report_params(),
    },
    render_template_as_native_obj=True,
    tags=dag_tags("report"),
    doc_md=__doc__,
):
    EntryReportOperator(
        task_id="entry_report",
        mode="{{ params.mode }}",
        people="{{ params.people }}",
        report_name="entries/kaltura_{{ params.mode }}_{{ ts_nodash }}.tsv",
        outlets=[ENTRY_REPORT],
    )
