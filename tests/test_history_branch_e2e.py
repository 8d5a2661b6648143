"""`history: branch:NAME` end to end: entrypoint.py run as the runner runs it, against the
emulator for the reports and a real git server (git http-backend on loopback) for the branch."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pyarrow.parquet as pq
import pytest

import emulator.reports
from action_run import ActionRun, assert_no_leaks, run_action
from emulator import Emulator
from gitserver import GitServer

BRANCH = "copilot-metrics-data"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    with GitServer(tmp_path / "git") as running:
        yield running


def branch_run(emu: Emulator, server: GitServer, folder: Path, **inputs: str) -> ActionRun:
    run = run_action(
        emu,
        folder,
        {"history": f"branch:{BRANCH}", "github-token": server.write_token, "summary": "false", **inputs},
        env=server.env(),
    )
    assert run.code == 0, run.stdout + run.stderr
    assert_no_leaks(run, emu)
    assert server.write_token not in run.everything_written()
    return run


def subjects(server: GitServer) -> list[str]:
    return server.git("log", "--format=%s", BRANCH).splitlines()


def clone(server: GitServer, target: Path) -> Path:
    subprocess.run(
        ["git", "-c", "protocol.version=2", "clone", "-q", "--branch", BRANCH, str(server.bare), str(target)],
        check=True,
    )
    return target


def newest_days(count: int) -> list[dt.date]:
    newest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    return [newest - dt.timedelta(days=n) for n in reversed(range(count))]


def test_day_a_day_b_then_day_a_again_leave_two_days_in_two_commits(
    emu: Emulator, server: GitServer, tmp_path: Path
) -> None:
    day_a, day_b = newest_days(2)
    first = branch_run(emu, server, tmp_path / "a", report="users-1-day", day=day_a.isoformat())
    second = branch_run(emu, server, tmp_path / "b", report="users-1-day", day=day_b.isoformat())
    third = branch_run(emu, server, tmp_path / "again", report="users-1-day", day=day_a.isoformat())

    assert json.loads(first.outputs["history-days"]) == [day_a.isoformat()]
    assert json.loads(second.outputs["history-days"]) == [day_b.isoformat()]
    assert json.loads(third.outputs["history-days"]) == []
    assert first.outputs["history-url"] == f"{server.url}/octo-org/octo-repo/tree/{BRANCH}"
    log = subjects(server)
    assert len(log) == 2, log
    assert day_b.isoformat() in log[0] and day_a.isoformat() in log[1]
    commits = server.git("rev-list", BRANCH).split()
    assert server.git("rev-list", "--max-parents=0", BRANCH).split() == commits[-1:], "not an orphan branch"
    assert set(server.git("ls-tree", "--name-only", BRANCH).split()) == {"README.md", "raw", "tables"}

    copy = clone(server, tmp_path / "clone")
    subprocess.run(["git", "-C", str(copy), "fsck", "--strict", "--no-progress"], check=True, capture_output=True)
    for day in (day_a, day_b):
        for name, served in emu.expected_files("org", "octo", "users-1-day", day):
            raw = copy / "raw" / "users-1-day" / f"day={day}" / (name.removesuffix(".ndjson") + ".ndjson.gz")
            assert gzip.decompress(raw.read_bytes()) == served
        tables = list((copy / "tables" / "user_daily" / f"day={day}").glob("*.parquet"))
        served_lines = sum(len(data.splitlines()) for _, data in emu.expected_files("org", "octo", "users-1-day", day))
        assert sum(pq.read_table(table).num_rows for table in tables) == served_lines
    assert (copy / "README.md").is_file()
    assert server.write_token not in "".join(path.read_text(errors="replace") for path in copy.rglob("*.md"))


def test_day_missing_on_a_branch_asks_only_for_the_days_it_lacks(
    emu: Emulator, server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.reports, "HISTORY_DAYS", 12)
    days = newest_days(6)
    branch_run(
        emu, server, tmp_path / "range", report="organization-1-day", day=f"{days[0]}..{days[-1]}", upload="false"
    )
    asked_before = len([request for request in emu.requests if request.host == "api"])

    run = branch_run(emu, server, tmp_path / "missing", report="organization-1-day", day="missing", upload="false")

    asked = {dict(parse_qsl(request.query))["day"] for request in emu.requests[asked_before:] if request.host == "api"}
    kept = {day.isoformat() for day in days}
    today = dt.datetime.now(dt.UTC).date()
    revisable = {(today - dt.timedelta(days=n)).isoformat() for n in (1, 2, 3)}
    assert not asked & (kept - revisable), "a day the branch already held was asked for again"
    assert revisable <= asked
    older = (days[0] - dt.timedelta(days=1)).isoformat()
    assert older in asked
    added = set(json.loads(run.outputs["history-days"]))
    assert older in added and not added & (kept - revisable)
    assert len(subjects(server)) == 2
