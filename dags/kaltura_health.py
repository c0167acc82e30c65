"""
### Health audit of Kaltura entries against their S3 archives

One row per selected entry (all entries by default) with the old tool's columns, a verdict
(healthy / warning / unhealthy / exempt) and an explanation, checking:
an original flavor in READY; an S3 object iff tagged `archived_to_s3`; `flavors_deleted` implies
`archived_to_s3`; archived entries match their S3 copy; placeholders do not; a warning for archived
originals over the size limit. Reads Kaltura and S3 in bulk pages (one flavor call per 500 entries,
S3 from listings). The TSV goes to the reports location; the run fails when any entry is unhealthy
and its error names them. Run `kaltura_repair` on those.
"""

from airflow.sdk import DAG

from kaltura_archiver.airflow.dag_defaults import HEALTH_REPORT, START_DATE, dag_tags, default_args
from kaltura_archiver.airflow.operators.reports import HealthReportOperator
from kaltura_archiver.airflow.params import report_params

with DAG(
    dag_id="kaltura_health",
    description="Daily audit: each entry consistent with its S3 archive; fails on unhealthy entries",
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params=report_params(),
    render_template_as_native_obj=True,
    tags=dag_tags("health", "report"),
    doc_md=__doc__,
):
    HealthReportOperator(
        task_id="health_report",
        report_name="health/kaltura_health_{{ ts_nodash }}.tsv",
        outlets=[HEALTH_REPORT],
    )
