"""Team figures: each day's membership (user-teams-1-day) joined with that day's user rows
(users-1-day), by DuckDB over the typed tables the history keeps (`user_team_daily`, `user_daily`).

`team_daily` holds one row per team and day, with everything: every team, however small, and the
users in no team (`team_id` and `slug` NULL). A user in several teams counts in each. Only days
that have both reports are joined: without the membership of a day, nobody can be placed in a team.

What people read is `shown()`: teams with fewer active users than the minimum group size are
added up into one "other teams (N)" row, so that no small group can be told apart while the
totals still add up. Logins never leave the tables.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb

from .history import tables
from .history.tables import sql_paths, sql_string

TABLE = "team_daily"
CSV_NAME = "team-figures.csv"
NO_TEAM = "no team"
THREADS = 2

# The counters added up per team, by their column in user_daily.
SUMS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_added_sum",
    "loc_deleted_sum",
    "ai_credits_used",
)
# Users of a surface per team, each the condition on a user row that counts them.
USERS_OF = {
    "chat_users": "used_chat",
    "agent_users": "used_agent",
    "cli_users": "used_cli",
    "code_review_users": "(used_copilot_code_review_active OR used_copilot_code_review_passive)",
}
# The columns of user_daily the join reads: a users table is wide, and Parquet reads only these.
USED_COLUMNS = (
    "day",
    "user_id",
    *SUMS,
    "used_chat",
    "used_agent",
    "used_cli",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
)
# The columns of team_daily, in order, with their types.
COLUMNS = {
    "day": "DATE",
    "team_id": "BIGINT",
    "slug": "VARCHAR",
    "members": "BIGINT",
    "active_users": "BIGINT",
    **{name: "DOUBLE" if name == "ai_credits_used" else "BIGINT" for name in SUMS},
    **{name: "BIGINT" for name in USERS_OF},
}
PARQUET = "(FORMAT parquet, COMPRESSION zstd)"
# What each column of team_daily means, for the README's column reference.
MEANINGS = {
    "day": "the UTC day of both reports",
    "team_id": "the team's id; NULL on the row of the users in no team",
    "slug": "the team's slug; NULL on the row of the users in no team",
    "members": "users in the team that day (active or not); active users for the no-team row",
    "active_users": "members with a row in that day's users report",
    "user_initiated_interaction_count": "prompts the team's active users sent",
    "code_generation_activity_count": "pieces of output Copilot generated for them",
    "code_acceptance_activity_count": "suggestions or code blocks they accepted",
    "loc_added_sum": "lines added in the editor, agent edits included",
    "loc_deleted_sum": "lines deleted in the editor",
    "ai_credits_used": "AI credits they used",
    "chat_users": "active users who used chat",
    "agent_users": "active users who used the agent",
    "cli_users": "active users who used Copilot CLI",
    "code_review_users": "active users who used Copilot code review (active or passive)",
}


@dataclass(frozen=True)
class TeamRow:
    """One line people may read: a team large enough to show, "no team", or the hidden teams added up."""

    day: dt.date
    team: str
    teams: int  # how many teams the line adds up (1 but for "other teams (N)")
    members: int
    active_users: int
    sums: dict[str, float]
    users_of: dict[str, int]

    @property
    def acceptance_rate(self) -> float | None:
        generated = self.sums["code_generation_activity_count"]
        return self.sums["code_acceptance_activity_count"] / generated if generated else None


def connect(spill: Path) -> duckdb.DuckDBPyConnection:
    """The history's bounded connection, with two threads: the join runs while nothing else does."""
    return tables.connect(spill, threads=THREADS)


