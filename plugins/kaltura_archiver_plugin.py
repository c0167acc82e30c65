"""UI plugin: the "Kaltura archive" dashboard in the Airflow navigation, and the connection Test fix."""

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from kaltura_archiver.airflow.connection_test import PortlessConnectionTest, airflow_refuses_port_zero
from kaltura_archiver.airflow.stats_page import create_app


def _root_middlewares() -> list[dict[str, Any]]:
    if not airflow_refuses_port_zero():
        return []
    return [{"middleware": PortlessConnectionTest, "name": "Test button for connections without a port"}]


class KalturaArchiverPlugin(AirflowPlugin):
    """Mounts the dashboard at /kaltura-archiver and links it from the Browse menu."""

    name = "kaltura_archiver"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/kaltura-archiver", "name": "Kaltura archive"}]
    fastapi_root_middlewares = _root_middlewares()
    external_views = [
        {
            "name": "Kaltura archive",
            "href": "/kaltura-archiver/",
            "destination": "nav",
            "category": "browse",
            "url_route": "kaltura-archiver",
        }
    ]
