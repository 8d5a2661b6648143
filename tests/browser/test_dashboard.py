"""The dashboard opened from disk in Chromium: no error, no request, every chart drawn, the numbers right.

The page is built from a year of a 10,000-user organization (tests/browser/sample.py); every
expected figure is worked out here from that DashboardData, independently of the page's script.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from browser import expected
from browser.pages import RECORD_VIOLATIONS, load, log, number, pick_range, requested_urls, series_pixels, tables
from browser.sample import HOSTILE_IDE, HOSTILE_TEAM
from copilot_metrics.dashboard import DashboardData, write_dashboard
from copilot_metrics.dashboard.data import BREAKDOWN_LIMIT, OTHER

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
DAY_PANELS = ("active-users", "acceptance", "interactions", "lines", "ai-credits", "adoption")
CHARTS = (*DAY_PANELS, "by-ide", "by-feature", "by-language", "by-model", "teams", "pull-requests")


@pytest.fixture(scope="module", autouse=True)
def violations_recorded(browser: webdriver.Chrome) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})


def last_day(data: DashboardData) -> date:
    return data.days[-1].day


def assert_cells(shown: list[str], wanted: list[Any], where: str) -> None:
    """Cells equal as the page shows them: ints exactly, fractions to the digits shown."""
    assert len(shown) == len(wanted), f"{where}: {shown} != {wanted}"
    for text, value in zip(shown, wanted, strict=True):
        if value is None:
            assert text == "", f"{where}: {text!r} shown for no value"
        elif isinstance(value, str):
            assert text == value, where
        elif isinstance(value, int):
            assert number(text) == value, f"{where}: {text!r} != {value}"
        else:
            digits = len(text.replace("%", "").strip().partition(".")[2])
            shown_value = number(text)
            assert shown_value is not None, f"{where}: nothing shown for {value}"
            assert abs(shown_value - value) <= 0.5 * 10**-digits + 1e-9, f"{where}: {text!r} != {value}"


def assert_tables_match(browser: webdriver.Chrome, data: DashboardData, first: date, last: date) -> None:
    """Every table on the page holds exactly the range's figures."""
    shown = tables(browser)
    for panel, rows in expected.day_tables(data, first, last).items():
        assert len(shown[panel]["rows"]) == len(rows), panel
        for cells, row in zip(shown[panel]["rows"], rows, strict=True):
            assert_cells(cells, row, f"{panel} {row[0]}")
    days = [day.isoformat() for day in expected.in_range(data, first, last)]
    for dimension, columns in expected.breakdown_columns(data, first, last).items():
        table = shown[f"by-{dimension}"]
        assert sorted(table["head"][1:]) == sorted(columns), dimension
        assert len(columns) <= BREAKDOWN_LIMIT + 1, dimension
        assert [row[0] for row in table["rows"]] == days
        for cells in table["rows"]:
            wanted = [columns[name][cells[0]] for name in table["head"][1:]]
            assert_cells(cells[1:], wanted, f"by-{dimension} {cells[0]}")
        assert_cells(table["foot"][1:], [sum(columns[n].values()) for n in table["head"][1:]], f"{dimension} totals")
    assert_team_tables(shown, data, first, last)
    assert_repository_tables(shown, data, first, last)


def assert_team_tables(shown: dict[str, Any], data: DashboardData, first: date, last: date) -> None:
    totals = expected.team_totals(data, first, last)
    rows = {cells[0]: cells[1:] for cells in shown["team-totals"]["rows"]}
    assert sorted(rows) == sorted(totals)
    for team, cells in rows.items():
        assert_cells(cells, totals[team], f"team {team}")
    top = expected.top_teams(data, first, last)
    assert shown["teams"]["head"][1:] == top
    per_day = {(row.team, row.day.isoformat()): row.interactions for row in expected.visible_teams(data)}
    for cells in shown["teams"]["rows"]:
        assert_cells(cells[1:], [per_day.get((team, cells[0])) for team in top], f"teams {cells[0]}")


def assert_repository_tables(shown: dict[str, Any], data: DashboardData, first: date, last: date) -> None:
    totals = expected.repo_totals(data, first, last)
    rows = {cells[0]: cells[1:] for cells in shown["repositories"]["rows"]}
    assert sorted(rows) == sorted(totals)
    for repo, cells in rows.items():
        assert_cells(cells, totals[repo], f"repository {repo}")
    per_day = expected.pull_requests_per_day(data, first, last)
    assert [cells[0] for cells in shown["pull-requests"]["rows"]] == list(per_day)
    for cells in shown["pull-requests"]["rows"]:
        assert_cells(cells[1:], per_day[cells[0]], f"pull requests {cells[0]}")


