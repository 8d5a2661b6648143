"""The history's `team_daily` table, and reading days of any table back for the figures.

A day of `team_daily` is derived from two reports of that day: `user_daily` (users-1-day) and
`user_team_daily` (user-teams-1-day). It is written whenever either of them is written and the
other is in the store, and also when both are there but the team day is not (a history kept
before team figures existed). One object per day, like every table, so a reader sees the old
day or the new one.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from .. import teams
from ..errors import HistoryError
from .archive import table_key
from .store import Store

USERS = ("user_daily", "users-1-day")
MEMBERSHIP = ("user_team_daily", "user-teams-1-day")
# The reports whose days make the team days.
TEAM_REPORTS = (USERS[1], MEMBERSHIP[1])
TEAM_OBJECT = "teams"
_DAY = re.compile(r"tables/[^/]+/day=(\d{4}-\d{2}-\d{2})/[^/]+\.parquet$")

Log = Callable[[str], None]


def team_key(day: str) -> str:
    return table_key(teams.TABLE, day, TEAM_OBJECT)


def keep_team_days(store: Store, changed: Iterable[str], work: Path, log: Log) -> list[str]:
    """Write team_daily for each day in `changed` that has both reports, and for every day that has
    both but no team day yet; returns the days written."""
    users = _days_of(store, *USERS)
    members = _days_of(store, *MEMBERSHIP)
    done = _days_of(store, teams.TABLE, TEAM_OBJECT)
    both = users & members
    todo = sorted((both & set(changed)) | (both - done))
    for day in todo:
        with tempfile.TemporaryDirectory(dir=work) as scratch:
            folder = Path(scratch)
            user_rows, membership = folder / "users.parquet", folder / "members.parquet"
            store.download(table_key(USERS[0], day, USERS[1]), user_rows)
            store.download(table_key(MEMBERSHIP[0], day, MEMBERSHIP[1]), membership)
            target = folder / "team_daily.parquet"
            try:
                teams.write_team_daily([user_rows], [membership], target, folder / "spill")
            except duckdb.Error as failure:
                raise HistoryError(
                    f"The team figures of {day} could not be derived from the history's user_daily and "
                    f"user_team_daily ({type(failure).__name__}: {str(failure).splitlines()[0][:300]}). "
                    "Check them with: copilot-metrics history verify STORE; the other days are unchanged."
                ) from None
            store.write(team_key(day), target)
    if todo:
        log(f"team_daily: {len(todo)} day(s) written ({todo[0]} to {todo[-1]})")
    return todo


def download_days(store: Store, table: str, name: str, first: dt.date, last: dt.date, folder: Path) -> list[Path]:
    """The objects `tables/<table>/day=D/<name>.parquet` for first <= D <= last, downloaded into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for day in sorted(_days_of(store, table, name)):
        if first <= dt.date.fromisoformat(day) <= last:
            target = folder / f"{table}-{day}.parquet"
            store.download(table_key(table, day, name), target)
            paths.append(target)
    return paths


def days_held(store: Store, table: str, name: str) -> list[dt.date]:
    """The days a table holds an object of `name` for, oldest first."""
    return sorted(dt.date.fromisoformat(day) for day in _days_of(store, table, name))


def _days_of(store: Store, table: str, name: str) -> set[str]:
    found = set()
    for key in store.list(f"tables/{table}/"):
        match = _DAY.match(key)
        if match and key.endswith(f"/{name}.parquet"):
            found.add(match.group(1))
    return found
