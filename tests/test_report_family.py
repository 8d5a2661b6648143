"""Every report of the family, in both scopes, for single days, ranges with holes and "latest"."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from action_run import artifact_entries, assert_no_leaks, expected_entries, run_action
from emulator import Emulator

ORG_REPORTS = [
    "organization-28-day",
    "users-28-day",
    "organization-1-day",
    "users-1-day",
    "user-teams-1-day",
    "repos-1-day",
]
ENTERPRISE_REPORTS = [
    "enterprise-28-day",
    "users-28-day",
    "enterprise-1-day",
    "users-1-day",
    "user-teams-1-day",
    "repos-1-day",
]
CASES = [("org", "octo", report) for report in ORG_REPORTS] + [
    ("enterprise", "octo-ent", report) for report in ENTERPRISE_REPORTS
]


def scope_inputs(scope: str, owner: str) -> dict[str, str]:
    return {"enterprise": owner} if scope == "enterprise" else {"org": owner}


@pytest.mark.parametrize(("scope", "owner", "report"), CASES)
def test_every_report_reaches_the_artifact(emu: Emulator, tmp_path: Path, scope: str, owner: str, report: str) -> None:
    daily = report.endswith("-1-day")
    day = emu.today - dt.timedelta(days=5)
    inputs = {**scope_inputs(scope, owner), "report": report, **({"day": day.isoformat()} if daily else {})}

    run = run_action(emu, tmp_path / "step", inputs)

    assert run.code == 0, run.stdout + run.stderr
    expected = expected_entries(emu, scope, owner, report, [day] if daily else [None])
    assert expected
    (stored,) = emu.artifacts.values()
    assert run.outputs["artifact-id"] == str(stored.id)
    assert stored.blob is not None and artifact_entries(stored.blob) == expected
    first, last = (day, day) if daily else emu.window()
    assert (run.outputs["report_start_day"], run.outputs["report_end_day"]) == (first.isoformat(), last.isoformat())
    prefix = "enterprises" if scope == "enterprise" else "orgs"
    api = [r for r in emu.requests if r.host == "api"]
    assert api[0].path.startswith(f"/{prefix}/{owner}/copilot/metrics/reports/{report}")
    assert_no_leaks(run, emu)


def test_enterprise_wins_over_org(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "step", {"org": "octo", "enterprise": "octo-ent", "upload": "false"})

    assert run.code == 0, run.stdout
    assert [r.path for r in emu.requests if r.host == "api"] == [
        "/enterprises/octo-ent/copilot/metrics/reports/enterprise-28-day/latest"
    ]


def test_range_with_holes_groups_files_by_day(emu: Emulator, tmp_path: Path) -> None:
    first = emu.today - dt.timedelta(days=9)
    days = [first + dt.timedelta(days=n) for n in range(5)]
    emu.no_report_days = {days[0], days[2]}

    run = run_action(emu, tmp_path / "step", {"report": "users-1-day", "day": f"{days[0]}..{days[-1]}"})

    assert run.code == 0, run.stdout
    with_data = [days[1], days[3], days[4]]
    expected = expected_entries(emu, "org", "octo", "users-1-day", with_data)
    stored = next(iter(emu.artifacts.values()))
    assert stored.blob is not None and artifact_entries(stored.blob) == expected
    assert all(name.split("/")[0] in {d.isoformat() for d in with_data} for name in expected)
    assert (run.outputs["report_start_day"], run.outputs["report_end_day"]) == (
        days[1].isoformat(),
        days[4].isoformat(),
    )
    assert len(run.warnings) == 1 and days[0].isoformat() in run.warnings[0] and days[2].isoformat() in run.warnings[0]
    assert days[0].isoformat() in run.summary
    assert "Day 5 of 5" in run.stdout and "::group::" in run.stdout
    assert stored.name == f"copilot-metrics_org-octo_users-1-day_{days[1]}_{days[4]}"


def test_latest_finds_the_newest_day_with_a_report(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "step", {"report": "organization-1-day", "day": "latest"})

    newest = emu.today - dt.timedelta(days=2)
    assert run.code == 0, run.stdout
    assert run.outputs["report_start_day"] == run.outputs["report_end_day"] == newest.isoformat()
    asked = [r.query for r in emu.requests if r.host == "api"]
    yesterday = emu.today - dt.timedelta(days=1)
    assert asked == [f"day={yesterday}", f"day={newest}"]
    assert json.loads(run.outputs["files"])[0].startswith(f"copilot-metrics/{newest}/")


@pytest.mark.parametrize(("choice", "code", "warnings"), [("warn", 0, 1), ("ignore", 0, 0), ("error", 1, 0)])
def test_if_no_report(emu: Emulator, tmp_path: Path, choice: str, code: int, warnings: int) -> None:
    yesterday = emu.today - dt.timedelta(days=1)

    run = run_action(
        emu, tmp_path / "step", {"report": "users-1-day", "day": yesterday.isoformat(), "if-no-report": choice}
    )

    assert run.code == code, run.stdout
    assert len(run.warnings) == warnings
    assert len(run.errors) == (1 if choice == "error" else 0)
    assert not emu.artifacts
    if code == 0:
        assert run.outputs["report_start_day"] == run.outputs["report_end_day"] == ""
        assert json.loads(run.outputs["files"]) == []


def test_two_reports_in_one_run_do_not_collide(emu: Emulator, tmp_path: Path) -> None:
    day = (emu.today - dt.timedelta(days=4)).isoformat()
    first = run_action(emu, tmp_path / "a", {"report": "users-1-day", "day": day})
    second = run_action(emu, tmp_path / "b", {"report": "repos-1-day", "day": day})

    assert first.code == second.code == 0
    assert len([a for a in emu.artifacts.values() if a.finalized and not a.deleted]) == 2


@pytest.mark.parametrize(("scope", "owner", "report"), CASES)
def test_summary_and_csv_for_every_report(emu: Emulator, tmp_path: Path, scope: str, owner: str, report: str) -> None:
    daily = report.endswith("-1-day")
    day = emu.today - dt.timedelta(days=6)
    inputs = {**scope_inputs(scope, owner), "report": report, "csv": "true", **({"day": str(day)} if daily else {})}

    run = run_action(emu, tmp_path / "step", inputs)

    assert run.code == 0, run.stdout + run.stderr
    files = json.loads(run.outputs["files"])
    ndjson = [name for name in files if name.endswith(".ndjson")]
    csvs = [name for name in files if name.endswith(".csv")]
    assert ndjson and csvs
    assert all(any(c.startswith(n.removesuffix(".ndjson")) for n in ndjson) for c in csvs)
    for name in csvs:
        header = (run.workspace / name).read_text(encoding="utf-8").split("\r\n", 1)[0]
        assert header.startswith(("day,", "user_id,")) or "day" in header.split(",")
    (stored,) = emu.artifacts.values()
    assert stored.blob is not None
    assert sorted(artifact_entries(stored.blob)) == sorted(name.removeprefix("copilot-metrics/") for name in files)
    assert report in run.summary and "| File | Size |" in run.summary
    if report in ("organization-28-day", "enterprise-28-day"):
        assert "```mermaid" in run.summary and "xychart-beta" in run.summary
    if report.startswith("users"):
        logins = {
            json.loads(line)["user_login"]
            for _, data in emu.expected_files(scope, owner, report, day if daily else None)
            for line in data.splitlines()
            if line.strip()
        }
        assert logins and not any(login in run.summary for login in logins)
