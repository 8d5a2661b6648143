"""The dashboard's data from a history's tables, computed by DuckDB, the engine that writes them.

The tables are queried on the runner's disk, not in Python's memory: the objects the page needs
are listed and downloaded from the store into a scratch folder, then DuckDB reads them under a
memory limit (spilling to that folder). Only the page's per-day figures come back to Python.

Where each figure comes from:

- `daily` (organization-1-day or enterprise-1-day) gives the scope's figures of its days;
- `user_daily` (users-1-day) gives the users of chat and of agent mode per day, which the
  aggregate reports count over 28 days only, and every figure of a day that has no aggregate
  report: weekly and monthly active users exactly, from each user's days, when the history holds
  every day of that week or month (otherwise none is shown rather than too few);
- `breakdown_daily` gives the IDEs, features, languages and models of a day: the aggregate
  report's entries, or its users' entries added up when it has no aggregate report;
- `repo_daily` gives the pull requests of the REPO_LIMIT busiest repositories, the rest added up
  in one row, so that the page stays small however many repositories an organization has.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from ..errors import DashboardError
from ..history.archive import table_key
from ..history.store import Prefetching, Store
from ..history.tables import connect
from .data import BreakdownDay, DashboardData, DayFigures, Dimension, RepoDay, TeamDay

AGGREGATES = ("organization-1-day", "enterprise-1-day")
USERS = "users-1-day"
REPOS = "repos-1-day"
TABLES = ("daily", "user_daily", "breakdown_daily", "repo_daily")
DOWNLOADS = 4
REPO_LIMIT = 100
OTHER_REPOS = "other repositories"
WEEK, MONTH = 7, 28
# The array of breakdown_daily each dimension comes from, and the entry field that names it.
DIMENSION_SOURCES: Mapping[Dimension, tuple[str, str]] = {
    "ide": ("totals_by_ide", "ide"),
    "feature": ("totals_by_feature", "feature"),
    "language": ("totals_by_language_feature", "language"),
    "model": ("totals_by_model_feature", "model"),
}
_KEY = re.compile(r"tables/([^/]+)/day=(\d{4}-\d{2}-\d{2})/([^/]+)\.parquet")

# DuckDB matches the objects' columns by name. union_by_name would also fill in columns that some
# objects lack, which the page never reads, and costs memory per object over a year of days.
_SOURCE = "read_parquet($files)"

Files = Mapping[str, Sequence[Path]]  # table -> its downloaded objects


def history_data(
    store: Store, work: Path, *, title: str, generated_at: str, min_group_size: int, teams: Sequence[TeamDay] = ()
) -> DashboardData | None:
    """What the page shows of the history in `store`; None when it holds no day of the scope or its users."""
    files = download_tables(store, work / "tables")
    try:
        with connect(work / "spill") as db:
            days = day_figures(db, files)
            if not days:
                return None
            breakdowns = breakdown_days(db, files.get("breakdown_daily", ()))
            repos = repo_days(db, files.get("repo_daily", ()))
    except duckdb.Error as failure:
        raise DashboardError(
            "DuckDB could not read the history's tables for the dashboard; check them with "
            f"`copilot-metrics history verify STORE` ({type(failure).__name__}: {str(failure).splitlines()[0][:200]})"
        ) from None
    return DashboardData(title, generated_at, min_group_size, days, breakdowns, tuple(teams), repos)


def download_tables(store: Store, folder: Path) -> dict[str, list[Path]]:
    """The table objects the page reads (see the module's notes), downloaded into `folder`."""
    chosen = chosen_keys(store.list("tables/"))
    folder.mkdir(parents=True, exist_ok=True)
    targets = {key: folder / key.removeprefix("tables/").replace("/", "_") for keys in chosen.values() for key in keys}
    if isinstance(store, Prefetching):
        store.prefetch(targets)
    with ThreadPoolExecutor(max_workers=DOWNLOADS, thread_name_prefix="dashboard") as pool:
        list(pool.map(lambda key: store.download(key, targets[key]), targets))
    return {table: [targets[key] for key in keys] for table, keys in chosen.items() if keys}


def chosen_keys(keys: Iterable[str]) -> dict[str, list[str]]:
    """Per table, the keys the page reads: one aggregate report a day, and the users' breakdowns
    only of the days without one."""
    found: dict[tuple[str, str], set[str]] = {}
    for key in keys:
        match = _KEY.fullmatch(key)
        if match:
            table, day, name = match.groups()
            found.setdefault((table, name), set()).add(day)
    aggregate: dict[str, str] = {}
    for name in reversed(AGGREGATES):  # an organization's report wins over its enterprise's
        aggregate |= dict.fromkeys(found.get(("daily", name), ()), name)
    users = found.get(("user_daily", USERS), set())
    breakdowns = {day: name for day, name in aggregate.items() if day in found.get(("breakdown_daily", name), ())}
    breakdowns |= {day: USERS for day in found.get(("breakdown_daily", USERS), set()) - set(aggregate) if day in users}
    return {
        "daily": [table_key("daily", day, name) for day, name in sorted(aggregate.items())],
        "user_daily": [table_key("user_daily", day, USERS) for day in sorted(users)],
        "breakdown_daily": [table_key("breakdown_daily", day, name) for day, name in sorted(breakdowns.items())],
        "repo_daily": [table_key("repo_daily", day, REPOS) for day in sorted(found.get(("repo_daily", REPOS), ()))],
    }


def day_figures(db: duckdb.DuckDBPyConnection, files: Files) -> tuple[DayFigures, ...]:
    aggregate = {row.pop("day"): row for row in _records(db, _AGGREGATE_DAYS, files.get("daily", ()))}
    users = {row.pop("day"): row for row in _records(db, _USER_DAYS, files.get("user_daily", ()))}
    active = _active_windows(db, files.get("user_daily", ()), set(users))
    figures = []
    for day in sorted(set(aggregate) | set(users)):
        of_users = users.get(day, {})
        adoption: dict[str, Any] = {name: of_users.get(name) for name in ("chat_users", "agent_users")}
        if day in aggregate:
            figures.append(DayFigures(day=day, **aggregate[day], **adoption))
        else:
            weekly, monthly = active.get(day, (None, None))
            derived = of_users | adoption | {"weekly_active_users": weekly, "monthly_active_users": monthly}
            figures.append(DayFigures(day=day, **derived))
    return tuple(figures)


# Every counter as a number even where a report lacks it: the page adds them up.
_COUNTERS = """
       coalesce(sum(code_generation_activity_count), 0) AS code_generations,
       coalesce(sum(code_acceptance_activity_count), 0) AS code_acceptances,
       coalesce(sum(user_initiated_interaction_count), 0) AS interactions,
       coalesce(sum(loc_added_sum), 0) AS lines_added,
       coalesce(sum(loc_deleted_sum), 0) AS lines_deleted,
       coalesce(sum(ai_credits_used), 0)::DOUBLE AS ai_credits"""

_AGGREGATE_DAYS = f"""
SELECT day,
       coalesce(sum(daily_active_users), 0) AS daily_active_users,
       coalesce(sum(weekly_active_users), 0) AS weekly_active_users,
       coalesce(sum(monthly_active_users), 0) AS monthly_active_users,{_COUNTERS},
       coalesce(sum(daily_active_cli_users), 0) AS cli_users,
       coalesce(sum(daily_active_copilot_code_review_users), 0) AS code_review_users
FROM {_SOURCE} GROUP BY day
"""

# A users report has one row per user and day.
_USER_DAYS = f"""
SELECT day, count(*) AS daily_active_users,{_COUNTERS},
       count(*) FILTER (WHERE used_chat) AS chat_users,
       count(*) FILTER (WHERE used_agent) AS agent_users,
       count(*) FILTER (WHERE used_cli) AS cli_users,
       count(*) FILTER (WHERE used_copilot_code_review_active) AS code_review_users
FROM {_SOURCE} GROUP BY day
"""


def _active_windows(
    db: duckdb.DuckDBPyConnection, files: Sequence[Path], held: set[dt.date]
) -> dict[dt.date, tuple[int | None, int | None]]:
    """Distinct users active in the 7 and the 28 days to each day, when the history holds them all.

    Each user-day counts from its day until the user's next active day or the window's end, which
    ever comes first: these spans never overlap (a repeated row gives an empty one), so a running
    sum of their starts and ends is the distinct count, in one sort of the users' days instead of
    a join of every day with its window."""
    if not files:
        return {}
    counts = {
        row[0]: (int(row[1]), int(row[2]))
        for row in _rows(
            db,
            f"""
            WITH spans AS (
                SELECT day AS start, lead(day) OVER (PARTITION BY user_id ORDER BY day) AS next FROM {_SOURCE}
            ),
            edges AS (
                SELECT start AS day, 1 AS week, 1 AS month FROM spans
                UNION ALL SELECT least(start + {WEEK}, coalesce(next, start + {WEEK})), -1, 0 FROM spans
                UNION ALL SELECT least(start + {MONTH}, coalesce(next, start + {MONTH})), 0, -1 FROM spans
            ),
            steps AS (SELECT day, sum(week) AS week, sum(month) AS month FROM edges GROUP BY day)
            SELECT day, sum(week) OVER running, sum(month) OVER running FROM steps
            WINDOW running AS (ORDER BY day ROWS UNBOUNDED PRECEDING)
            """,
            files,
        )
    }
    return {
        day: (
            counts[day][0] if _holds(held, day, WEEK) else None,
            counts[day][1] if _holds(held, day, MONTH) else None,
        )
        for day in held
        if day in counts
    }


def _holds(held: set[dt.date], day: dt.date, length: int) -> bool:
    return all(day - dt.timedelta(days=n) in held for n in range(length))


def breakdown_days(db: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> tuple[BreakdownDay, ...]:
    if not files:
        return ()
    dimension = " ".join(f"WHEN '{array}' THEN '{name}'" for name, (array, _) in DIMENSION_SOURCES.items())
    named = " ".join(f"WHEN '{array}' THEN {field}" for array, field in DIMENSION_SOURCES.values())
    arrays = ", ".join(f"'{array}'" for array, _ in DIMENSION_SOURCES.values())
    query = f"""
        WITH entries AS (
            SELECT day, CASE breakdown {dimension} END AS dimension, CASE breakdown {named} END AS name,
                   user_initiated_interaction_count, code_generation_activity_count,
                   code_acceptance_activity_count, loc_added_sum
            FROM {_SOURCE} WHERE breakdown IN ({arrays})
        )
        SELECT day, dimension, name,
               coalesce(sum(user_initiated_interaction_count), 0), coalesce(sum(code_generation_activity_count), 0),
               coalesce(sum(code_acceptance_activity_count), 0), coalesce(sum(loc_added_sum), 0)
        FROM entries WHERE name IS NOT NULL GROUP BY ALL ORDER BY ALL
    """
    return tuple(BreakdownDay(*row) for row in _rows(db, query, files))


def repo_days(db: duckdb.DuckDBPyConnection, files: Sequence[Path], limit: int = REPO_LIMIT) -> tuple[RepoDay, ...]:
    """The `limit` busiest repositories by pull requests created and reviewed, the rest in one row a day."""
    if not files:
        return ()
    query = f"""
        WITH repos AS (
            SELECT day, coalesce(repo_owner_name, '') || '/' || coalesce(repo_name, '') AS repo,
                   coalesce(pull_requests.total_created, 0) AS created,
                   coalesce(pull_requests.total_reviewed, 0) AS reviewed,
                   coalesce(pull_requests.total_merged, 0) AS merged,
                   coalesce(pull_requests.total_created_by_copilot, 0) AS created_by_copilot,
                   coalesce(pull_requests.total_reviewed_by_copilot, 0) AS reviewed_by_copilot,
                   pull_requests.median_minutes_to_merge AS minutes
            FROM {_SOURCE}
        ),
        busiest AS (
            SELECT repo FROM repos GROUP BY repo ORDER BY sum(created + reviewed) DESC, repo LIMIT {int(limit)}
        ),
        named AS (
            SELECT *, repo IN (SELECT repo FROM busiest) AS kept FROM repos
            WHERE created + reviewed + merged + created_by_copilot + reviewed_by_copilot > 0
        )
        SELECT day, CASE WHEN kept THEN repo ELSE '{OTHER_REPOS}' END AS name,
               sum(created), sum(reviewed), sum(merged), sum(created_by_copilot), sum(reviewed_by_copilot),
               -- A median of several repositories' medians would be no median at all.
               CASE WHEN count(*) = 1 THEN any_value(minutes) END
        FROM named GROUP BY day, name ORDER BY day, name
    """
    return tuple(RepoDay(*row) for row in _rows(db, query, files))


def _rows(db: duckdb.DuckDBPyConnection, query: str, files: Sequence[Path]) -> list[tuple[Any, ...]]:
    if not files:
        return []
    return db.execute(query, {"files": [str(path) for path in files]}).fetchall()


def _records(db: duckdb.DuckDBPyConnection, query: str, files: Sequence[Path]) -> list[dict[str, Any]]:
    """The rows as dicts by column name."""
    if not files:
        return []
    result = db.execute(query, {"files": [str(path) for path in files]})
    names = [column[0] for column in result.description or ()]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
