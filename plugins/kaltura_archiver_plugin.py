"""UI plugin: a "Kaltura archive" page (stats chart and table) in the Airflow navigation."""

from airflow.plugins_manager import AirflowPlugin

from kaltura_archiver.airflow.stats_page import create_app


class KalturaArchiverPlugin(AirflowPlugin):
    """Mounts the stats page at /kaltura-archiver and links it from the Browse menu."""

    name = "kaltura_archiver"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/kaltura-archiver", "name": "Kaltura archive stats"}]
    external_views = [
        {
            "name": "Kaltura archive",
            "href": "/kaltura-archiver/",
            "destination": "nav",
            "category": "browse",
            "url_route": "kaltura-archiver",
        }
    ]
