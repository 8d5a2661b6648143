"""`dashboard: true` run by entrypoint.py against the emulator: in a history branch on a real git
server, without a history, and when the page cannot be built (a warning; the artifact still goes up)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from action_run import ActionRun, artifact_entries, assert_no_leaks, run_action
from emulator import Emulator
from gitserver import GitServer

PAGE = "copilot-metrics/dashboard/index.html"
BRANCH = "copilot-metrics-data"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    with GitServer(tmp_path / "server") as git_server:
        yield git_server


def newest_days(count: int) -> list[dt.date]:
    newest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    return [newest - dt.timedelta(days=n) for n in reversed(range(count))]


def page_days(page: Path) -> list[str]:
    embedded = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page.read_text())
    assert embedded is not None
    days: list[str] = json.loads(embedded[1])["days"]
    return days


def artifact_of(emu: Emulator, run: ActionRun) -> dict[str, bytes]:
    stored = next(a for a in emu.artifacts.values() if str(a.id) == run.outputs["artifact-id"])
    assert stored.blob is not None
    return artifact_entries(stored.blob)


def test_a_branch_history_commits_the_page_with_the_days_and_only_then(
    emu: Emulator, server: GitServer, tmp_path: Path
) -> None:
    days = newest_days(2)
    inputs = {
        "report": "organization-1-day,users-1-day",
        "day": f"{days[0]}..{days[-1]}",
        "history": f"branch:{BRANCH}",
        "github-token": server.write_token,
        "dashboard": "true",
        "summary": "false",
    }

    first = run_action(emu, tmp_path / "one", inputs, env=server.env())

    assert first.code == 0, first.stdout + first.stderr
    assert_no_leaks(first, emu)
    page = first.workspace / PAGE
    assert server.git("show", f"{BRANCH}:dashboard/index.html") == page.read_text(encoding="utf-8").rstrip("\n")
    assert page_days(page) == [day.isoformat() for day in days]
    assert len(server.git("log", "--format=%H", BRANCH).splitlines()) == 1

    again = run_action(emu, tmp_path / "two", inputs, env=server.env())

    assert again.code == 0, again.stdout + again.stderr
    assert (again.workspace / PAGE).is_file()
    assert len(server.git("log", "--format=%H", BRANCH).splitlines()) == 1, "the same days again commit nothing"


def test_without_a_history_the_page_shows_the_days_of_the_runs_own_files(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "run", {"dashboard": "true", "summary": "false"})

    assert run.code == 0, run.stdout + run.stderr
    page = run.workspace / PAGE
    start, end = dt.date.fromisoformat(run.outputs["report_start_day"]), run.outputs["report_end_day"]
    assert page_days(page) == [(start + dt.timedelta(days=n)).isoformat() for n in range(28)]
    assert page_days(page)[-1] == end
    assert PAGE in json.loads(run.outputs["files"])
    assert artifact_of(emu, run)["dashboard/index.html"] == page.read_bytes()


def test_a_run_whose_files_hold_no_day_warns_and_writes_no_page(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "run", {"report": "users-28-day", "dashboard": "true", "summary": "false"})

    assert run.code == 0, run.stdout + run.stderr
    assert [line for line in run.warnings if "No dashboard" in line] == [
        "::warning::No dashboard: this run's files hold(s) no day of an organization-1-day, enterprise-1-day or "
        "users-1-day report yet (a 28-day aggregate report also gives its days)."
    ]
    assert not (run.workspace / PAGE).exists()
    assert all("dashboard" not in path for path in json.loads(run.outputs["files"]))


def test_a_history_the_page_cannot_be_read_from_warns_and_keeps_the_artifact(emu: Emulator, tmp_path: Path) -> None:
    days = newest_days(2)
    history = tmp_path / "history"
    broken = history / "tables" / "daily" / f"day={days[0]}" / "organization-1-day.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PAR1 not a table PAR1")
    inputs = {"report": "organization-1-day", "day": f"{days[1]}", "history": str(history), "dashboard": "true"}

    run = run_action(emu, tmp_path / "run", inputs)

    assert run.code == 0, run.stdout + run.stderr
    warned = [line for line in run.warnings if "dashboard" in line]
    assert len(warned) == 1 and warned[0].startswith(
        "::warning::The dashboard could not be written: DuckDB could not read the history's tables"
    ), run.warnings
    assert "copilot-metrics history verify" in warned[0]
    assert not (run.workspace / PAGE).exists()
    assert any(name.endswith(".ndjson") for name in artifact_of(emu, run))
