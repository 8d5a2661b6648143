"""The whole action, run as the runner runs it, over random memberships: nothing people read (every
log line, the job summary, the outputs, the team CSV, the dashboard) names a team below
`min-group-size` or any login, and the rows it shows still add up."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from itertools import dropwhile, takewhile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from action_run import ActionRun, run_action
from copilot_metrics.teams import CSV_NAME
from emulator import Emulator
from emulator.data import user_day

FOLDER = "copilot-metrics"
PAGE_DATA = re.compile(r'<script type="application/json" id="dashboard-data">(.*?)</script>', re.DOTALL)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
JSON = dict[str, Any]


def user_id(user: int) -> int:
    """The id both reports give a user (the emulator's numbering)."""
    return 100000 + user


@dataclass(frozen=True)
class Organisation:
    """Users and teams of one day: which users are in which team, and which were active."""

    minimum: int
    logins: tuple[str, ...]
    slugs: tuple[str, ...]
    members: tuple[frozenset[int], ...]  # per team, its members as positions in `logins`
    active: frozenset[int]
    reports: str  # the `report` input: the two team reports, or all of the organization's
    history: bool  # kept in a folder history (the dashboard is then the history's), or not

    def teams_of(self, user: int) -> list[int]:
        return [team for team, members in enumerate(self.members) if user in members]

    def active_in(self, team: int) -> int:
        return len(self.members[team] & self.active)

    @property
    def in_no_team(self) -> list[int]:
        """The active users in no team: the report's "no team" row."""
        return sorted(user for user in self.active if not self.teams_of(user))

    def user_rows(self, day: date) -> list[JSON]:
        """The users report's lines, as the emulator makes them, with this organisation's users."""
        return [
            user_day(random.Random(user), day, user, "organization_id", 7)
            | {"user_id": user_id(user), "user_login": self.logins[user]}
            for user in sorted(self.active)
        ]

    def team_rows(self, day: date) -> list[JSON]:
        return [
            {
                "user_id": user_id(user),
                "user_login": self.logins[user],
                "day": day.isoformat(),
                "team_id": 500 + team,
                "slug": slug,
                "organization_id": "7",
            }
            for team, slug in enumerate(self.slugs)
            for user in sorted(self.members[team])
        ]


def names(prefix: str, number: int) -> st.SearchStrategy[str]:
    """Names recognised wherever they turn up, and never one inside another: the prefix, the
    number as two letters, and six drawn letters."""
    return st.text(LETTERS, min_size=6, max_size=6).map(
        lambda drawn: prefix + LETTERS[number // 26] + LETTERS[number % 26] + drawn
    )


@st.composite
def organisations(draw: st.DrawFn) -> Organisation:
    minimum = draw(st.integers(1, 6))
    user_count = draw(st.integers(1, 20))
    logins = [draw(names("user", n)) for n in range(user_count)]
    slugs = [draw(names("team", n)) for n in range(draw(st.integers(1, 5)))]
    # Team sizes around the threshold and users active or not alike, so that teams fall on both sides of
    # it by members and by active members; users in several teams and in none come on their own.
    sizes = st.integers(max(1, minimum - 2), minimum + 3).map(lambda size: min(size, user_count))
    members = [frozenset(draw(st.permutations(range(user_count)))[: draw(sizes)]) for _ in slugs]
    active = frozenset(
        user
        for user, flag in enumerate(draw(st.lists(st.booleans(), min_size=user_count, max_size=user_count)))
        if flag
    ) or frozenset({0})
    reports = draw(st.sampled_from(["users-1-day,user-teams-1-day", "all"]))
    # `all` keeps a history: without one, its page is also made of the 28-day report's days, which
    # triples the run and gives a team no other way onto the page.
    history = reports == "all" or draw(st.booleans())
    return Organisation(minimum, tuple(logins), tuple(slugs), tuple(members), active, reports, history)


@dataclass(frozen=True)
class Read:
    """Everything a run gives people to read, by where they read it."""

    run: ActionRun
    folder: Path

    @cached_property
    def log(self) -> str:
        """Every line the step printed, workflow commands included, and what it left for later steps."""
        files = [
            self.run.step.file_command(name) for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")
        ]
        return "\n".join([self.run.stdout, self.run.stderr, *(file.read_text(encoding="utf-8") for file in files)])

    @cached_property
    def csv_text(self) -> str:
        """The team CSV, which a run without a team row to show does not write."""
        path = self.folder / CSV_NAME
        return path.read_text(encoding="utf-8") if path.exists() else ""

    @cached_property
    def csv_rows(self) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.csv_text, newline="")))

    @cached_property
    def page(self) -> str:
        return (self.folder / "dashboard" / "index.html").read_text(encoding="utf-8")

    @cached_property
    def page_teams(self) -> dict[str, int]:
        """The dashboard's teams (all on the run's day): name -> active users."""
        embedded = PAGE_DATA.search(self.page)
        assert embedded is not None
        teams = json.loads(embedded[1])["teams"]
        return {teams["names"][name]: active for name, active in zip(teams["team"], teams["active_users"], strict=True)}

    @cached_property
    def membership_section(self) -> str:
        """The user-teams report's table of members per team: the one place a team with enough
        members may show while too few of them were active."""
        start = self.run.summary.find("### Members per team on")
        return self.run.summary[start : self.run.summary.index("are added up in", start)] if start >= 0 else ""

    @cached_property
    def figures(self) -> str:
        """Everything people read but the membership table: the log, the summary's other parts,
        the team CSV and the dashboard."""
        rest = self.run.summary.replace(self.membership_section, "")
        return "\n".join([self.log, rest, self.csv_text, self.page])

    def table(self, heading: str) -> list[list[str]]:
        """The cells of the summary's table under `heading` (a prefix of its line); none without it."""
        if "\n" + heading not in self.run.summary:
            return []
        lines = iter(self.run.summary[self.run.summary.index("\n" + heading) :].splitlines())
        rows = list(
            takewhile(lambda line: line.startswith("|"), dropwhile(lambda line: not line.startswith("|"), lines))
        )
        return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