def kpis(browser: webdriver.Chrome) -> dict[str, str]:
    items = browser.find_elements(By.CSS_SELECTOR, "#kpis li")
    return {
        item.find_element(By.CLASS_NAME, "name").text: item.find_element(By.CLASS_NAME, "value").text for item in items
    }


# --- the page as it opens ---------------------------------------------------------------------------


def test_page_opens_from_disk_without_error_or_any_request(browser: webdriver.Chrome, page: Path) -> None:
    load(browser, page)
    errors = [entry for entry in log(browser, "browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert browser.execute_script("return window.cspViolations") == []
    # data: URLs never leave the browser; the date inputs' calendar icon is one, drawn by Chromium itself.
    assert {url for url in requested_urls(browser) if not url.startswith("data:")} == {page.as_uri()}
    policy = browser.find_element(By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]')
    assert (policy.get_attribute("content") or "").startswith("default-src 'none'")


def test_the_policy_blocks_requests_and_the_test_would_see_them(browser: webdriver.Chrome, page: Path) -> None:
    """The checks above can fail: a request the page tried would be refused, logged and recorded."""
    load(browser, page)
    browser.execute_script("new Image().src = 'https://example.com/pixel.png';")
    time.sleep(0.5)
    violations = browser.execute_script("return window.cspViolations")
    assert any("img-src https://example.com/pixel.png" in violation for violation in violations)
    assert any(entry["level"] == "SEVERE" for entry in log(browser, "browser"))


def test_every_chart_draws_every_series(browser: webdriver.Chrome, page: Path) -> None:
    load(browser, page)
    drawn = series_pixels(browser)
    assert sorted(drawn) == sorted(CHARTS)
    for panel, series in drawn.items():
        assert series, f"{panel}: no series"
        for label, pixels in series:
            assert pixels > 20, f"{panel}: series {label!r} is not drawn ({pixels} pixels of its colour)"


def test_numbers_shown_equal_the_data(browser: webdriver.Chrome, page: Path, data: DashboardData) -> None:
    load(browser, page)
    end = last_day(data)
    first = end - timedelta(days=89)  # the page opens on the last 90 days
    assert_tables_match(browser, data, first, end)
    picked = [f for f in data.days if f.day >= first]
    shown = {name: number(text) for name, text in kpis(browser).items()}
    assert shown["Average daily active users"] == round(sum(f.daily_active_users for f in picked) / len(picked))
    assert shown["Interactions"] == sum(f.interactions for f in picked)
    assert shown["Lines added"] == sum(f.lines_added for f in picked)
    assert abs((shown["AI credits"] or 0) - sum(f.ai_credits for f in picked)) <= 0.006
    rate = 100 * sum(f.code_acceptances for f in picked) / sum(f.code_generations for f in picked)
    assert abs((shown["Acceptance rate"] or 0) - rate) <= 0.051


@pytest.mark.parametrize(
    ("first_offset", "last_offset"), [(364, 0), (45, 45), (200, 150)], ids=["whole-year", "one-day", "middle"]
)
def test_range_picker_changes_every_table(
    browser: webdriver.Chrome, page: Path, data: DashboardData, first_offset: int, last_offset: int
) -> None:
    load(browser, page)
    end = last_day(data)
    first, last = end - timedelta(days=first_offset), end - timedelta(days=last_offset)
    pick_range(browser, first.isoformat(), last.isoformat())
    assert_tables_match(browser, data, first, last)
    label = browser.find_element(By.ID, "range-label").text
    assert label.startswith(f"{first.isoformat()} \N{EN DASH} {last.isoformat()}")


def test_presets_pick_their_days(browser: webdriver.Chrome, page: Path, data: DashboardData) -> None:
    load(browser, page)
    browser.find_element(By.CSS_SELECTOR, 'button[data-days="28"]').click()
    end = last_day(data)
    assert_tables_match(browser, data, end - timedelta(days=27), end)
    browser.find_element(By.CSS_SELECTOR, 'button[data-days="0"]').click()
    assert len(tables(browser)["active-users"]["rows"]) == len(data.days)


def test_presets_count_calendar_days_when_the_history_has_gaps(
    browser: webdriver.Chrome, data: DashboardData, tmp_path: Path
) -> None:
    without_sundays = replace(data, days=tuple(f for f in data.days if f.day.weekday() != 6))
    load(browser, write_dashboard(without_sundays, tmp_path))
    browser.find_element(By.CSS_SELECTOR, 'button[data-days="28"]').click()
    end = last_day(data)
    wanted = [f.day.isoformat() for f in without_sundays.days if f.day > end - timedelta(days=28)]
    assert [cells[0] for cells in tables(browser)["active-users"]["rows"]] == wanted
    assert len(wanted) == 24


def test_one_day_without_breakdowns_teams_or_repositories(
    browser: webdriver.Chrome, data: DashboardData, tmp_path: Path
) -> None:
    one_day = DashboardData(title="new", generated_at="now", min_group_size=5, days=data.days[-1:])
    load(browser, write_dashboard(one_day, tmp_path))
    assert [entry for entry in log(browser, "browser") if entry["level"] in ("SEVERE", "WARNING")] == []
    shown = tables(browser)
    assert sorted(shown) == sorted(DAY_PANELS)
    day = one_day.days[0].day
    assert_cells(shown["active-users"]["rows"][0], expected.day_tables(one_day, day, day)["active-users"][0], "one day")


def test_measure_changes_a_breakdown(browser: webdriver.Chrome, page: Path, data: DashboardData) -> None:
    load(browser, page)
    select = browser.find_element(By.CSS_SELECTOR, "#by-language select")
    select.find_element(By.CSS_SELECTOR, 'option[value="lines_added"]').click()
    table = tables(browser)["by-language"]
    assert table["head"][-1] == OTHER, "the sample's 25 languages are folded into the busiest and the rest"
    end = last_day(data)
    wanted = sum(r.lines_added for r in data.breakdowns if r.dimension == "language" and r.day > end - timedelta(90))
    assert sum(number(cell) or 0 for cell in table["foot"][1:]) == wanted


def download_csv(browser: webdriver.Chrome, panel: str, downloads: Path) -> list[list[str]]:
    """Click the panel's CSV link and read the file the browser saved."""
    link = browser.find_element(By.CSS_SELECTOR, f"#{panel} a.csv")
    # In the middle of the viewport, so that no sticky header or chart covers it when it is clicked.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    shown = tables(browser)[panel]
    target = downloads / f"{panel}_{shown['rows'][0][0]}_{shown['rows'][-1][0]}.csv"
    # Chromium writes to a .crdownload file first and renames it when the download is complete.
    deadline = time.monotonic() + 20
    while (not target.exists() or list(downloads.glob("*.crdownload"))) and time.monotonic() < deadline:
        time.sleep(0.1)
    return list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))


