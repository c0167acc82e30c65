"""Browser flow: trigger `kaltura_archive` from its form (dry run, then live), approve the live run on the
approval page, find the mapped tasks by entry id in the grid and read one entry's log."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By

from tests.ui.airflow_ui import ARCHIVE_TAG, FLOW_IDS, UiAirflow, q
from tests.ui.browser import Browser
from tests.ui.test_trigger_form import DAG_ID, field, open_trigger_form, trigger_button, type_into

RUN_TIMEOUT = 240


def fill_filter(browser: Browser, ui: UiAirflow, live: bool) -> str:
    """Fill created_before 1.5, tag, max_entries 10 (and dry_run off when `live`), submit; the run id."""
    rest = ui.rest()
    before = {r["dag_run_id"] for r in rest.runs(DAG_ID)}
    dialog = open_trigger_form(browser)
    type_into(field(browser, dialog, "created_before"), "1.5")
    type_into(field(browser, dialog, "tag"), ARCHIVE_TAG)
    type_into(field(browser, dialog, "max_entries"), "10")
    if live:
        field(browser, dialog, "years")
        switch = dialog.find_element(By.ID, "switch:element_dry_run")
        browser.click(switch)
        browser.wait_for(lambda: switch.get_attribute("data-state") == "unchecked", 10, "dry_run off")
    browser.shot(f"archive_form_{'live' if live else 'dry_run'}")
    browser.click(trigger_button(dialog))
    # the form unpauses the DAG, which may also start its latest scheduled run (a dry run)
    made = rest.wait(
        lambda: [r for r in rest.runs(DAG_ID) if r["dag_run_id"] not in before and r["run_type"] == "manual"],
        60,
        "the new run",
    )
    assert len(made) == 1, made
    return str(made[0]["dag_run_id"])


def wait_run(ui: UiAirflow, run_id: str, state: str = "success") -> dict[str, Any]:
    rest = ui.rest()

    def finished() -> dict[str, Any] | None:
        run = rest.call("GET", f"/dags/{DAG_ID}/dagRuns/{q(run_id)}")
        return run if run["state"] in ("success", "failed") else None

    run = rest.wait(finished, RUN_TIMEOUT, f"{DAG_ID} {run_id}", interval=2)
    assert run["state"] == state, run
    return dict(run)


def open_entry_log(browser: Browser, run_id: str, entry_id: str) -> str:
    """Open the run's mapped `archive_entry` list, click the entry id, return the log's text."""
    browser.open(f"/dags/{DAG_ID}/runs/{q(run_id)}/tasks/archive_entry/mapped")
    for other in FLOW_IDS:
        browser.wait_text(other)
    browser.shot(f"archive_mapped_tasks_{run_id.split('__')[0]}")
    link = browser.wait_for(
        lambda: next(
            (a for a in browser.driver.find_elements(By.LINK_TEXT, entry_id) if a.is_displayed()), None
        )
    )
    browser.click(link)
    return browser.wait_text(f"{entry_id} archive:", timeout=60)


def test_archive_dry_run_then_live_with_approval(browser: Browser, ui_airflow: UiAirflow) -> None:
    entry = FLOW_IDS[0]
    dry_id = fill_filter(browser, ui_airflow, live=False)
    run = ui_airflow.rest().call("GET", f"/dags/{DAG_ID}/dagRuns/{q(dry_id)}")
    assert run["conf"]["created_before"] == 1.5 and run["conf"]["tag"] == [ARCHIVE_TAG], run["conf"]
    assert run["conf"]["max_entries"] == 10 and run["conf"]["dry_run"] is True
    wait_run(ui_airflow, dry_id)
    log = open_entry_log(browser, dry_id, entry)
    browser.shot("archive_dry_run_entry_log")
    assert f"DRYRUN {entry} archive: stream original flavor" in log
    assert f"{entry} archive: would" in log
    assert "archived to s3://" not in log and ": done -" not in log
    assert f"EXEC {entry}" not in log

    live_id = fill_filter(browser, ui_airflow, live=True)
    ui_airflow.rest().awaiting_approval(DAG_ID, live_id, RUN_TIMEOUT)
    browser.open("/required_actions")
    browser.wait_text(f"Archive these Kaltura entries to S3? ({len(FLOW_IDS)} entries)")
    browser.shot("archive_required_actions")
    subject = browser.wait_for(
        lambda: next(
            (
                a
                for a in browser.driver.find_elements(By.PARTIAL_LINK_TEXT, "Archive these")
                if live_id in a.get_attribute("href")
            ),
            None,
        ),
        60,
        "the live run's approval",
    )
    browser.click(subject)
    for entry_id in FLOW_IDS:
        browser.wait_text(entry_id)
    browser.click(browser.button("Approve"))
    browser.wait_text("Response received at")
    browser.shot("archive_approved")
    wait_run(ui_airflow, live_id)
    log = open_entry_log(browser, live_id, entry)
    browser.shot("archive_live_entry_log")
    assert f"EXEC {entry} archive: stream original flavor" in log
    assert f"EXEC {entry} archive: add tag archived_to_s3" in log
    assert f"archived to s3://kaltura-archive/{entry}" in log
    assert "DRYRUN" not in log
    for entry_id in FLOW_IDS:
        assert "archived_to_s3" in ui_airflow.kaltura_control.entry(entry_id, sha256=False)["tags"]