@dataclass(frozen=True)
class Expected:
    """What the rows must add up to, worked out from the organisation alone."""

    active_users: int  # every team membership of an active user, plus the active users in no team
    interactions: int
    memberships: int  # every team membership, active or not
    in_a_team: int


def expected(org: Organisation, rows: list[JSON]) -> Expected:
    interactions = {row["user_id"]: row["user_initiated_interaction_count"] for row in rows}
    counted = {user: max(1, len(org.teams_of(user))) for user in org.active}
    return Expected(
        active_users=sum(counted.values()),
        interactions=sum(interactions[user_id(user)] * count for user, count in counted.items()),
        memberships=sum(len(members) for members in org.members),
        in_a_team=len(frozenset().union(*org.members)),
    )


def serve(emu: Emulator, org: Organisation, day: date) -> list[JSON]:
    """Serve the organisation's day from the emulator (all the 28-day users report holds as well)."""
    users = org.user_rows(day)
    lines = b"".join(json.dumps(row).encode() + b"\n" for row in users)
    emu.set_shards("org", "octo", "users-1-day", day, [lines])
    emu.set_shards(
        "org",
        "octo",
        "user-teams-1-day",
        day,
        [b"".join(json.dumps(row).encode() + b"\n" for row in org.team_rows(day))],
    )
    start, end = emu.window()
    window = {"report_start_day": start.isoformat(), "report_end_day": end.isoformat()}
    emu.set_shards(
        "org", "octo", "users-28-day", None, [b"".join(json.dumps(window | row).encode() + b"\n" for row in users)]
    )
    return users


def describe(org: Organisation) -> None:
    """Name the cases an example covers, for `--hypothesis-show-statistics`."""
    for team in range(len(org.slugs)):
        if len(org.members[team]) < org.minimum:
            event("a team with too few members")
        elif org.active_in(team) < org.minimum:
            event("a team with enough members but too few active")
        else:
            event("a team shown")
    if any(len(org.teams_of(user)) > 1 for user in org.active):
        event("an active user in several teams")
    if org.in_no_team:
        event("an active user in no team")
    event(f"report: {org.reports}")
    event("a folder history" if org.history else "no history")