def join_query(user_daily: Sequence[Path], membership: Sequence[Path]) -> str:
    """The SELECT giving team_daily's rows for every day both kinds of file cover."""
    users = f"read_parquet({sql_paths(user_daily)}, union_by_name = true)"
    teams = f"read_parquet({sql_paths(membership)}, union_by_name = true)"
    sums = ", ".join(f"sum(u.{name}) AS {name}" for name in SUMS)
    flags = ", ".join(f"count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in USERS_OF.items())
    # A user-day is one row of the report; should a file repeat it, it still counts once.
    return f"""
        WITH members AS (
            SELECT DISTINCT day, user_id, team_id, slug FROM {teams}
            WHERE day IN (SELECT day FROM {users}) AND user_id IS NOT NULL
        ),
        users AS (
            SELECT DISTINCT ON (day, user_id) {", ".join(USED_COLUMNS)} FROM {users}
            WHERE day IN (SELECT day FROM members) AND user_id IS NOT NULL
        ),
        in_teams AS (
            SELECT m.day, m.team_id, m.slug, count(DISTINCT m.user_id) AS members
            FROM members m GROUP BY ALL
        ),
        active AS (
            SELECT m.day, m.team_id, m.slug, count(*) AS active_users, {sums}, {flags}
            FROM members m JOIN users u ON u.day = m.day AND u.user_id = m.user_id GROUP BY ALL
        ),
        no_team AS (
            SELECT u.day, NULL::BIGINT AS team_id, NULL::VARCHAR AS slug, count(*) AS members,
                   count(*) AS active_users, {sums}, {flags}
            FROM users u ANTI JOIN members m ON u.day = m.day AND u.user_id = m.user_id GROUP BY ALL
        )
        SELECT {_typed("t.members", "COALESCE(a.active_users, 0)", "a")}
        FROM in_teams t LEFT JOIN active a USING (day, team_id, slug)
        UNION ALL
        SELECT {_typed("members", "active_users", "")} FROM no_team
        ORDER BY day, team_id NULLS LAST, slug
    """


def write_team_daily(user_daily: Sequence[Path], membership: Sequence[Path], target: Path, spill: Path) -> int:
    """team_daily for every day both kinds of file cover, as one Parquet file; returns its row count."""
    with connect(spill) as db:
        db.execute(f"COPY ({join_query(user_daily, membership)}) TO {sql_string(str(target))} {PARQUET}")
        row = db.execute(f"SELECT count(*) FROM read_parquet({sql_string(str(target))})").fetchone()
    return int(row[0]) if row else 0


def shown(team_daily: Sequence[Path], min_group_size: int, spill: Path) -> list[TeamRow]:
    """What people may read of team_daily: per day, the teams (and "no team") with at least
    `min_group_size` active users, largest first, then the smaller ones added up in one row."""
    if not team_daily:
        return []
    sums = ", ".join(f"sum({name})::DOUBLE AS {name}" for name in SUMS)
    flags = ", ".join(f"sum({name})::BIGINT AS {name}" for name in USERS_OF)
    # A team without a slug is named by its id; only a row without either is "no team".
    label = "CASE WHEN team_id IS NULL AND slug IS NULL THEN $2 ELSE COALESCE(slug, '#' || team_id) END"
    query = f"""
        WITH t AS (
            SELECT *, active_users >= $1 AS visible FROM read_parquet({sql_paths(team_daily)}, union_by_name = true)
        )
        SELECT day, visible, CASE WHEN visible THEN {label} END AS team, count(*) AS teams,
               sum(members)::BIGINT, sum(active_users)::BIGINT, {sums}, {flags}
        FROM t GROUP BY day, visible, CASE WHEN visible THEN {label} END, CASE WHEN visible THEN team_id END
        ORDER BY day, visible DESC, (team = $2), sum(active_users) DESC, team
    """
    with connect(spill) as db:
        found = db.execute(query, [min_group_size, NO_TEAM]).fetchall()
    rows = [
        (
            visible,
            TeamRow(
                day=day,
                team=team if visible else _other(teams),
                teams=teams,
                members=members,
                active_users=active,
                sums=dict(zip(SUMS, values[: len(SUMS)], strict=True)),
                users_of=dict(zip(USERS_OF, values[len(SUMS) :], strict=True)),
            ),
        )
        for day, visible, team, teams, members, active, *values in found
    ]
    return _large_groups_only(rows, lambda row: row.active_users, _added_up, min_group_size)


class _Dated(Protocol):
    @property
    def day(self) -> dt.date: ...

    @property
    def team(self) -> str: ...


Row = TypeVar("Row", bound=_Dated)


def _added_up(one: TeamRow, other: TeamRow) -> TeamRow:
    return TeamRow(
        day=one.day,
        team=_other(one.teams + other.teams),
        teams=one.teams + other.teams,
        members=one.members + other.members,
        active_users=one.active_users + other.active_users,
        sums={name: one.sums[name] + other.sums[name] for name in SUMS},
        users_of={name: one.users_of[name] + other.users_of[name] for name in USERS_OF},
    )


def _other(teams: int) -> str:
    return f"other teams ({teams})"


def _large_groups_only(
    rows: Sequence[tuple[bool, Row]], size: Callable[[Row], int], add: Callable[[Row, Row], Row], min_group_size: int
) -> list[Row]:
    """Each day's rows (shown or hidden, shown ones largest first) with its hidden ones added up in
    one row that is itself at least `min_group_size` strong: a smaller one would show a small group
    (an "other teams (1)" row names its team by elimination), so the smallest shown rows go into it
    until it is; a day whose rows are too small even all together shows nothing."""
    days: dict[dt.date, tuple[list[Row], list[Row]]] = {}
    for visible, row in rows:
        days.setdefault(row.day, ([], []))[0 if visible else 1].append(row)
    kept: list[Row] = []
    for shown, hidden in days.values():
        other = functools.reduce(add, hidden) if hidden else None
        while other is not None and size(other) < min_group_size and shown:
            smallest = min(shown, key=lambda row: (size(row), row.team))
            shown.remove(smallest)
            other = add(other, smallest)
        kept += shown
        if other is not None and size(other) >= min_group_size:
            kept.append(other)
    return kept


@dataclass(frozen=True)
class Membership:
    """Who is in which team on a day, as people may read it: counts only, small teams added up."""

    day: dt.date
    team: str
    teams: int
    members: int


@dataclass(frozen=True)
class Memberships:
    teams: int  # teams in the report
    users: int  # distinct users in at least one team
    rows: list[Membership]


def memberships(membership: Sequence[Path], min_group_size: int, spill: Path) -> Memberships:
    """Members per team and day from user_team_daily: teams with fewer than `min_group_size`
    members are added up in one "other teams (N)" row per day."""
    if not membership:
        return Memberships(0, 0, [])
    source = f"read_parquet({sql_paths(membership)}, union_by_name = true)"
    label = "COALESCE(slug, '#' || team_id)"
    query = f"""
        WITH t AS (
            SELECT day, team_id, {label} AS team, count(DISTINCT user_id) AS members
            FROM {source} WHERE day IS NOT NULL AND (team_id IS NOT NULL OR slug IS NOT NULL) GROUP BY ALL
        )
        SELECT day, members >= $1 AS visible, CASE WHEN members >= $1 THEN team END AS name,
               count(*) AS teams, sum(members)::BIGINT AS members
        FROM t GROUP BY day, visible, name, CASE WHEN members >= $1 THEN team_id END
        ORDER BY day, visible DESC, members DESC, name
    """
    with connect(spill) as db:
        found = db.execute(query, [min_group_size]).fetchall()
        counted = db.execute(
            f"SELECT count(DISTINCT (team_id, slug)), count(DISTINCT user_id) FROM {source}"
        ).fetchone()
    listed = [
        (visible, Membership(day, name if visible else _other(teams), teams, members))
        for day, visible, name, teams, members in found
    ]
    rows = _large_groups_only(listed, lambda row: row.members, _members_added_up, min_group_size)
    teams_count, users = counted if counted else (0, 0)
    return Memberships(int(teams_count), int(users), rows)


def _members_added_up(one: Membership, other: Membership) -> Membership:
    return Membership(one.day, _other(one.teams + other.teams), one.teams + other.teams, one.members + other.members)


CSV_COLUMNS = (
    "day",
    "team",
    "teams",
    "members",
    "active_users",
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "acceptance_rate",
    "loc_added_sum",
    "loc_deleted_sum",
    "ai_credits_used",
    *USERS_OF,
)


def write_csv(rows: Sequence[TeamRow], target: Path) -> Path:
    """The rows people may read as CSV (RFC 4180, UTF-8): one line per day and shown team."""
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            rate = row.acceptance_rate
            values: dict[str, object] = {
                "day": row.day.isoformat(),
                "team": row.team,
                "teams": row.teams,
                "members": row.members,
                "active_users": row.active_users,
                "acceptance_rate": "" if rate is None else f"{rate:.4f}",
                **{name: _plain(value) for name, value in row.sums.items()},
                **row.users_of,
            }
            writer.writerow([values[name] for name in CSV_COLUMNS])
    partial.replace(target)
    return target


def _typed(members: str, active: str, prefix: str) -> str:
    source = {name: f"{prefix}.{name}" if prefix else name for name in COLUMNS}
    source["day"] = "t.day" if prefix else "day"
    source["team_id"] = "t.team_id" if prefix else "team_id"
    source["slug"] = "t.slug" if prefix else "slug"
    source["members"] = members
    source["active_users"] = active
    zero = {*SUMS, *USERS_OF}
    return ", ".join(
        f"CAST({f'COALESCE({source[name]}, 0)' if name in zero else source[name]} AS {kind}) AS {name}"
        for name, kind in COLUMNS.items()
    )


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
