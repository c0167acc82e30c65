"""Browser flow: the README's set-up step 2, the Kaltura connection's form and the list's Test button."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from dev.stack import PARTNER_ID
from tests.ui.browser import Browser

KALTURA_FIELDS = (
    "Service URL",
    "User ID",
    "Admin secret",
    "Partner ID",
    "Session expiry (s)",
    "Session privileges",
)


def connection_row(browser: Browser, conn_id: str) -> WebElement:
    def row() -> WebElement | None:
        rows = browser.driver.find_elements(By.CSS_SELECTOR, "tbody tr")
        return next((r for r in rows if r.text.split() and r.text.split()[0] == conn_id), None)

    return browser.wait_for(row, 30, f"the row of {conn_id}")


def press_test(browser: Browser, conn_id: str) -> str:
    """Press the row's Test button; the text of the answer it shows."""
    browser.open("/connections")
    row = connection_row(browser, conn_id)
    browser.click(browser.button("Test Connection", within=row))

    def answer() -> str | None:
        """The last toast's text, once its description (the hook's message) is shown, not its title only."""
        toasts = browser.driver.find_elements(By.CSS_SELECTOR, "[data-scope=toast][data-part=root]")
        texts = [
            t.text
            for t in toasts
            if any(d.text.strip() for d in t.find_elements(By.CSS_SELECTOR, "[data-part=description]"))
        ]
        return texts[-1] if texts else None

    text = browser.wait_for(answer, 60, f"the answer of Test on {conn_id}")
    browser.shot(f"connection_test_{conn_id}")
    return text


def test_kaltura_connection_form_shows_its_fields(browser: Browser) -> None:
    browser.open("/connections")
    row = connection_row(browser, "kaltura_default")
    browser.click(browser.button("Edit Connection", within=row))
    dialog = browser.wait_for(
        lambda: next(
            (
                d
                for d in browser.driver.find_elements(By.CSS_SELECTOR, "[role=dialog]")
                if "Edit Connection" in d.text
            ),
            None,
        )
    )
    for label in KALTURA_FIELDS[:3]:
        browser.wait_text(label)
    assert "Port" not in dialog.text and "Schema" not in dialog.text
    browser.shot("connection_kaltura_form")
    browser.click(browser.button("Extra Fields", within=dialog))
    for label in KALTURA_FIELDS[3:]:
        browser.wait_text(label)
    partner = dialog.find_element(By.NAME, "element_partner_id")
    assert partner.get_attribute("value") == str(PARTNER_ID)
    browser.shot("connection_kaltura_form_extra")
    browser.click(browser.button("Close", within=dialog))


def test_test_button_answers_on_the_stored_connections(browser: Browser) -> None:
    """Kaltura and AWS connections have no port; Test must still reach the hook and report its answer."""
    kaltura = press_test(browser, "kaltura_default")
    assert f"Connected to partner {PARTNER_ID} as user archiver@example.edu" in kaltura, kaltura
    aws = press_test(browser, "aws_default")
    assert "Failed" not in aws and "Arn=" in aws, aws
    ldap = press_test(browser, "ldap_default")
    assert "Failed" not in ldap and "Bad Request" not in ldap, ldap
