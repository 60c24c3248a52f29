"""End-to-end test of the planner's page in headless Chromium, driven by Selenium.

The test serves the app with ``cropflow serve`` on a free loopback port and
uploads workbooks through the page's file input. It is skipped when Debian's
chromium or chromium-driver is not installed, except under CI=true, where
that fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.api.conftest import AS_OF, EXAMPLE
from tests.cli.test_ingest import broken_workbook

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SERVER_START_TIMEOUT_S = 30
WAIT_TIMEOUT_S = 30
# Copies of the screenshots outside tmp_path, so they can be viewed after the run.
SCREENSHOT_COPY_DIR = Path("/tmp/cropflow-screens")


def require_chromium() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} not found. Install the Debian packages chromium and chromium-driver."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} CI must install them (see .ci/run).")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"cropflow serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/api/farms", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"cropflow serve timed out: {url} did not respond within {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()}")


@pytest.fixture
def served_url(tmp_path) -> Iterator[str]:
    """Start ``cropflow serve`` on a free loopback port and return its base URL."""
    require_chromium()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CROPFLOW_")}
    env["CROPFLOW_DATA_DIR"] = str(tmp_path / "data")
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cropflow", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(process, url, log_path)
            yield url
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


@pytest.fixture
def driver(tmp_path) -> Iterator:
    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # Without the background-networking flags Chromium keeps trying to reach
    # Google's hosts, which a machine without internet access refuses.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    browser = webdriver.Chrome(options=options, service=service)
    browser.set_page_load_timeout(WAIT_TIMEOUT_S)
    try:
        yield browser
    finally:
        browser.quit()


def save_screenshot(browser, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    assert browser.save_screenshot(str(path)), f"screenshot {path} was not written"
    SCREENSHOT_COPY_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOT_COPY_DIR / name)
    return path


def upload_through_page(browser, path: Path) -> str:
    """Choose ``path`` in the file input, submit with as-of AS_OF and return the report's status."""
    wait = WebDriverWait(browser, WAIT_TIMEOUT_S)
    file_input = wait.until(expected_conditions.presence_of_element_located((By.ID, "file-input")))
    # A date input's typed format depends on the browser's locale, so the value is set directly.
    browser.execute_script("arguments[0].value = arguments[1];", browser.find_element(By.ID, "as-of"), AS_OF)
    file_input.send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()

    def shown_status(current):
        # The page hides the previous report while a new upload runs.
        if not current.find_element(By.ID, "report").is_displayed():
            return False
        if path.name not in current.find_element(By.ID, "report-summary").text:
            return False
        return current.find_element(By.CSS_SELECTOR, "#report-summary dd[class^=status-]").text

    return wait.until(shown_status, f"no report for {path.name}")


def fetch_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_page_shows_errors_and_calendar(served_url, driver, tmp_path):
    driver.get(f"{served_url}/")

    status = upload_through_page(driver, broken_workbook(tmp_path / "broken.xlsx"))
    save_screenshot(driver, tmp_path, "01-broken-report.png")

    assert status == "rejected"
    error_rows = driver.find_elements(By.CSS_SELECTOR, "#problems tbody tr td.kind-error")
    assert len(error_rows) >= 10
    locations = {cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#problems tbody tr td:nth-child(2)")}
    for expected in ("crop schedule!B4", "crop schedule!C5", "crop schedule!D6", "recipes!C4", "farms!C4"):
        assert expected in locations

    status = upload_through_page(driver, EXAMPLE)
    save_screenshot(driver, tmp_path, "02-example-report.png")

    assert status == "accepted"

    driver.get(f"{served_url}/#calendar")
    filled_cells = WebDriverWait(driver, WAIT_TIMEOUT_S).until(
        lambda current: current.find_elements(By.CSS_SELECTOR, "#calendar td:not(.empty)"),
        "the calendar heat map shows no filled cells",
    )
    save_screenshot(driver, tmp_path, "03-calendar.png")

    calendar = fetch_json(f"{served_url}/api/calendar")
    assert len(filled_cells) == len(calendar["cells"])
    shown_batches = sum(int(cell.text) for cell in filled_cells)
    assert shown_batches == sum(cell["batches"] for cell in calendar["cells"])
    assert all(cell.get_attribute("style").startswith("background") for cell in filled_cells)
    farm_rows = driver.find_elements(By.CSS_SELECTOR, "#calendar tr th:first-child")
    assert len(farm_rows) == len(calendar["farms"]) + 1
