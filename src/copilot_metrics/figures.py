"""The run's figures beyond one report: team figures for the days this run brought (with the
other report of the day from the history when it is there) and the history's trends.

Both come from the typed tables, computed by DuckDB (teams.py, trends.py); this module only finds
the tables: the run's own files are turned into them by the history's table writer, and days the
run did not download are read from the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import teams, trends
from .history.keeping import day_files
from .history.store import Store
from .history.tables import build
from .history.team_table import MEMBERSHIP, TEAM_OBJECT, USERS, days_held, download_days
from .teams import Memberships, TeamRow

Day = str  # YYYY-MM-DD


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
    users = _tables(USERS, downloaded, work / "users")
    members = _tables(MEMBERSHIP, downloaded, work / "members")
    spill = work / "spill"
    membership = teams.memberships(list(members.values()), min_group_size, spill) if members else None
    if store is not None:
        users |= _stored(store, USERS, set(members) - set(users), work / "stored-users")
        members |= _stored(store, MEMBERSHIP, set(users) - set(members), work / "stored-members")
    days = sorted(set(users) & set(members))
    if not days:
        return TeamFigures([], membership)
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


def history_team_rows(store: Store, min_group_size: int, work: Path) -> list[TeamRow]:
    """What people may read of every team day the history holds, oldest first: the rows a
    dashboard of the history shows (one per shown team and day, small teams added up)."""
    held = days_held(store, teams.TABLE, TEAM_OBJECT)
    if not held:
        return []
    files = download_days(store, teams.TABLE, TEAM_OBJECT, held[0], held[-1], work / "team_daily")
    return teams.shown(files, min_group_size, work / "spill")


def _tables(table: tuple[str, str], downloaded: Mapping[str, Sequence[Path]], folder: Path) -> dict[Day, Path]:
    """The run's row table of one report, one Parquet file per day."""
    name, report = table
    found = {}
    for day in day_files(report, list(downloaded.get(report, ())), None, daily=True):
        scratch = folder / day.day
        found[day.day] = build(report, day.files, scratch, only=(name,))[name]
    return found


def _stored(store: Store, table: tuple[str, str], wanted: set[Day], folder: Path) -> dict[Day, Path]:
    """The history's objects of one table for the days in `wanted` it holds."""
    found = {}
    for day in sorted(wanted):
        when = dt.date.fromisoformat(day)
        for path in download_days(store, *table, when, when, folder):
            found[day] = path
    return found
