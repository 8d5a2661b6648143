"""What one report's files hold, as the job summary shows it, computed by DuckDB.

The figures are SQL over the relations the history's tables are derived by (`row_query` and
`breakdown_query` of history/tables.py, read straight from the report's NDJSON), so the summary
and the tables read every field the same way: DuckDB casts each value to its documented type
(`"5"` to 5, `"yes"` to true), one it cannot cast is NULL in both, and NULL counts as nothing.
A report is read once into a table of what its figures need, under the history's memory bound
and spilled to disk past it, so a users report of several GB costs no more memory than the
bound.

Shards are parts of one report, never copies, so their rows are added up. The one exception is
an organization or enterprise report's day: a day whose owner ids and day were already seen is
a repeat of data already counted, and is counted once; the same day under a different owner id
is another owner's share and is added. A 28-day report's line holds its days in `day_totals`;
each day carries the fields of its line (window, owner id).

A line that is not a JSON object, or lacks what places it (a day; a user; a repository), is
malformed and counted as such. Users reports give counts only, never a login.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .history import tables
from .history.tables import sql_name, sql_path, sql_string
from .schema import CODE_COUNTERS as COUNTERS
from .schema import Report, ReportKind, report_named

Totals = dict[str, float]
UNKNOWN = "(unknown)"
CREDITS = "ai_credits_used"
PR = "pull_requests."
PR_COUNTS = ("total_created", "total_merged", "total_reviewed", "total_created_by_copilot", "total_reviewed_by_copilot")
# Title -> (breakdown list, field naming the key). Each breakdown splits the same day's totals,
# so each one alone gives the share of its key.
DIMENSIONS = {
    "IDE": ("totals_by_ide", "ide"),
    "Feature": ("totals_by_feature", "feature"),
    "Language": ("totals_by_language_feature", "language"),
    "Model": ("totals_by_model_feature", "model"),
}
USER_DIMENSIONS = ("IDE", "Feature")
USER_FLAGS = (
    "used_agent",
    "used_chat",
    "used_cli",
    "used_copilot_app",
    "used_copilot_cloud_agent",
    "used_copilot_coding_agent",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_vscode_agent",
)
ACTIVE_USERS = (
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
    "monthly_active_chat_users",
    "monthly_active_agent_users",
)
_SURFACES = (
    "active_cli",
    "active_copilot_app",
    "active_copilot_cloud_agent",
    "active_copilot_code_review",
    "passive_copilot_code_review",
    "active_vscode_agent",
)
# Organization and enterprise reports: the users of each surface, daily, weekly and monthly.
ADOPTION_FIELDS = tuple(
    f"{period}_{surface}_users" for surface in _SURFACES for period in ("daily", "weekly", "monthly")
)
REVIEW_STAGES = (
    "median_minutes_ready_to_first_review",
    "median_minutes_first_to_final_review",
    "median_minutes_final_review_to_merge",
)
_DAY_FIELDS = tuple(dict.fromkeys([*ACTIVE_USERS, *COUNTERS, *ADOPTION_FIELDS, CREDITS]))
_OWNER_IDS = ("organization_id", "enterprise_id")


@dataclass(frozen=True)
class Reading:
    """How the files read: lines, lines that held nothing usable, files that could not be opened."""

    lines: int = 0
    malformed: int = 0
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class AggregateFigures:
    """Organization and enterprise reports."""

    reading: Reading
    days: dict[str, Totals]  # day -> the fields that had a number that day, added up over owners
    repeated: int  # day rows seen again in another line or file, counted once
    by: dict[str, dict[str, Totals]]  # DIMENSIONS title -> key -> counters over the window


@dataclass(frozen=True)
class UsersFigures:
    """Users reports: counts of users, never a login."""

    reading: Reading
    days: dict[str, Totals]  # day -> "users", the flags' users, counters and credits
    users: int  # distinct users over the files
    flag_users: dict[str, int]  # each flag the files have -> distinct users who had it
    by: dict[str, dict[str, dict[str, int]]]  # USER_DIMENSIONS title -> key -> day -> users


@dataclass(frozen=True)
class RepoTotals:
    name: str  # owner/name, or #id for a row without a name
    totals: Totals  # PR + each of PR_COUNTS
    median_to_merge: float | None


@dataclass(frozen=True)
class ReposFigures:
    """Repos reports: one row per repository and day."""

    reading: Reading
    repos: list[RepoTotals]  # every repository, the most pull requests created and merged first
    totals: Totals
    median_to_merge: float | None  # weighted by pull requests merged
    stages: dict[str, float | None]  # REVIEW_STAGES -> weighted median; empty without review times


Figures = AggregateFigures | UsersFigures | ReposFigures


def figures_of(report: Report | str, paths: Sequence[Path]) -> Figures:
    """The figures of one report's files (all its shards and days)."""
    kind = report_named(report).kind
    readable, unreadable = _readable(paths)
    with tempfile.TemporaryDirectory(prefix="copilot-summary-") as spill, tables.connect(Path(spill)) as db:
        return _COMPUTE[kind](db, readable, tuple(unreadable))


