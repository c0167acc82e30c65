"""Browser flow: the DAG list and the trigger form of `kaltura_archive`, as a new user meets them."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.ui.airflow_ui import UiAirflow
from tests.ui.browser import Browser

DAG_ID = "kaltura_archive"
SECTIONS = ("Run Parameters", "Age and plays", "Which entries", "Batch size and paging")


def open_trigger_form(browser: Browser, dag_id: str = DAG_ID) -> WebElement:
    """The DAG page's trigger dialog (sections collapsed but the first: see `field`)."""
    browser.open(f"/dags/{dag_id}")
    browser.click(browser.button("Trigger"))
    dialog = browser.wait_for(lambda: _trigger_dialog(browser), 30, "the trigger dialog")
    browser.wait_for(
        lambda: dialog.find_elements(By.CSS_SELECTOR, "[name^=element_]"), 30, "the form's fields"
    )
    return dialog


def field(browser: Browser, dialog: WebElement, name: str) -> WebElement:
    """The input of param `name`, its section opened (one section is open at a time)."""
    css = f"[name=element_{name}], #element_{name}"

    def shown() -> WebElement | None:
        element = dialog.find_element(By.CSS_SELECTOR, css)
        if element.is_displayed():
            return element
        item = element.find_element(
            By.XPATH, "./ancestor::*[@data-scope='accordion' and @data-part='item'][1]"
        )
        trigger = item.find_element(By.CSS_SELECTOR, "[data-part=item-trigger]")
        if trigger.get_attribute("aria-expanded") != "true":
            browser.click(trigger)
        return None

    return browser.wait_for(shown, 15, f"field {name}")


def _trigger_dialog(browser: Browser) -> WebElement | None:
    dialogs = browser.driver.find_elements(By.CSS_SELECTOR, "[role=dialog]")
    return next((d for d in dialogs if "Trigger Dag" in d.text), None)


def field_label(browser: Browser, dialog: WebElement, name: str) -> str:
    """The label text of the form row of param `name`."""
    row = field(browser, dialog, name).find_element(By.XPATH, "./ancestor::*[@role='group'][1]")
    return str(row.find_element(By.TAG_NAME, "label").text)


def type_into(element: WebElement, text: str) -> None:
    """Replace the field's text by `text`, typed again (3 tries) when the field, still settling after
    its section opened, dropped the keys."""
    for _ in range(3):
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.DELETE)
        if text:
            element.send_keys(text)
        if element.get_attribute("value") == text:
            return
        time.sleep(0.5)


def trigger_button(dialog: WebElement) -> WebElement:
    return [b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Trigger"][-1]


def test_dag_list_shows_a_description_per_dag(browser: Browser, ui_airflow: UiAirflow) -> None:
    """Every DAG has a one-line description: the list shows it on the DAG name, the REST API returns it."""
    dags = ui_airflow.rest().call("GET", "/dags", params={"limit": 100})["dags"]
    descriptions = {d["dag_id"]: d["description"] for d in dags}
    assert all(descriptions.values()), descriptions
    assert all("\n" not in d and len(d) <= 120 for d in descriptions.values()), descriptions
    browser.open("/dags")
    name = browser.wait_for(
        lambda: next(
            (a for a in browser.driver.find_elements(By.LINK_TEXT, DAG_ID) if a.is_displayed()), None
        ),
        30,
        "the DAG list",
    )
    ActionChains(browser.driver).move_to_element(name).perform()
    browser.wait_text(descriptions[DAG_ID])
    browser.shot("dag_list_descriptions")


def test_trigger_form_titles_sections_pick_lists(browser: Browser) -> None:
    """Fields carry titles and sit in sections; status and media type are pick lists with readable names."""
    dialog = open_trigger_form(browser)
    for section in SECTIONS:
        assert section in dialog.text
    assert field_label(browser, dialog, "created_before").startswith("Created at least N years ago")
    assert field_label(browser, dialog, "tag").startswith("Tags")
    assert field_label(browser, dialog, "max_entries").startswith("At most N entries")
    status = field(browser, dialog, "status")
    assert "Ready (2)" in status.text and "[" not in status.text
    browser.click(status)
    browser.wait_text("Error converting (-1)")
    browser.wait_text("Virus scan: infected")
    browser.shot("trigger_form_status_pick_list")
    browser.click(status.find_element(By.XPATH, "./ancestor::*[@role='group'][1]//label"))
    media = field(browser, dialog, "media_type")
    assert "Video" in media.text
    browser.shot("trigger_form_sections")


def test_trigger_form_optional_fields_stay_optional(browser: Browser) -> None:
    """Typing into `tag` and `entry_ids` and clearing them again leaves the form valid."""
    dialog = open_trigger_form(browser)
    for name in ("tag", "entry_ids"):
        assert "*" not in field_label(browser, dialog, name)
        element = field(browser, dialog, name)
        type_into(element, "lecture")
        type_into(element, "")
    assert "This field is required" not in dialog.text
    assert trigger_button(dialog).is_enabled()
    browser.shot("trigger_form_optional_fields")


def test_trigger_form_refuses_out_of_range_years(browser: Browser, ui_airflow: UiAirflow) -> None:
    """`years: -2` stays -2 in the field and the trigger is refused with the reason; no run is made."""
    rest = ui_airflow.rest()
    before = len(rest.runs(DAG_ID))
    paused = rest.call("GET", f"/dags/{DAG_ID}")["is_paused"]
    dialog = open_trigger_form(browser)
    for unpause in (label for label in dialog.find_elements(By.TAG_NAME, "label") if "Unpause" in label.text):
        if unpause.find_element(By.TAG_NAME, "input").is_selected():
            browser.click(unpause)  # else a refused trigger still unpauses the DAG (see the README)
    years = field(browser, dialog, "years")
    type_into(years, "-2")
    assert years.get_attribute("value") == "-2", "the field does not take -2"
    years.send_keys(Keys.TAB)
    time.sleep(0.5)  # leaving the field is when a form would coerce the value
    assert years.get_attribute("value") == "-2", "the form changed the typed value"
    browser.click(trigger_button(dialog))
    message = browser.wait_text("less than the minimum of 0")
    assert "-2 is less than the minimum of 0" in message
    browser.reveal("less than the minimum of 0")
    browser.shot("trigger_form_refuses_negative_years")
    assert len(rest.runs(DAG_ID)) == before
    assert rest.call("GET", f"/dags/{DAG_ID}")["is_paused"] is paused


@pytest.mark.parametrize("dag_id", ["kaltura_report", "kaltura_restore"])
def test_other_forms_have_titles(browser: Browser, dag_id: str) -> None:
    """The read-only and restore DAGs share the titled, sectioned filter fields."""
    dialog = open_trigger_form(browser, dag_id)
    assert field_label(browser, dialog, "unplayed_for").startswith("Not played for N years")
