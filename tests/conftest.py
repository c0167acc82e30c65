"""Shared pytest configuration.

Airflow reads its configuration when first imported, so the local test Airflow home (SQLite,
no examples, this repo's dags/) is set here, before any test module imports Airflow.
Fixtures for the local stack live in tests/fixtures/.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from dev.local_airflow import airflow_environment

_TEST_HOME = Path(tempfile.mkdtemp(prefix="kaltura-archiver-airflow-"))
for _key, _value in airflow_environment(_TEST_HOME).items():
    os.environ[_key] = _value
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.s3",
    "tests.fixtures.ldap",
    "tests.fixtures.airflow",
    "tests.fixtures.dag_stack",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` run only with RUN_SLOW=1 (they print their figures; see benchmarks/)."""
    if os.environ.get("RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set RUN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
