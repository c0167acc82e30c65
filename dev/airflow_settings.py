"""Load airflow_settings.yaml: as AIRFLOW_CONN_* / AIRFLOW_VAR_* variables, or into the metadata DB.

Small stand-in for the astro CLI's loader. `${NAME}` placeholders are filled from the environment;
a placeholder with no value is an error naming it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "airflow_settings.yaml"
_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


class SettingsFileError(ValueError):
    """airflow_settings.yaml is malformed or refers to an unset variable."""


def _fill(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise SettingsFileError(f"airflow_settings.yaml uses ${{{name}}} but it is not set")
            return env[name]

        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, dict):
        return {k: _fill(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, env) for v in value]
    return value


def read_settings(env: Mapping[str, str], path: Path = SETTINGS_FILE) -> dict[str, Any]:
    """Parse the file and fill placeholders; returns its connections, variables and pools lists."""
    raw = yaml.safe_load(path.read_text()) or {}
    section = raw.get("airflow")
    if not isinstance(section, dict):
        raise SettingsFileError(f"{path}: top-level key 'airflow' is missing")
    filled = _fill(section, env)
    return {key: filled.get(key) or [] for key in ("connections", "variables", "pools")}


def connection_json(conn: dict[str, Any]) -> str:
    """One connection entry as the JSON form Airflow accepts in AIRFLOW_CONN_<ID>."""
    extra = conn.get("conn_extra") or {}
    body: dict[str, Any] = {"conn_type": conn["conn_type"]}
    for key in ("host", "login", "password", "schema", "port"):
        value = conn.get(f"conn_{key}")
        if value not in (None, ""):
            body[key] = int(value) if key == "port" else value
    if extra:
        body["extra"] = {k: _typed(v) for k, v in extra.items()}
    return json.dumps(body)


def _typed(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def settings_environment(env: Mapping[str, str], path: Path = SETTINGS_FILE) -> dict[str, str]:
    """AIRFLOW_CONN_* and AIRFLOW_VAR_* variables for every connection and variable in the file."""
    settings = read_settings(env, path)
    out = {f"AIRFLOW_CONN_{c['conn_id'].upper()}": connection_json(c) for c in settings["connections"]}
    for var in settings["variables"]:
        out[f"AIRFLOW_VAR_{var['variable_name'].upper()}"] = str(var["variable_value"])
    return out


def import_into_metadata_db(env: Mapping[str, str], path: Path = SETTINGS_FILE) -> None:
    """Write connections, variables and pools into the metadata DB (for the UI of `make standalone`)."""
    settings = read_settings(env, path)
    airflow = [str(Path(sys.executable).with_name("airflow"))]
    run_env = dict(env)
    for conn in settings["connections"]:
        subprocess.run([*airflow, "connections", "delete", conn["conn_id"]], env=run_env, capture_output=True)
        subprocess.run(
            [*airflow, "connections", "add", conn["conn_id"], "--conn-json", connection_json(conn)],
            env=run_env,
            check=True,
            capture_output=True,
        )
    for var in settings["variables"]:
        subprocess.run(
            [*airflow, "variables", "set", var["variable_name"], str(var["variable_value"])],
            env=run_env,
            check=True,
            capture_output=True,
        )
    for pool in settings["pools"]:
        subprocess.run(
            [
                *airflow,
                "pools",
                "set",
                pool["pool_name"],
                str(pool["pool_slot"]),
                pool.get("pool_description", ""),
            ],
            env=run_env,
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    for key, value in settings_environment(os.environ).items():
        print(f"export {key}={json.dumps(value)}")
