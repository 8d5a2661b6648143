"""Debian's Chromium, driven by Debian's chromium-driver through Selenium, and the page under test.

Nothing here downloads a browser: both binaries come from the apt packages `chromium` and
`chromium-driver`, which `make install` adds. Missing, the tests skip on a laptop and fail on CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from browser.sample import year_of
from copilot_metrics.dashboard import DashboardData, write_dashboard

# Flags that keep a test browser from reaching out on its own (updates, sync, field trials).
QUIET_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def installed(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: run `make install` (apt packages chromium and chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def data() -> DashboardData:
    return year_of()


@pytest.fixture(scope="session")
def page(data: DashboardData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dashboard(data, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = installed("chromium")
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # With the driver's path given, Selenium skips Selenium Manager, which would fetch a driver and browser.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=installed("chromedriver")))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
