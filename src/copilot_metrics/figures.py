"""The run's figures beyond one report: team figures for the days this run brought (with the
other report of the day from the history when it is there) and the history's trends.

Both come from the typed tables, computed by DuckDB (teams.py, trends.py); this module only finds
the tables: the run's own files are turned into them by the history's table writer, and days the
run did not download are read from the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import teams, trends
from .dashboard.data import TeamDay
from .history.keeping import day_files
from .history.store import Store
from .history.tables import build
from .history.team_table import MEMBERSHIP, TEAM_OBJECT, USERS, days_held, download_days
from .teams import Memberships, TeamRow

Day = str  # YYYY-MM-DD
TEAM_DAYS_AT_ONCE = 31


@dataclass(frozen=True)
class TeamFigures:
    rows: list[TeamRow]  # teams.shown() of every day with both reports
    memberships: Memberships | None  # of this run's user-teams-1-day report, when it has one


def team_figures(
    downloaded: Mapping[str, Sequence[Path]], store: Store | None, min_group_size: int, work: Path
) -> TeamFigures:
    """What people may read of the teams of each day this run downloaded a users-1-day or
    user-teams-1-day report for: the membership, and the team figures of the days whose other
    report is in this run or the history.

    `downloaded`: the NDJSON files of each report of the run, by report name."""
    run_users = _by_day(USERS, downloaded)
    run_members = _by_day(MEMBERSHIP, downloaded)
    held_users = {day.isoformat() for day in days_held(store, *USERS)} if store else set()
    held_members = {day.isoformat() for day in days_held(store, *MEMBERSHIP)} if store else set()
    # Only days with both reports are joined: a large users report is not parsed for nothing.
    days = sorted(
        (set(run_users) | set(run_members)) & (set(run_users) | held_users) & (set(run_members) | held_members)
    )
    spill = work / "spill"
    members = _tables(MEMBERSHIP, run_members, work / "members")
    membership = teams.memberships(list(members.values()), min_group_size, spill) if members else None
    if not days:
        return TeamFigures([], membership)
    users = _tables(USERS, {day: run_users[day] for day in days if day in run_users}, work / "users")
    if store is not None:
        users |= _stored(store, USERS, set(days) - set(users), work / "stored-users")
        members |= _stored(store, MEMBERSHIP, set(days) - set(members), work / "stored-members")
    target = work / "team_daily.parquet"
    teams.write_team_daily([users[day] for day in days], [members[day] for day in days], target, spill)
    return TeamFigures(teams.shown([target], min_group_size, spill), membership)


def history_trends(store: Store, min_group_size: int, work: Path) -> trends.Trends:
    """The trends of the history's last year of users-1-day days and of its last team days."""
    held = days_held(store, *USERS)
    if not held:
        return trends.trends([], [], min_group_size, work / "spill")
    last = held[-1]
    users = download_days(store, *USERS, last - dt.timedelta(days=7 * trends.WEEKS - 1), last, work / "user_daily")
    first_team_day = last - dt.timedelta(days=2 * trends.PERIOD - 1)
    team_days = download_days(store, teams.TABLE, TEAM_OBJECT, first_team_day, last, work / "team_daily")
    return trends.trends(users, team_days, min_group_size, work / "spill")


def history_team_rows(store: Store, min_group_size: int, work: Path) -> Iterator[TeamRow]:
    """What people may read of every team day the history holds, oldest first: the rows a
    dashboard of the history shows (one per shown team and day, small teams added up).

    A month of days at a time: a year of a large organization's teams never sits in memory as rows."""
    held = days_held(store, teams.TABLE, TEAM_OBJECT)
    if not held:
        return
    files = download_days(store, teams.TABLE, TEAM_OBJECT, held[0], held[-1], work / "team_daily")
    for start in range(0, len(files), TEAM_DAYS_AT_ONCE):
        yield from teams.shown(files[start : start + TEAM_DAYS_AT_ONCE], min_group_size, work / "spill")


def dashboard_team_days(rows: Iterable[TeamRow]) -> tuple[TeamDay, ...]:
    """The team rows people may read (history_team_rows) as the dashboard's TeamDay values."""
    return tuple(
        TeamDay(
            day=row.day,
            team=row.team,
            active_users=row.active_users,
            interactions=int(row.sums["user_initiated_interaction_count"]),
            code_generations=int(row.sums["code_generation_activity_count"]),
            code_acceptances=int(row.sums["code_acceptance_activity_count"]),
            lines_added=int(row.sums["loc_added_sum"]),
            ai_credits=row.sums["ai_credits_used"],
        )
        for row in rows
    )


def _by_day(table: tuple[str, str], downloaded: Mapping[str, Sequence[Path]]) -> dict[Day, tuple[Path, ...]]:
    """The run's files of one report by day (1-day reports sit in a folder per day)."""
    report = table[1]
    return {day.day: day.files for day in day_files(report, list(downloaded.get(report, ())), None, daily=True)}


def _tables(table: tuple[str, str], files: Mapping[Day, Sequence[Path]], folder: Path) -> dict[Day, Path]:
    """The run's row table of one report, one Parquet file per day."""
    name, report = table
    return {day: build(report, paths, folder / day, only=(name,))[name] for day, paths in files.items()}


def _stored(store: Store, table: tuple[str, str], wanted: set[Day], folder: Path) -> dict[Day, Path]:
    """The history's objects of one table for the days in `wanted` it holds."""
    found = {}
    for day in sorted(wanted):
        when = dt.date.fromisoformat(day)
        for path in download_days(store, *table, when, when, folder):
            found[day] = path
    return found
