"""The archive dashboard, a FastAPI app that the UI plugin in plugins/ mounts at /kaltura-archiver.

Airflow gives a plugin app no authentication of its own, so every route here asks Airflow's auth
manager: the caller must be logged in (the UI's session cookie or a bearer token, checked like
Airflow's own API does) and may read the `kaltura_stats` DAG; a restore request also needs the right to
trigger `kaltura_restore`. Anonymous requests get 401 and the page only a link to the login. FastAPI's
`/docs` and `/openapi.json` are served behind the same check. Aggregates only, no entry details.
Plugins load in every Airflow process, so the data modules are imported only when a page is asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kaltura_archiver.dashboard import STATS_TABLE
from kaltura_archiver.dashboard_html import RequestNotice, render

STATS_DAG = "kaltura_stats"
MOUNT = "/kaltura-archiver"


class NotLoggedIn(Exception):
    """The request carries no valid Airflow login."""


async def current_user(request: Request) -> Any:
    """The logged-in Airflow user (cookie or bearer token), or NotLoggedIn; 403 without read access."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPAuthorizationCredentials

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if token else None
    try:
        user = await get_user(request, None, bearer)
    except HTTPException as exc:
        raise NotLoggedIn(str(exc.detail)) from None
    if not get_auth_manager().is_authorized_dag(method="GET", details=DagDetails(id=STATS_DAG), user=user):
        raise HTTPException(403, f"your role may not read the {STATS_DAG} DAG")
    return user


def may_request_restores(user: Any) -> bool:
    """True when `user` may trigger runs of kaltura_restore."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    from kaltura_archiver.airflow.restore_request_runs import RESTORE_DAG

    return get_auth_manager().is_authorized_dag(
        method="POST", access_entity=DagAccessEntity.RUN, details=DagDetails(id=RESTORE_DAG), user=user
    )


def _login_page(request: Request, exc: NotLoggedIn) -> Response:
    if request.url.path.endswith((".csv", ".png", ".json")) or request.method != "GET":
        return JSONResponse({"detail": f"Not authenticated: {exc}"}, status_code=401)
    page = (
        "<!doctype html><title>Kaltura archive</title><p>Log in to Airflow to see the Kaltura archive: "
        f"<a href='/auth/login?next={MOUNT}/'>log in</a>.</p>"
    )
    return HTMLResponse(page, status_code=401)


def _report(suffix: str, media_type: str) -> Response:
    from kaltura_archiver.airflow.dashboard_sources import read

    body = read(f"{STATS_TABLE}{suffix}")
    if body is None:
        raise HTTPException(404, "no stats yet: run the kaltura_stats DAG")
    return Response(body, media_type=media_type)


def _page(user: Any, notice: RequestNotice | None = None) -> str:
    from kaltura_archiver.airflow.dashboard_sources import load_dashboard
    from kaltura_archiver.airflow.restore_request_runs import recent_requests

    board = load_dashboard()
    return render(board, recent_requests(), notice, may_request_restores(user), user.get_name())


def create_app() -> FastAPI:
    """The dashboard (`/`), its data (`/stats.csv`, `/stats.png`), restore requests and the API docs."""
    app = FastAPI(title="Kaltura archive", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(NotLoggedIn, _login_page)  # type: ignore[arg-type]

    @app.get("/", response_class=HTMLResponse)
    def page(user: Any = Depends(current_user)) -> str:
        return _page(user)

    @app.post("/restore-requests", response_class=HTMLResponse)
    def restore_request(entry_ids: str = Form(""), user: Any = Depends(current_user)) -> str:
        from kaltura_archiver.airflow.restore_request_runs import submit

        if not may_request_restores(user):
            raise HTTPException(403, "your role may not trigger kaltura_restore runs")
        return _page(user, submit(entry_ids, user.get_name()))

    @app.get("/stats.csv")
    def table(user: Any = Depends(current_user)) -> Response:
        return _report(".csv", "text/csv")

    @app.get("/stats.png")
    def chart(user: Any = Depends(current_user)) -> Response:
        return _report(".png", "image/png")

    @app.get("/openapi.json")
    def openapi(user: Any = Depends(current_user)) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", response_class=HTMLResponse)
    def docs(user: Any = Depends(current_user)) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{MOUNT}/openapi.json", title="Kaltura archive API")

    return app
