"""Every DAG file imports cleanly without network or connections, and every DAG meets the house rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag_bag(monkeypatch_module: pytest.MonkeyPatch) -> DagBag:
    for name in list(__import__("os").environ):
        if name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_")):
            monkeypatch_module.delenv(name)
    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_dags_folder_has_dags() -> None:
    assert list(DAGS_FOLDER.glob("*.py")), "dags/ holds no DAG file"


def test_no_import_errors(dag_bag: DagBag) -> None:
    assert dag_bag.import_errors == {}, "\n".join(f"{k}: {v}" for k, v in dag_bag.import_errors.items())


def test_every_dag_follows_the_house_rules(dag_bag: DagBag) -> None:
    assert dag_bag.dags, "no DAG was loaded"
    problems = []
    for dag_id, dag in dag_bag.dags.items():
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if not dag.doc_md:
            problems.append(f"{dag_id}: no doc_md")
        owner = dag.default_args.get("owner")
        if not owner or owner == "airflow":
            problems.append(f"{dag_id}: owner must be set to a team, got {owner!r}")
        retries = dag.default_args.get("retries", 0)
        if retries < 2:
            problems.append(f"{dag_id}: retries must be >= 2, got {retries}")
    assert not problems, "\n".join(problems)
