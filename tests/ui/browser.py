"""Headless Debian Chromium driven by Selenium through Debian's chromedriver, for the UI flows.

Chromium gets a new empty profile and no network chatter of its own (the machine has no internet);
`Browser` adds the few waits and look-ups the flows share, and saves screenshots under output/ui/.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from dev.local_airflow import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "output" / "ui"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
T = TypeVar("T")


class Browser:
    """One Chromium window; `wait_for` polls a condition, `shot` saves a screenshot."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = Path(tempfile.mkdtemp(prefix="kaltura-ui-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(60)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def login(self, username: str, password: str) -> None:
        """Log in through the auth manager's login page."""
        self.open("/auth/login")
        self.wait_for(lambda: self.driver.find_elements(By.NAME, "username"), 60, "the login form")
        self.driver.find_element(By.NAME, "username").send_keys(username)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait_for(lambda: "/auth/login" not in self.driver.current_url, 60, "the login to finish")

    def wait_for(self, check: Callable[[], T], timeout: float = 30.0, what: str = "the page") -> T:
        """Poll `check()` until it returns something truthy; fail with a screenshot after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except (StaleElementReferenceException, WebDriverException):
                value = None  # type: ignore[assignment]
            if value:
                return value
            if time.monotonic() > deadline:
                self.shot("timeout")
                raise TimeoutError(
                    f"timed out after {timeout:.0f} s waiting for {what}; page text:\n{self.text()}"
                )
            time.sleep(0.3)

    def text(self, css: str = "body") -> str:
        """The visible text of the first element matching `css` ('' when there is none)."""
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""

    def wait_text(self, needle: str, timeout: float = 30.0, css: str = "body") -> str:
        """Wait until `needle` is visible in `css`; returns that element's text."""
        return self.wait_for(lambda: (t := self.text(css)) and needle in t and t, timeout, repr(needle))

    def find(self, css: str, timeout: float = 30.0) -> WebElement:
        """The first displayed element matching `css`."""

        def displayed() -> WebElement | None:
            return next(
                (e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None
            )

        return self.wait_for(displayed, timeout, css)

    def button(self, label: str, within: WebElement | None = None, timeout: float = 30.0) -> WebElement:
        """A displayed button whose text or aria-label is `label`."""

        def found() -> WebElement | None:
            root: Any = within or self.driver
            for element in root.find_elements(By.CSS_SELECTOR, "button, [role=button]"):
                names = (element.text.strip(), (element.get_attribute("aria-label") or "").strip())
                if label in names and element.is_displayed():
                    return element
            return None

        return self.wait_for(found, timeout, f"button {label!r}")

    def click(self, element: WebElement) -> None:
        """Scroll `element` into view and click it (through JavaScript when something overlaps it)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
        except WebDriverException:
            self.driver.execute_script("arguments[0].click();", element)

    def reveal(self, text: str) -> None:
        """Scroll the innermost element showing `text` into the middle of its scroll area."""
        literal = "concat('" + "', \"'\", '".join(text.split("'")) + "', '')"
        found = self.driver.find_elements(By.XPATH, f"//*[contains(text(), {literal})]")
        if found:
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", found[-1])

    def shot(self, name: str) -> Path:
        """Save a screenshot of the whole page as output/ui/<name>.png."""
        path = SCREENSHOTS / f"{name}.png"
        height = self.driver.execute_script("return document.body.scrollHeight") or 1000
        self.driver.set_window_size(1400, min(max(1000, int(height)), 4000))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1400, 1000)
        return path
