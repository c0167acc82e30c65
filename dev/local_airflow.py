"""Environment of the local Airflow home used by the demo, `make standalone` and the tests."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HOME = PROJECT_ROOT / "airflow_home"


def airflow_environment(home: Path = DEFAULT_HOME, test_connection: bool = True) -> dict[str, str]:
    """Airflow settings of a local stack: SQLite, LocalExecutor, no examples, our dags/ and plugins/.

    Everything else is Airflow's stock configuration (e.g. `[core] max_map_length` 1,024), so the
    local runs meet the same limits a deployment does.
    """
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }
    if test_connection:
        env["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
    return env
