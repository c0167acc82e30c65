"""Browser flow: the archive dashboard (the plugin page) after real archive, replace and stats runs,
its login requirement, its money figures and prices, and a self-service restore request."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests
from selenium.webdriver.common.by import By

from kaltura_archiver.costs import GB, Prices
from kaltura_archiver.dashboard_html import money
from tests.ui.airflow_ui import FLOW_IDS, RESTORE_ID, UiAirflow, q, ui_entries
from tests.ui.browser import Browser

PAGE = "/kaltura-archiver/"
PRICES = "kaltura_archiver_prices"
MIN_AGE = "kaltura_archiver_replace_min_age_years"


@pytest.fixture(scope="module")
def replaced(ui_airflow: UiAirflow) -> Iterator[str]:
    """RESTORE_ID archived (unless the archive flow did it) and replaced by live runs, then stats."""
    rest = ui_airflow.rest()
    control = ui_airflow.kaltura_control
    if "archived_to_s3" not in control.entry(RESTORE_ID, sha256=False)["tags"]:
        rest.unpause("kaltura_archive")
        assert rest.live_run("kaltura_archive", {"entry_ids": [RESTORE_ID]}) == "success"
    rest.unpause("kaltura_replace")
    # replace never touches entries created less than replace_min_age_years (3) ago: this one is two
    rest.upsert("/variables", MIN_AGE, {"key": MIN_AGE, "value": "1"})
    assert rest.live_run("kaltura_replace", {"entry_ids": [RESTORE_ID]}) == "success"
    assert "flavors_deleted" in control.entry(RESTORE_ID, sha256=False)["tags"]
    # a manual run without a logical date counts as of now, so it sees the archives made today
    stats = rest.trigger("kaltura_stats", {})
    rest.unpause("kaltura_stats")
    assert rest.wait_run("kaltura_stats", stats) == "success"
    yield RESTORE_ID


def test_anonymous_requests_are_refused(ui_airflow: UiAirflow) -> None:
    for path in ("", "stats.csv", "stats.png", "openapi.json", "docs"):
        answer = requests.get(f"{ui_airflow.url}{PAGE}{path}", timeout=30)
        assert answer.status_code == 401, (path, answer.status_code)
        assert "Saved per month" not in answer.text and "archived_entries" not in answer.text
    forged = requests.get(f"{ui_airflow.url}{PAGE}", headers={"Authorization": "Bearer forged"}, timeout=30)
    assert forged.status_code == 401
    post = requests.post(
        f"{ui_airflow.url}{PAGE}restore-requests", data={"entry_ids": RESTORE_ID}, timeout=30
    )
    assert post.status_code == 401
    token = ui_airflow.rest().token()
    api = requests.get(
        f"{ui_airflow.url}{PAGE}openapi.json", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert api.status_code == 200 and "/restore-requests" in api.json()["paths"]


def test_dashboard_figures_money_and_prices(browser: Browser, ui_airflow: UiAirflow, replaced: str) -> None:
    rest = ui_airflow.rest()
    rest.upsert("/variables", PRICES, {"key": PRICES, "value": '{"kaltura_gb_price": 1}'})
    browser.open(PAGE)
    browser.wait_text("unknown price 'kaltura_gb_price'")
    rest.upsert(
        "/variables",
        PRICES,
        {"key": PRICES, "value": json.dumps({"kaltura_gb_month": 0.5, "currency": "EUR"})},
    )
    browser.open(PAGE)
    text = browser.wait_text("Saved per month")
    tags = {i: ui_airflow.kaltura_control.entry(i, sha256=False)["tags"] for i in FLOW_IDS}
    archived_ids = [i for i in FLOW_IDS if "archived_to_s3" in tags[i]]
    archived = len(archived_ids)
    rows = [r.text for r in browser.driver.find_elements(By.CSS_SELECTOR, "table tr")]

    def state(name: str) -> str:
        return next(r for r in rows if r.startswith(f"{name} "))

    total = len(ui_entries())
    assert state("In Kaltura").startswith(f"In Kaltura {total - archived} "), rows
    assert state("Placeholder").startswith("Placeholder 1 "), rows
    assert state("Archived").startswith(f"Archived {archived - 1} "), rows
    assert "kaltura_gb_month 0.5" in text and "currency EUR" in text
    sizes = {e["id"]: e["original_size"] for e in ui_entries()}
    token = ui_airflow.rest().token()
    answer = requests.get(
        f"{ui_airflow.url}{PAGE}stats.csv", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    latest = list(csv.DictReader(io.StringIO(answer.text)))[-1]
    # the replaced entry's original left Kaltura; every archived original is in S3
    assert int(latest["placeholder_bytes"]) >= sizes[RESTORE_ID], latest
    assert int(latest["archived_bytes"]) >= sum(sizes[i] for i in archived_ids), latest
    saved = (
        int(latest["placeholder_bytes"]) / GB * 0.5
        - int(latest["archived_bytes"]) / GB * Prices().glacier_gb_month
    )
    cards = [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, ".card")]
    card = next(c for c in cards if c.startswith("Saved per month"))
    assert money(saved, "EUR") in card, (cards, latest)
    charts = [
        c.get_attribute("aria-label") for c in browser.driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    ]
    assert {"Entries per state", "Size per state", "Size over time", "Saved per month over time"} <= set(
        charts
    )
    monday = date.today() - timedelta(days=date.today().weekday())
    assert f"{monday.isoformat()} {archived} 0" in text, "the week's live archive runs"
    browser.shot("dashboard")
    browser.open("/plugin/kaltura-archiver")
    frame = browser.wait_for(
        lambda: browser.driver.find_elements(By.TAG_NAME, "iframe"), 60, "the plugin frame"
    )
    browser.driver.switch_to.frame(frame[0])
    browser.wait_text("Saved per month")
    browser.driver.switch_to.default_content()
    browser.shot("dashboard_in_airflow_nav")


def test_restore_request(browser: Browser, ui_airflow: UiAirflow, replaced: str) -> None:
    """Ids are checked (malformed, unknown, not replaced refused with the reason); the rest start a run."""
    rest = ui_airflow.rest()
    browser.open(PAGE)
    form = browser.find("textarea#entry_ids")
    form.send_keys(f"{replaced}, {FLOW_IDS[1]}\n0_zzzzzzzz bogus")
    browser.click(browser.button("Request restore"))
    text = browser.wait_text(f"Restore requested for {replaced}")
    assert f"Refused {FLOW_IDS[1]}: not tagged flavors_deleted" in text
    assert "Refused 0_zzzzzzzz: no such entry in Kaltura" in text
    assert "Refused bogus: bogus is not a Kaltura entry id" in text
    run = next(r for r in rest.runs("kaltura_restore") if r["dag_run_id"].startswith("restore_request__"))
    assert run["conf"]["entry_ids"] == [replaced] and run["conf"]["dry_run"] is False
    assert "admin" in str(run.get("triggering_user_name")), run
    assert "waiting: kaltura_restore is paused" in text
    browser.shot("dashboard_restore_requested")
    rest.unpause("kaltura_restore")
    assert rest.wait_run("kaltura_restore", run["dag_run_id"]) == "success"
    browser.open(PAGE)
    text = browser.wait_text("1 of 1 done")
    assert run["dag_run_id"] in text
    browser.reveal("1 of 1 done")
    browser.shot("dashboard_restore_done")
    assert "flavors_deleted" not in ui_airflow.kaltura_control.entry(replaced, sha256=False)["tags"]
    ti = rest.call(
        "GET", f"/dags/kaltura_restore/dagRuns/{q(run['dag_run_id'])}/taskInstances/restore_entry/0"
    )
    assert ti["rendered_map_index"] == replaced