# One team exactly at the threshold by active members, one with enough members but one active
# member too few, one with too few members, a user in all three, and two active users in no team.
AT_THE_EDGE = Organisation(
    minimum=3,
    logins=("useraaaaaaaa", "userbbbbbbbb", "usercccccccc", "userdddddddd", "usereeeeeeee", "userffffffff"),
    slugs=("teamatthresh", "teambelowone", "teamtoosmall"),
    members=(frozenset({0, 1, 2}), frozenset({2, 3, 4}), frozenset({2, 4})),
    active=frozenset({0, 1, 2, 3, 5}),
    reports="users-1-day,user-teams-1-day",
    history=False,
)


@settings(
    max_examples=8,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(org=organisations())
@example(org=AT_THE_EDGE)
@example(org=replace(AT_THE_EDGE, minimum=1, reports="all", history=True))
def test_no_small_team_or_login_reaches_anything_people_read_of_a_whole_run(
    tmp_path_factory: pytest.TempPathFactory, org: Organisation
) -> None:
    describe(org)
    folder = tmp_path_factory.mktemp("privacy")
    with Emulator(folder / "emulator") as emu:
        day = emu.window()[1]
        users = serve(emu, org, day)
        inputs = {"report": org.reports, "day": day.isoformat(), "csv": "true", "dashboard": "true"}
        # The history is the user's own store and keeps everything: it is not read here.
        history = {"history": str(folder / "history")} if org.history else {}
        run = run_action(emu, folder / "run", {**inputs, **history, "min-group-size": str(org.minimum)})

    assert run.code == 0, run.stdout + run.stderr
    read = Read(run, run.workspace / FOLDER)
    everything = "\n".join([read.figures, read.membership_section])
    for login in org.logins:
        assert login not in everything, f"login {login} is shown"
    for team, slug in enumerate(org.slugs):
        if len(org.members[team]) < org.minimum:
            assert slug not in everything, f"{slug} has {len(org.members[team])} members and is shown"
        elif org.active_in(team) < org.minimum:
            assert slug not in read.figures, f"{slug} has {org.active_in(team)} active members and is shown"

    # Whatever is hidden, the rows still add up (a user counts in each of their teams, or once in no
    # team), unless everyone together is under the minimum: then no row shows at all.
    want = expected(org, users)
    shown_active = want.active_users if want.active_users >= org.minimum else 0
    assert sum(int(row["active_users"]) for row in read.csv_rows) == shown_active
    interactions = want.interactions if shown_active else 0
    assert sum(int(row["user_initiated_interaction_count"]) for row in read.csv_rows) == interactions
    team_table = read.table("### Teams on")
    assert sum(int(cells[1].replace(",", "")) for cells in team_table) == shown_active
    member_table = read.table("### Members per team on")
    shown_members = want.memberships if want.memberships >= org.minimum else 0
    assert sum(int(cells[1].replace(",", "")) for cells in member_table) == shown_members
    if shown_members:
        assert f"**Users in at least one team:** {want.in_a_team:,}  " in run.summary
    # The added-up rows are themselves at least the minimum: none names a team by elimination.
    assert all(int(row["active_users"]) >= org.minimum for row in read.csv_rows)
    assert all(int(cells[1].replace(",", "")) >= org.minimum for cells in team_table + member_table)
    # The dashboard names the same teams the CSV does, with the same counts.
    named = {row["team"]: int(row["active_users"]) for row in read.csv_rows if not row["team"].startswith("other")}
    assert {team: count for team, count in read.page_teams.items() if team != "other teams"} == named
    # The page shows the added-up row as the CSV does (it is never under the minimum).
    hidden = sum(int(row["active_users"]) for row in read.csv_rows if row["team"].startswith("other teams"))
    assert read.page_teams.get("other teams") == (hidden or None)
