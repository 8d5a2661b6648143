"""Loading the page in the test browser and reading back what it shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

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

# Recorded before any of the page's own scripts run (injected by the browser's debugger, which the
# page's Content-Security-Policy does not govern).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

READ_TABLES = """
const cells = (row) => Array.from(row.children, (cell) => cell.textContent);
const tables = {};
for (const section of document.querySelectorAll("section.panel")) {
  const table = section.querySelector(".table-box table");
  tables[section.id] = {
    head: cells(table.tHead.rows[0]),
    rows: Array.from(table.tBodies[0].rows, cells),
    foot: table.tFoot ? cells(table.tFoot.rows[0]) : null,
  };
}
return tables;
"""

# For each chart, how many of its canvas pixels have each series' colour (taken from the legend).
COUNT_SERIES_PIXELS = """
const counts = {};
for (const section of document.querySelectorAll("section.panel")) {
  const canvas = section.querySelector(".uplot canvas");
  if (!canvas) continue;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const rows = Array.from(section.querySelectorAll(".u-legend .u-series"));
  counts[section.id] = rows.filter((row) => row.querySelector(".u-marker")).map((row) => {
    const [r, g, b] = getComputedStyle(row.querySelector(".u-marker")).borderColor.match(/\\d+/g).map(Number);
    let count = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const distance = Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b);
      if (pixels[i + 3] > 200 && distance < 24) count++;
    }
    return [row.querySelector(".u-label").textContent, count];
  });
}
return counts;
"""


def start_chromium(chromium: str, chromedriver: str, profile: Path | None = None) -> webdriver.Chrome:
    """Debian's headless Chromium, quiet, with its console and DevTools events logged for `log`."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    if profile is not None:
        options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # With the driver's path given, Selenium skips Selenium Manager, which would fetch a driver and browser.
    return webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))


def load(browser: webdriver.Chrome, page: Path, width: int = 1280, height: int = 900, scheme: str = "light") -> None:
    """Open the page from disk at this viewport and colour scheme, and wait until it has drawn."""
    log(browser, "browser")
    log(browser, "performance")
    viewport = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", viewport)
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )
    browser.get(page.as_uri())
    rendered = "return document.documentElement.dataset.rendered"
    WebDriverWait(browser, 20).until(lambda driver: driver.execute_script(rendered))


def log(browser: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    """Log entries since the last read: "browser" is the console, "performance" the DevTools events."""
    entries: list[dict[str, Any]] = browser.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


def tables(browser: webdriver.Chrome) -> dict[str, dict[str, Any]]:
    found = browser.execute_script(READ_TABLES)
    assert isinstance(found, dict)
    return found


def series_pixels(browser: webdriver.Chrome) -> dict[str, list[tuple[str, int]]]:
    found = browser.execute_script(COUNT_SERIES_PIXELS)
    assert isinstance(found, dict)
    return {panel: [(str(label), int(count)) for label, count in rows] for panel, rows in found.items()}


def requested_urls(browser: webdriver.Chrome) -> list[str]:
    """Every URL the browser asked for since the last load (from Chrome's performance log)."""
    messages = [json.loads(entry["message"])["message"] for entry in log(browser, "performance")]
    return [m["params"]["request"]["url"] for m in messages if m["method"] == "Network.requestWillBeSent"]


def pick_range(browser: webdriver.Chrome, first: str, last: str) -> None:
    """Set the range picker's dates as a reader does, then let the page react to the change."""
    browser.execute_script(
        """
        for (const [id, value] of [["range-from", arguments[0]], ["range-to", arguments[1]]]) {
          const input = document.getElementById(id);
          input.value = value;
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }
        """,
        first,
        last,
    )


def number(text: str) -> float | None:
    """A number as the page shows it ("1,234", "30.2 %", "" for none)."""
    cleaned = text.replace(",", "").replace("%", "").strip()
    return float(cleaned) if cleaned else None
