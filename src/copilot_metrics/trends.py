"""Trends over the history, by DuckDB over `user_daily` and `team_daily`: activity by week, the
last 28 days against the 28 before, exact distinct active users over 7, 28 and 90 days, and the
teams whose active users moved most (only teams large enough to show in both periods)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .history.tables import sql_paths
from .teams import NO_TEAM, connect

WEEKS = 52
PERIOD = 28
DISTINCT_DAYS = (7, 28, 90)
# Below this many days a weekly series says nothing yet.
MIN_DAYS = 14
MOVERS = 5
# The figures of a week or period, by name: what they add up in user_daily.
_FIGURES = """
    count(DISTINCT user_id) AS active_users,
    COALESCE(sum(user_initiated_interaction_count), 0)::DOUBLE AS interactions,
    COALESCE(sum(code_generation_activity_count), 0)::DOUBLE AS generations,
    COALESCE(sum(code_acceptance_activity_count), 0)::DOUBLE AS acceptances,
    COALESCE(sum(ai_credits_used), 0)::DOUBLE AS ai_credits
"""


@dataclass(frozen=True)
class Figures:
    active_users: int  # distinct users active in the period
    interactions: float
    generations: float
    acceptances: float
    ai_credits: float

    @property
    def acceptance_rate(self) -> float | None:
        return self.acceptances / self.generations if self.generations else None


@dataclass(frozen=True)
class Week:
    start: dt.date  # the Monday
    days: int  # days of the week the history holds
    figures: Figures


@dataclass(frozen=True)
class Mover:
    team: str
    before: float  # average daily active users in the previous period
    after: float  # and in the last one


@dataclass(frozen=True)
class Trends:
    days: int  # days of users-1-day the history holds in the last year
    latest: dt.date | None
    weeks: list[Week]
    last: Figures | None  # the last PERIOD days, when the history holds 2 x PERIOD
    previous: Figures | None
    distinct: dict[int, int | None]  # days -> distinct active users; None when the history is shorter
    movers: list[Mover]


def trends(user_daily: Sequence[Path], team_daily: Sequence[Path], min_group_size: int, spill: Path) -> Trends:
    """The trends of the history's last year of user rows (and of its last 2 x PERIOD team days)."""
    if not user_daily:
        return Trends(0, None, [], None, None, dict.fromkeys(DISTINCT_DAYS), [])
    source = f"read_parquet({sql_paths(user_daily)}, union_by_name = true)"
    with connect(spill) as db:
        db.execute(f"CREATE TEMP VIEW users AS SELECT * FROM {source}")
        days, latest = _one(db.execute("SELECT count(DISTINCT day), max(day) FROM users").fetchone())
        weeks = [
            Week(start, count, Figures(*values))
            for start, count, *values in db.execute(
                f"""SELECT date_trunc('week', day)::DATE AS week, count(DISTINCT day), {_FIGURES}
                    FROM users WHERE day > $1::DATE - INTERVAL {WEEKS * 7} DAY GROUP BY week ORDER BY week""",
                [latest],
            ).fetchall()
        ]
        full = days >= 2 * PERIOD
        last = _period(db, latest, 0) if full else None
        previous = _period(db, latest, PERIOD) if full else None
        distinct = {span: _distinct(db, latest, span) if days >= span else None for span in DISTINCT_DAYS}
        movers = _movers(db, team_daily, latest, min_group_size) if team_daily and full else []
    return Trends(days, latest, weeks[-WEEKS:], last, previous, distinct, movers)


def _period(db: duckdb.DuckDBPyConnection, latest: dt.date, back: int) -> Figures:
    query = (
        f"SELECT {_FIGURES} FROM users "
        f"WHERE day <= $1::DATE - INTERVAL {back} DAY AND day > $1::DATE - INTERVAL {back + PERIOD} DAY"
    )
    return Figures(*_one(db.execute(query, [latest]).fetchone()))


def _distinct(db: duckdb.DuckDBPyConnection, latest: dt.date, span: int) -> int:
    query = f"SELECT count(DISTINCT user_id) FROM users WHERE day > $1::DATE - INTERVAL {span} DAY"
    return int(_one(db.execute(query, [latest]).fetchone())[0])


def _movers(
    db: duckdb.DuckDBPyConnection, team_daily: Sequence[Path], latest: dt.date, min_group_size: int
) -> list[Mover]:
    """Teams by how far their average daily active users moved; a team shows only when it averaged
    at least `min_group_size` active users in both periods."""
    query = f"""
        WITH t AS (
            SELECT team_id, COALESCE(slug, CASE WHEN team_id IS NULL THEN $4 ELSE '#' || team_id END) AS team,
                   day, active_users
            FROM read_parquet({sql_paths(team_daily)}, union_by_name = true)
            WHERE day > $1::DATE - INTERVAL {2 * PERIOD} DAY
        ),
        p AS (
            SELECT team_id, team,
                   sum(active_users) FILTER (WHERE day <= $1::DATE - INTERVAL {PERIOD} DAY) / {PERIOD} AS before,
                   sum(active_users) FILTER (WHERE day > $1::DATE - INTERVAL {PERIOD} DAY) / {PERIOD} AS after
            FROM t GROUP BY ALL
        )
        SELECT team, before, after FROM p WHERE before >= $2 AND after >= $2
        ORDER BY abs(after - before) DESC, team LIMIT $3
    """
    found = db.execute(query, [latest, min_group_size, MOVERS, NO_TEAM]).fetchall()
    return [Mover(team, float(before), float(after)) for team, before, after in found]


def _one(row: tuple[Any, ...] | None) -> tuple[Any, ...]:
    assert row is not None
    return row
