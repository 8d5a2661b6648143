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

from browser.pages import start_chromium
from browser.sample import year_of
from copilot_metrics.dashboard import DashboardData, write_dashboard


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
    driver = start_chromium(installed("chromium"), installed("chromedriver"), tmp_path_factory.mktemp("profile"))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