def _readable(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    readable, unreadable = [], []
    for path in paths:
        try:
            with path.open("rb"):
                readable.append(path)
        except OSError as failure:
            unreadable.append(f"{path.name} ({failure.strerror or type(failure).__name__})")
    return readable, unreadable


def _aggregate(db: duckdb.DuckDBPyConnection, paths: Sequence[Path], unreadable: tuple[str, ...]) -> AggregateFigures:
    if not paths:
        return AggregateFigures(Reading(unreadable=unreadable), {}, 0, {})
    # Aggregate reports are a few rows per day: their day rows are kept in a table of their own
    # and read by each query below.
    columns = tables.json_columns("aggregate")
    day_type = "STRUCT(" + ", ".join(f"{sql_name(name)} {kind}" for name, kind in columns.items()) + ")[]"
    db.execute(
        "CREATE TEMPORARY TABLE lines AS SELECT row_number() OVER () AS line, * "
        f"FROM {tables.read_json_source('aggregate', paths, {'day_totals': day_type})}"
    )
    own = ", ".join(sql_name(name) for name in columns)
    merged = ", ".join(f"coalesce(d.{sql_name(name)}, l.{sql_name(name)}) AS {sql_name(name)}" for name in columns)
    db.execute(
        "CREATE TEMPORARY TABLE day_rows AS SELECT * FROM ("
        f"SELECT line, {own} FROM lines WHERE day_totals IS NULL "
        f"UNION ALL SELECT line, {merged} FROM lines AS l, unnest(l.day_totals) AS u(d)) WHERE day IS NOT NULL"
    )
    owners = ", ".join(sql_name(name) for name in _OWNER_IDS)
    db.execute(
        "CREATE TEMPORARY TABLE unique_days AS SELECT * FROM day_rows "
        f"QUALIFY row_number() OVER (PARTITION BY day, {owners} ORDER BY line) = 1"
    )
    lines, usable = _one(db, "SELECT (SELECT count(*) FROM lines), (SELECT count(DISTINCT line) FROM day_rows)")
    repeated = _one(db, "SELECT (SELECT count(*) FROM day_rows) - (SELECT count(*) FROM unique_days)")[0]
    fields = [*_DAY_FIELDS, *(PR + name for name in PR_COUNTS)]
    days = _per_day(db, f"SELECT day, {_sums(fields)} FROM unique_days GROUP BY day", fields)
    keys = _key_case(DIMENSIONS.values())
    rows = db.execute(
        f"SELECT breakdown, {keys} AS key, {_sums(COUNTERS)} "
        f"FROM ({tables.breakdown_query('aggregate', 'unique_days', [array for array, _ in DIMENSIONS.values()])}) "
        "GROUP BY ALL"
    ).fetchall()
    by: dict[str, dict[str, Totals]] = {title: {} for title in DIMENSIONS}
    for title, (array, _) in DIMENSIONS.items():
        for breakdown, key, *sums in rows:
            if breakdown == array:
                by[title][key] = _present(COUNTERS, sums)
    reading = Reading(lines, lines - usable, unreadable)
    return AggregateFigures(reading, days, repeated, by)


def _users(db: duckdb.DuckDBPyConnection, paths: Sequence[Path], unreadable: tuple[str, ...]) -> UsersFigures:
    if not paths:
        return UsersFigures(Reading(unreadable=unreadable), {}, 0, {}, {title: {} for title in USER_DIMENSIONS})
    _read_user_lines(db, tables.read_json_source("users", paths))
    fields = [*COUNTERS, CREDITS]
    lines, usable = _one(db, "SELECT count(*), count(day) FROM user_lines")
    per_day = ", ".join(f"count_if({sql_name(flag)}), count({sql_name(flag)})" for flag in USER_FLAGS)
    days: dict[str, Totals] = {}
    query = f"SELECT day, count(*), {_sums(fields)}, {per_day} FROM user_lines WHERE day IS NOT NULL GROUP BY day"
    for day, count, *values in db.execute(query).fetchall():
        days[day.isoformat()] = {"users": float(count)} | _present(fields, values[: len(fields)])
        days[day.isoformat()] |= {flag: float(users) for flag, users in _flags(values[len(fields) :]).items()}
    # Distinct users through a GROUP BY, which spills to disk, rather than DISTINCT aggregates, which do not.
    per_user = ", ".join(
        f"bool_or({sql_name(flag)}) AS {sql_name(flag)}, count({sql_name(flag)}) AS {_seen(flag)}"
        for flag in USER_FLAGS
    )
    overall = ", ".join(f"count_if({sql_name(flag)}), sum({_seen(flag)})" for flag in USER_FLAGS)
    users, *values = _one(
        db, f"SELECT count(*), {overall} FROM (SELECT {per_user} FROM user_lines WHERE day IS NOT NULL GROUP BY who)"
    )
    by: dict[str, dict[str, dict[str, int]]] = {title: {} for title in USER_DIMENSIONS}
    for title in USER_DIMENSIONS:
        for key, day, count in db.execute(
            f"SELECT {_label('key')} AS named, day, sum(users) FROM (SELECT key, day, count(*) AS users "
            f"FROM user_lines, unnest({sql_name(title)}) AS u(key) WHERE day IS NOT NULL GROUP BY key, day) "
            "GROUP BY named, day"
        ).fetchall():
            by[title].setdefault(key, {})[day.isoformat()] = count
    return UsersFigures(Reading(lines, lines - usable, unreadable), days, users, _flags(values), by)


def _read_user_lines(db: duckdb.DuckDBPyConnection, source: str) -> None:
    """One read of the files into `user_lines`: per line its day and user (both NULL unless the
    line has both), the counters, the flags and the keys of each of USER_DIMENSIONS' entries.
    Further figures read this narrow table, which spills to disk past the memory bound."""
    who = "coalesce(CAST(user_id AS VARCHAR), user_login)"
    # Each key once per line (a line is a user's day); list_distinct leaves out entries without one.
    keys = ", ".join(
        f"list_distinct(list_transform({sql_name(DIMENSIONS[title][0])}, "
        f"lambda entry: entry.{sql_name(DIMENSIONS[title][1])})) AS {sql_name(title)}"
        for title in USER_DIMENSIONS
    )
    scalars = ", ".join(sql_name(field) for field in (*COUNTERS, CREDITS, *USER_FLAGS))
    db.execute(
        f"CREATE TEMPORARY TABLE user_lines AS SELECT CASE WHEN {who} IS NOT NULL THEN day END AS day, "
        f"CASE WHEN day IS NOT NULL THEN {who} END AS who, {scalars}, {keys} FROM {source}"
    )


def _seen(flag: str) -> str:
    return sql_name(f"{flag}_seen")


def _flags(values: Sequence[Any]) -> dict[str, int]:
    """USER_FLAGS' (users, rows that had the flag) pairs as users per flag, for the flags the files have."""
    return {flag: int(values[2 * at]) for at, flag in enumerate(USER_FLAGS) if values[2 * at + 1]}


def _repos(db: duckdb.DuckDBPyConnection, paths: Sequence[Path], unreadable: tuple[str, ...]) -> ReposFigures:
    if not paths:
        return ReposFigures(Reading(unreadable=unreadable), [], {}, None, {})
    # A row per repository and day: the lines are kept in a table of their own, read by each query below.
    db.execute(f"CREATE TEMPORARY TABLE repo_lines AS SELECT * FROM {tables.read_json_source('repos', paths)}")
    named = (
        "CASE WHEN trim(coalesce(repo_owner_name, '')) <> '' AND trim(coalesce(repo_name, '')) <> '' "
        "THEN repo_owner_name || '/' || repo_name WHEN repo_id IS NOT NULL THEN '#' || CAST(repo_id AS VARCHAR) END"
    )
    counts = ", ".join(f"pull_requests.{name} AS {sql_name(name)}" for name in PR_COUNTS)
    db.execute(
        f"CREATE TEMPORARY TABLE repo_rows AS SELECT {named} AS name, {counts}, "
        f"pull_requests.median_minutes_to_merge AS to_merge FROM ({tables.row_query('repos', 'repo_lines')})"
    )
    lines, usable = _one(db, "SELECT count(*), count(name) FROM repo_rows")
    sums = ", ".join(f"sum({sql_name(name)})" for name in PR_COUNTS)
    medians = dict(
        db.execute(
            _weighted_median("SELECT name AS key, to_merge AS value, total_merged AS weight FROM repo_rows")
        ).fetchall()
    )
    repos = [
        RepoTotals(name, _present([PR + field for field in PR_COUNTS], values), medians.get(name))
        for name, *values in db.execute(
            f"SELECT name, {sums} FROM repo_rows WHERE name IS NOT NULL GROUP BY name "
            "ORDER BY -(coalesce(sum(total_created), 0) + coalesce(sum(total_merged), 0)), name"
        ).fetchall()
    ]
    totals = _present([PR + field for field in PR_COUNTS], _one(db, f"SELECT {sums} FROM repo_rows"))
    overall = _one(db, _weighted_median("SELECT NULL AS key, to_merge AS value, total_merged AS weight FROM repo_rows"))
    stages = _stages(db)
    return ReposFigures(
        Reading(lines, lines - usable, unreadable), repos, totals, overall[1] if overall else None, stages
    )


def _stages(db: duckdb.DuckDBPyConnection) -> dict[str, float | None]:
    """The weighted median of each review stage over every repository's review times."""
    entries = tables.breakdown_query("repos", "repo_lines", ["pull_request_review_times"])
    found: dict[str, float | None] = {}
    for stage in REVIEW_STAGES:
        value = f"SELECT NULL AS key, {sql_name(stage)} AS value, total_merged AS weight FROM ({entries})"
        median = _one(db, _weighted_median(value))
        found[stage] = median[1] if median else None
    return found if any(value is not None for value in found.values()) else {}


def _weighted_median(values: str) -> str:
    """Per key of `values` (key, value, weight): the least value at which the running weight
    reaches half the key's whole; only values with a positive weight count."""
    return (
        "SELECT key, min(value) FILTER (WHERE 2 * running >= whole) FROM ("
        "SELECT key, value, sum(weight) OVER (PARTITION BY key ORDER BY value) AS running, "
        "sum(weight) OVER (PARTITION BY key) AS whole FROM ("
        f"SELECT key, value, sum(weight) AS weight FROM ({values}) "
        "WHERE value IS NOT NULL AND weight > 0 GROUP BY key, value)) GROUP BY key"
    )


def _per_day(db: duckdb.DuckDBPyConnection, query: str, fields: Sequence[str]) -> dict[str, Totals]:
    return {day.isoformat(): _present(fields, sums) for day, *sums in db.execute(query).fetchall()}


def _present(fields: Sequence[str], values: Sequence[Any]) -> Totals:
    """The fields that had a number, with it: a field no row had is left out, not zero."""
    return {field: float(value) for field, value in zip(fields, values, strict=True) if value is not None}


def _sums(fields: Sequence[str]) -> str:
    return ", ".join(f"sum({sql_path(field)})" for field in fields)


def _label(value: str) -> str:
    """A key as the summary names it: a blank one is UNKNOWN."""
    return f"CASE WHEN trim(coalesce({value}, '')) = '' THEN {sql_string(UNKNOWN)} ELSE {value} END"


def _key_case(dimensions: Iterable[tuple[str, str]]) -> str:
    """The key of a breakdown row, named by the field its breakdown is keyed on; blank is UNKNOWN."""
    cases = " ".join(f"WHEN {sql_string(array)} THEN {sql_name(field)}" for array, field in dict(dimensions).items())
    return _label(f"CASE breakdown {cases} END")


def _one(db: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    row = db.execute(query).fetchone()
    return tuple(row) if row is not None else ()


_COMPUTE: Mapping[ReportKind, Callable[[duckdb.DuckDBPyConnection, Sequence[Path], tuple[str, ...]], Figures]] = {
    "aggregate": _aggregate,
    "users": _users,
    "repos": _repos,
}
