"""Several reports in one step: `report` as a list or `all`, one artifact with a folder per report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from action_run import artifact_entries, assert_no_leaks, run_action
from copilot_metrics.errors import InputError
from copilot_metrics.schema import Scope, reports_of
from copilot_metrics.settings import parse_settings
from emulator import Emulator
from emulator.server import Fault

TODAY = dt.date(2026, 3, 10)
BASE = {"org": "octo", "token": "t", "upload": "false"}


def test_a_list_names_reports_in_the_scopes_order_once_each() -> None:
    settings = parse_settings(
        {**BASE, "report": "repos-1-day,\n users-1-day , repos-1-day", "day": "latest"},
        {},
        today=TODAY,
    )

    assert [report.name for report in settings.reports] == ["users-1-day", "repos-1-day"]
    assert settings.several
    assert settings.for_report(settings.reports[1]).days == "latest"


def test_all_is_every_report_of_the_scope_and_day_applies_to_the_1_day_ones() -> None:
    scopes: list[tuple[Scope, dict[str, str]]] = [("organization", {}), ("enterprise", {"enterprise": "acme"})]
    for scope, inputs in scopes:
        settings = parse_settings({**BASE, **inputs, "report": "all", "day": "2026-03-02"}, {}, today=TODAY)

        assert settings.reports == reports_of(scope)
        for report in settings.reports:
            narrowed = settings.for_report(report)
            assert narrowed.report == report
            assert (narrowed.days is not None) == report.daily


def test_a_lone_report_keeps_its_layout_and_a_28_day_report_still_refuses_a_day() -> None:
    settings = parse_settings({**BASE, "report": "users-28-day"}, {}, today=TODAY)
    assert not settings.several

    with pytest.raises(InputError, match="Input 'day' is set, but report 'users-28-day'"):
        parse_settings({**BASE, "report": "users-28-day", "day": "latest"}, {}, today=TODAY)
    with pytest.raises(InputError, match="Input 'day' is set, but report 'organization-28-day'"):
        parse_settings(
            {**BASE, "report": "organization-28-day,users-28-day", "day": "latest"},
            {},
            today=TODAY,
        )


@pytest.mark.parametrize(
    ("report", "day", "message"),
    [
        ("all,users-1-day", "latest", "Input 'report' mixes 'all' with report names"),
        ("users-1-day,teams", "latest", "Input 'report' is 'teams', which is not a report of an organization"),
        ("organization-28-day,users-1-day", "", "Input 'day' is required for report 'users-1-day'"),
        ("enterprise-1-day", "latest", "Input 'report' is 'enterprise-1-day'"),
    ],
)
def test_bad_lists_name_the_input_and_what_is_allowed(report: str, day: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_settings({**BASE, "report": report, "day": day}, {}, today=TODAY)


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("5", True), ("1", True), ("1000", True), ("0", False), ("1001", False), ("x", False), ("-3", False)],
)
def test_min_group_size_is_a_whole_number_from_1_to_1000(value: str, allowed: bool) -> None:
    inputs = {**BASE, "min-group-size": value}
    if allowed:
        assert parse_settings(inputs, {}, today=TODAY).min_group_size == int(value)
    else:
        with pytest.raises(InputError, match=r"Input 'min-group-size' is .*: use a whole number from 1 to 1000"):
            parse_settings(inputs, {}, today=TODAY)


def test_show_users_is_a_boolean() -> None:
    assert parse_settings({**BASE, "show-users": "true"}, {}, today=TODAY).show_users
    assert not parse_settings(BASE, {}, today=TODAY).show_users
    with pytest.raises(InputError, match="Input 'show-users' is 'yes': use true or false"):
        parse_settings({**BASE, "show-users": "yes"}, {}, today=TODAY)


@pytest.mark.parametrize(
    ("scope", "owner", "inputs"), [("org", "octo", {}), ("enterprise", "acme", {"enterprise": "acme"})]
)
def test_all_reports_give_one_artifact_with_a_folder_each_and_each_day_kept_once(
    emu: Emulator, tmp_path: Path, scope: str, owner: str, inputs: dict[str, str]
) -> None:
    if scope == "enterprise":
        emu.add_enterprise(owner)
    days = [emu.today - dt.timedelta(days=n) for n in (3, 2)]
    history = tmp_path / "history"

    run = run_action(
        emu,
        tmp_path / "run",
        {**inputs, "report": "all", "day": f"{days[0]}..{days[1]}", "history": str(history)},
    )

    assert run.code == 0, run.stdout + run.stderr
    assert_no_leaks(run, emu)
    reports = reports_of("enterprise" if scope == "enterprise" else "organization")
    finalized = [artifact for artifact in emu.artifacts.values() if artifact.finalized]
    assert len(finalized) == 1
    entries = artifact_entries(finalized[0].blob or b"")
    for report in reports:
        for day in days if report.daily else [None]:
            for name, data in emu.expected_files(scope, owner, report.name, day):
                prefix = f"{report.name}/{day}/" if day else f"{report.name}/"
                assert entries[prefix + name] == data
    assert all(name.split("/")[0] in {report.name for report in reports} | {"team-figures.csv"} for name in entries)
    start, end = emu.window(scope, owner)
    assert run.outputs["report_start_day"] == min(start, days[0]).isoformat()
    assert run.outputs["report_end_day"] == max(end, days[1]).isoformat()
    kept = [line for line in run.stdout.splitlines() if line.endswith((": added", ": replaced", ": unchanged"))]
    expected = [f"{r.name} {d}: added" for r in reports for d in (days if r.daily else [end])]
    assert sorted(kept) == sorted(expected)
    for report in reports:
        partitions = sorted(path.name for path in (history / "raw" / report.name).iterdir())
        assert partitions == ([f"day={day}" for day in days] if report.daily else [f"end_day={end}"])
    team_days = sorted(path.name for path in (history / "tables" / "team_daily").iterdir())
    assert team_days == [f"day={day}" for day in days]
    assert "### Teams on" in run.summary and "### Trends from the history" in run.summary

    again = run_action(
        emu,
        tmp_path / "again",
        {**inputs, "report": "all", "day": f"{days[0]}..{days[1]}", "history": str(history)},
    )

    assert again.code == 0, again.stdout + again.stderr
    assert json.loads(again.outputs["history-days"]) == []


def test_a_failing_report_fails_the_step_after_the_others_are_kept(emu: Emulator, tmp_path: Path) -> None:
    day = emu.today - dt.timedelta(days=2)
    emu.inject(Fault(host="api", path_contains="repos-1-day", status=403, times=20))

    run = run_action(emu, tmp_path / "run", {"report": "users-1-day,repos-1-day", "day": day.isoformat()})

    assert run.code == 1
    assert len(run.errors) == 1
    assert "1 report(s) failed, the others were kept: repos-1-day:" in run.errors[0]
    finalized = [artifact for artifact in emu.artifacts.values() if artifact.finalized]
    assert len(finalized) == 1
    names = set(artifact_entries(finalized[0].blob or b""))
    assert names and all(name.startswith(f"users-1-day/{day}/") for name in names)
    assert "**Failed:** `repos-1-day`" in run.summary
    assert json.loads(run.outputs["files"])


def test_when_every_report_fails_the_step_fails_without_an_artifact(emu: Emulator, tmp_path: Path) -> None:
    day = emu.today - dt.timedelta(days=2)
    emu.inject(Fault(host="api", path_contains="-1-day", status=403, times=40))

    run = run_action(emu, tmp_path / "run", {"report": "users-1-day,repos-1-day", "day": day.isoformat()})

    assert run.code == 1
    assert len(run.errors) == 1
    assert "2 report(s) failed, the others were kept: users-1-day:" in run.errors[0]
    assert "; repos-1-day:" in run.errors[0]
    assert not [artifact for artifact in emu.artifacts.values() if artifact.finalized]
    assert "Traceback" not in run.stdout + run.stderr
