"""`dashboard: true` end to end: entrypoint.py run as the runner runs it against the emulator, twice,
with a history in a folder; the page it writes opened in Chromium and read back against the
history's tables (read here by pyarrow, independently of the loader's DuckDB queries).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from selenium import webdriver

from action_run import ActionRun, artifact_entries, assert_no_leaks, run_action
from browser.pages import RECORD_VIOLATIONS, load, log, number, requested_urls, tables
from emulator import Emulator

EVERY_DAILY_REPORT = "organization-1-day,users-1-day,user-teams-1-day,repos-1-day"
PAGE = "copilot-metrics/dashboard/index.html"


@pytest.fixture(scope="module", autouse=True)
def violations_recorded(browser: webdriver.Chrome) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})


def newest_days(count: int) -> list[dt.date]:
    newest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    return [newest - dt.timedelta(days=n) for n in reversed(range(count))]


def dashboard_run(emu: Emulator, folder: Path, history: Path, days: list[dt.date], **inputs: str) -> ActionRun:
    run = run_action(
        emu,
        folder,
        {
            "report": EVERY_DAILY_REPORT,
            "day": f"{days[0]}..{days[-1]}",
            "history": str(history),
            "dashboard": "true",
            "summary": "false",
            **inputs,
        },
    )
    assert run.code == 0, run.stdout + run.stderr
    assert_no_leaks(run, emu)
    return run


def table(history: Path, name: str, report: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((history / "tables" / name).glob(f"day=*/{report}.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def opened(browser: webdriver.Chrome, page: Path) -> dict[str, dict[str, Any]]:
    """The page's tables, once it has loaded with no console message and no request."""
    load(browser, page)
    assert [entry for entry in log(browser, "browser") if entry["level"] in ("SEVERE", "WARNING")] == []
    assert browser.execute_script("return window.cspViolations") == []
    assert {url for url in requested_urls(browser) if not url.startswith("data:")} == {page.as_uri()}
    return tables(browser)


def test_two_runs_write_a_page_of_the_whole_history_into_path_artifact_and_files(
    emu: Emulator, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    days = newest_days(5)
    history = tmp_path / "history"
    dashboard_run(emu, tmp_path / "one", history, days[:3])

    run = dashboard_run(emu, tmp_path / "two", history, days[2:])

    assert PAGE in json.loads(run.outputs["files"])
    page = run.workspace / PAGE
    stored = next(a for a in emu.artifacts.values() if str(a.id) == run.outputs["artifact-id"])
    assert stored.blob is not None
    assert artifact_entries(stored.blob)["dashboard/index.html"] == page.read_bytes()
    assert (history / "dashboard" / "index.html").read_bytes() == page.read_bytes()
    assert "Dashboard: " in run.stdout

    shown = opened(browser, page)

    daily = {row["day"].isoformat(): row for row in table(history, "daily", "organization-1-day")}
    assert sorted(daily) == [day.isoformat() for day in days]  # the first run's days are on the page too
    active = {cells[0]: [number(text) for text in cells[1:]] for cells in shown["active-users"]["rows"]}
    assert active == {
        day: [row["daily_active_users"], row["weekly_active_users"], row["monthly_active_users"]]
        for day, row in daily.items()
    }
    lines = {cells[0]: [number(text) for text in cells[1:]] for cells in shown["lines"]["rows"]}
    assert lines == {day: [row["loc_added_sum"], row["loc_deleted_sum"]] for day, row in daily.items()}
    users = table(history, "user_daily", "users-1-day")
    adoption = {cells[0]: [number(text) for text in cells[1:]] for cells in shown["adoption"]["rows"]}
    for day, row in daily.items():
        of_day = [user for user in users if user["day"].isoformat() == day]
        chat, agent = sum(user["used_chat"] for user in of_day), sum(user["used_agent"] for user in of_day)
        assert adoption[day] == [
            chat,
            agent,
            row["daily_active_cli_users"],
            row["daily_active_copilot_code_review_users"],
        ]
    ides: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in table(history, "breakdown_daily", "organization-1-day"):
        if entry["breakdown"] == "totals_by_ide":
            ides[entry["day"].isoformat()][entry["ide"]] += entry["user_initiated_interaction_count"]
    by_ide = shown["by-ide"]
    assert sorted(by_ide["head"][1:]) == sorted({ide for of_day in ides.values() for ide in of_day})
    assert [cells[0] for cells in by_ide["rows"]] == sorted(daily)
    for cells in by_ide["rows"]:
        wanted = [ides[cells[0]].get(ide, 0) for ide in by_ide["head"][1:]]
        assert [number(text) for text in cells[1:]] == wanted, cells[0]
    created: dict[str, int] = defaultdict(int)
    for repo in table(history, "repo_daily", "repos-1-day"):
        created[f"{repo['repo_owner_name']}/{repo['repo_name']}"] += repo["pull_requests"]["total_created"]
    assert {cells[0]: number(cells[1]) for cells in shown["repositories"]["rows"]} == created


def named_teams(rows: list[dict[str, Any]], minimum: int) -> tuple[dict[str, int], set[str]]:
    """The teams the page must name, with the number of days it names each, and the teams it must
    not name on some day. The rule, as the README states it: a team-day below `minimum` is added
    up with the others, and the smallest named teams join that added-up row until it reaches
    `minimum` (an added-up row of one small team would name it by elimination)."""
    by_day: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in rows:
        by_day[str(row["day"])].append((row["active_users"], row["slug"] or "no team"))
    visible: dict[str, int] = defaultdict(int)
    hidden: set[str] = set()
    for day_rows in by_day.values():
        large = sorted(team for team in day_rows if team[0] >= minimum)
        small = [team for team in day_rows if team[0] < minimum]
        added_up = sum(size for size, _ in small)
        while small and added_up < minimum and large:
            size, name = large.pop(0)
            small.append((size, name))
            added_up += size
        hidden |= {name for _, name in small}
        for _, name in large:
            visible[name] += 1
    return visible, hidden


def test_small_teams_and_logins_never_appear(emu: Emulator, tmp_path: Path, browser: webdriver.Chrome) -> None:
    days = newest_days(3)
    history = tmp_path / "history"
    dashboard_run(emu, tmp_path / "first", history, days)
    rows = table(history, "team_daily", "teams")
    # The largest minimum that still leaves some team named and some not: the emulator's teams
    # change with the days asked for, so the threshold is found, not fixed.
    smallest = next(
        (size for size in sorted({row["active_users"] for row in rows}, reverse=True) if all(named_teams(rows, size))),
        None,
    )
    assert smallest is not None, "the emulator's teams should differ in size"
    visible, hidden = named_teams(rows, smallest)
    run = dashboard_run(emu, tmp_path / "second", history, days, **{"min-group-size": str(smallest)})
    page = run.workspace / PAGE

    shown = opened(browser, page)

    totals = {cells[0]: cells[1:] for cells in shown["team-totals"]["rows"]}
    named = {team for team in totals if team != "other teams"}
    assert named == set(visible)
    for team, count in visible.items():
        assert number(totals[team][0]) == count, team
    always_hidden = hidden - set(visible)
    text = page.read_text(encoding="utf-8")
    assert not any(f'"{team}"' in text for team in always_hidden)
    for login in {row["user_login"] for row in table(history, "user_daily", "users-1-day")}:
        assert login not in text
