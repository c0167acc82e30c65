"""
### Daily account figures: how much is archived and how much more could be

As of each day's data interval end: total entries, entries tagged `archived_to_s3` and
`flavors_deleted`, entries (and placeholders) per creation-year bucket (1-8 years ago), entries per
last-played-year bucket (1-5 years ago), archivable and restorable entries for `years`, TB archived in
S3 and TB of videos played within `played_window_years`. Each day's row is upserted into
`stats/kaltura_stats.csv` in the reports location and `stats/kaltura_stats.png` is redrawn.

Backfill history with
`airflow backfill create --dag-id kaltura_stats --from-date 2026-01-01 --to-date 2026-01-31`.
Kaltura keeps no tag history: backfilled days show today's tags on the entries that existed then.
"""

from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

from kaltura_archiver.airflow.dag_defaults import START_DATE, STATS_TABLE, dag_tags, default_args
from kaltura_archiver.airflow.operators.reports import StatsOperator
from kaltura_archiver.filters import bounded

with DAG(
    dag_id="kaltura_stats",
    description="Daily account figures: entries and TB archived, replaced and still archivable",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    params={
        "years": Param(
            3,
            type="number",
            **bounded(0, 100),
            title="Horizon N (years)",
            description="archive / restore horizon N",
        ),
        "played_window_years": Param(
            1,
            type="number",
            **bounded(0, 100),
            title="Played window (years)",
            description="window of the played-storage figure",
        ),
    },
    render_template_as_native_obj=True,
    tags=dag_tags("stats", "report"),
    doc_md=__doc__,
):
    StatsOperator(
        task_id="stats",
        years="{{ params.years }}",
        played_window_years="{{ params.played_window_years }}",
        report_name="stats/kaltura_stats",
        outlets=[STATS_TABLE],
    )
