"""Fixtures of the browser tests: one `make standalone`-like Airflow and one logged-in Chromium per session.

The Kaltura account holds only the entries these flows use, so that the scheduled run a DAG starts
when it is unpaused (Airflow creates the latest scheduled run at once) selects nothing and ends fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.airflow_ui import ADMIN, UiAirflow, ui_entries
from tests.ui.browser import CHROMEDRIVER, CHROMIUM, Browser


@pytest.fixture(scope="session")
def ui_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiAirflow]:
    """Airflow standalone on a free port against a fresh local stack holding `ui_entries()`."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(
                f"{path} is missing: install the Debian packages chromium and chromium-driver (make setup)"
            )
    attach = os.environ.get("KALTURA_UI_ATTACH")
    if attach:  # a running `python -m tests.ui.airflow_ui` (its root folder): quick reruns while editing
        yield UiAirflow.attach(Path(attach))
        return
    ui = UiAirflow(Path(tmp_path_factory.mktemp("ui-airflow")))
    try:
        ui.start_stack()
        assert ui.stack is not None
        ui.stack.kaltura_control.create_entries(ui_entries())
        ui.start()
        yield ui
    finally:
        ui.stop()


@pytest.fixture(scope="session")
def browser(ui_airflow: UiAirflow) -> Iterator[Browser]:
    """One Chromium, logged in as the admin user."""
    chromium = Browser(ui_airflow.url)
    try:
        chromium.login(ADMIN, ui_airflow.password)
        yield chromium
    finally:
        chromium.quit()
