"""A read-only page of the stats chart and table, mounted in the Airflow UI by the plugin in plugins/.

It reads the stats the `kaltura_stats` DAG wrote to a local reports location; for an S3 location it
says where the files are. Airflow does not authenticate plugin apps: it shows aggregate figures only.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from kaltura_archiver.airflow.settings import DEFAULT_REPORTS_LOCATION, REPORTS_LOCATION_VARIABLE
from kaltura_archiver.report_store import ReportLocation

STATS_NAME = "stats/kaltura_stats"
SHOWN_COLUMNS = [
    "as_of",
    "total_entries",
    "archived_entries",
    "replaced_entries",
    "archivable_entries",
    "restorable_entries",
    "archived_tb",
    "archivable_tb",
]


def _location() -> ReportLocation:
    value = os.environ.get(f"AIRFLOW_VAR_{REPORTS_LOCATION_VARIABLE.upper()}")
    if value is None:
        from airflow.models.variable import Variable

        value = Variable.get(REPORTS_LOCATION_VARIABLE, default_var=DEFAULT_REPORTS_LOCATION)
    return ReportLocation.parse(str(value))


def _local_file(suffix: str) -> Path:
    location = _location()
    if location.scheme != "file":
        raise HTTPException(404, f"stats are kept in {location.uri(STATS_NAME + suffix)}")
    path = Path(location.root) / f"{STATS_NAME}{suffix}"
    if not path.exists():
        raise HTTPException(404, "no stats yet: run the kaltura_stats DAG")
    return path


def create_app() -> FastAPI:
    """The FastAPI app: `/` (page), `/stats.png`, `/stats.csv`."""
    app = FastAPI(title="Kaltura archive stats")

    @app.get("/stats.png")
    def chart() -> FileResponse:
        return FileResponse(_local_file(".png"), media_type="image/png")

    @app.get("/stats.csv")
    def table() -> FileResponse:
        return FileResponse(_local_file(".csv"), media_type="text/csv")

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        try:
            frame = pd.read_csv(_local_file(".csv"), dtype={"as_of": str})
        except HTTPException as exc:
            return f"<h1>Kaltura archive</h1><p>{html.escape(str(exc.detail))}</p>"
        rows = frame[[c for c in SHOWN_COLUMNS if c in frame]].tail(30).to_html(index=False)
        return (
            "<h1>Kaltura archive</h1><img src='stats.png' alt='stats chart'>"
            f"<h2>Last days</h2>{rows}<p><a href='stats.csv'>all days (CSV)</a></p>"
        )

    return app
