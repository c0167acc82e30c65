"""Parsing a DAG file imports none of the task-time libraries: pandas, python-ldap, KalturaClient, boto3.

The dag-processor parses every DAG file again and again; these libraries are only needed when a task
runs. Each file is parsed by Airflow's own `DagBag` in a fresh interpreter, which then reports the
forbidden modules it finds in `sys.modules`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
FORBIDDEN = ("pandas", "ldap", "KalturaClient", "boto3")
PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
before = {name for name in FORBIDDEN if name in sys.modules}
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "errors": {k: str(v)[-400:] for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dags),
    "before": sorted(before),
    "loaded": sorted(name for name in FORBIDDEN if name in sys.modules),
}))
"""


def parse_in_fresh_interpreter(path: Path) -> dict[str, list[str] | dict[str, str]]:
    """Parse one DAG file with DagBag in a new Python: its DAGs, errors and forbidden modules loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    code = f"FORBIDDEN = {FORBIDDEN!r}\n{PROBE}"
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, list[str] | dict[str, str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("dag_file", sorted(DAGS_FOLDER.glob("*.py")), ids=lambda p: p.name)
def test_parsing_a_dag_file_loads_no_task_time_library(dag_file: Path) -> None:
    result = parse_in_fresh_interpreter(dag_file)
    assert result["errors"] == {}
    assert result["dags"], f"{dag_file.name} defines no DAG"
    assert result["before"] == [], "the probe itself loaded a forbidden module before parsing"
    assert result["loaded"] == [], f"parsing {dag_file.name} imported {result['loaded']}"


def test_the_probe_sees_a_dag_file_that_imports_boto3(tmp_path: Path) -> None:
    dag_file = tmp_path / "imports_boto3.py"
    dag_file.write_text(
        "import boto3\n"
        "from airflow.sdk import DAG\n"
        "with DAG(dag_id='imports_boto3', schedule=None):\n"
        "    pass\n"
    )
    result = parse_in_fresh_interpreter(dag_file)
    assert result["dags"] == ["imports_boto3"]
    assert result["loaded"] == ["boto3"]