def test_csv_download_holds_the_table(browser: webdriver.Chrome, page: Path, downloads: Path) -> None:
    load(browser, page)
    rows = download_csv(browser, "adoption", downloads)
    shown = tables(browser)["adoption"]
    assert rows[0] == shown["head"]
    assert [[row[0], *map(int, row[1:])] for row in rows[1:]] == [
        [cells[0], *(int(number(cell) or 0) for cell in cells[1:])] for cells in shown["rows"]
    ]


def test_csv_names_cannot_run_as_spreadsheet_formulas(browser: webdriver.Chrome, page: Path, downloads: Path) -> None:
    load(browser, page)
    header = download_csv(browser, "by-ide", downloads)[0]
    assert HOSTILE_IDE.startswith("=")
    assert "'" + HOSTILE_IDE in header
    assert HOSTILE_IDE not in header


# --- people's data ------------------------------------------------------------------------------------


def test_small_teams_never_appear(browser: webdriver.Chrome, page: Path, data: DashboardData) -> None:
    load(browser, page)
    browser.find_element(By.CSS_SELECTOR, 'button[data-days="0"]').click()
    shown = {cells[0]: cells for cells in tables(browser)["team-totals"]["rows"]}
    visible = {row.team for row in expected.visible_teams(data)}
    hidden = {row.team for row in data.teams} - visible
    assert hidden, "the sample data should hold teams that are always too small"
    assert set(shown) == visible
    source = page.read_text(encoding="utf-8")
    assert not [team for team in hidden if f'"{team}"' in source]
    small_days = {(r.team, r.day) for r in data.teams if r.active_users < data.min_group_size}
    assert small_days, "the sample data should hold small team-days"
    for team, cells in shown.items():
        days = sum(1 for r in data.teams if r.team == team and (r.team, r.day) not in small_days)
        assert number(cells[1]) == days, team


def test_names_from_reports_are_shown_as_text(browser: webdriver.Chrome, page: Path, data: DashboardData) -> None:
    load(browser, page)
    assert browser.title == data.title
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    browser.find_element(By.CSS_SELECTOR, 'button[data-days="0"]').click()
    shown = tables(browser)
    assert HOSTILE_IDE in shown["by-ide"]["head"]
    assert HOSTILE_TEAM in [cells[0] for cells in shown["team-totals"]["rows"]]
    assert HOSTILE_TEAM not in page.read_text(encoding="utf-8")


# --- how it looks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_screenshots_at_both_widths_in_both_schemes(
    browser: webdriver.Chrome, page: Path, scheme: str, width: int, height: int
) -> None:
    load(browser, page, width=width, height=height, scheme=scheme)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
    assert series_pixels(browser), "no chart drawn"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"dashboard-{width}-{scheme}.png"
    assert browser.save_screenshot(str(target))
    assert target.stat().st_size > 10_000
