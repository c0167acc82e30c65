"""UI plugin: the "Kaltura archive" dashboard in the Airflow navigation, and the connection Test fix."""

from airflow.plugins_manager import AirflowPlugin

from kaltura_archiver.airflow.connection_test import PortlessConnectionTest
from kaltura_archiver.airflow.stats_page import create_app


class KalturaArchiverPlugin(AirflowPlugin):
    """Mounts the dashboard at /kaltura-archiver and links it from the Browse menu."""

    name = "kaltura_archiver"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/kaltura-archiver", "name": "Kaltura archive"}]
    fastapi_root_middlewares = [
        {"middleware": PortlessConnectionTest, "name": "Test button for connections without a port"}
    ]
    external_views = [
        {
            "name": "Kaltura archive",
            "href": "/kaltura-archiver/",
            "destination": "nav",
            "category": "browse",
            "url_route": "kaltura-archiver",
        }
    ]
