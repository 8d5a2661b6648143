"""The dashboard's data from a history's tables: the loader's figures against the tables read back by pyarrow.

Histories are made the way the action makes them: the emulator's report lines, turned into
tables by the history's table writer, kept in a folder store.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from copilot_metrics.dashboard.data import TeamDay
from copilot_metrics.dashboard.history import (
    OTHER_REPOS,
    chosen_keys,
    download_tables,
    history_data,
    repo_days,
)
from copilot_metrics.dashboard.step import OTHER_TEAMS, busiest_teams
from copilot_metrics.history.archive import table_key
from copilot_metrics.history.folder import FolderStore
from copilot_metrics.history.tables import build
from emulator import data as reports

FIRST = dt.date(2026, 9, 1)
OWNER = ("organization_id", 4242)


def keep(store: FolderStore, report: str, day: dt.date, lines: Iterable[dict[str, Any]], work: Path) -> None:
    """One report day in the store, as the history keeps it: its tables, derived by the table writer."""
    folder = work / report / day.isoformat()
    folder.mkdir(parents=True)
    source = folder / f"{report}.ndjson"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    for table, path in build(report, [source], folder / "tables").items():
        store.write(table_key(table, day.isoformat(), report), path)


def rows(store: FolderStore, table: str, report: str) -> list[dict[str, Any]]:
    """Every row of a table's objects of one report, read by pyarrow."""
    found: list[dict[str, Any]] = []
    for key in store.list(f"tables/{table}/"):
        if key.endswith(f"/{report}.parquet"):
            found += pq.read_table(store.root / key).to_pylist()
    return found


def users_of(day_number: int) -> list[int]:
    """Who is active on a day: user n every n-th day, so weekly and monthly counts differ from daily ones."""
    return [n for n in range(1, 16) if day_number % n == 0]


def test_a_users_only_history_gives_exact_distinct_users_and_none_where_days_are_missing(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "history")
    gap = 40
    held = [FIRST + dt.timedelta(days=n) for n in range(60) if n != gap]
    rng = random.Random(7)
    for day in held:
        number = (day - FIRST).days
        lines = [reports.user_day(rng, day, n, *OWNER) for n in users_of(number)]
        keep(store, "users-1-day", day, lines, tmp_path / "work")

    data = history_data(store, tmp_path / "load", title="t", generated_at="now", min_group_size=5)

    assert data is not None
    user_rows = rows(store, "user_daily", "users-1-day")
    active: dict[dt.date, set[int]] = defaultdict(set)
    for row in user_rows:
        active[row["day"]].add(row["user_id"])

    def distinct(day: dt.date, length: int) -> int | None:
        window = [day - dt.timedelta(days=n) for n in range(length)]
        if any(d not in active for d in window):
            return None
        return len(set().union(*(active[d] for d in window)))

    assert [f.day for f in data.days] == held
    for figures in data.days:
        of_day = [row for row in user_rows if row["day"] == figures.day]
        assert figures.daily_active_users == len(of_day)
        assert figures.weekly_active_users == distinct(figures.day, 7)
        assert figures.monthly_active_users == distinct(figures.day, 28)
        assert figures.code_generations == sum(row["code_generation_activity_count"] for row in of_day)
        assert figures.interactions == sum(row["user_initiated_interaction_count"] for row in of_day)
        assert figures.lines_deleted == sum(row["loc_deleted_sum"] for row in of_day)
        assert abs(figures.ai_credits - sum(row["ai_credits_used"] for row in of_day)) < 1e-6
        assert figures.chat_users == sum(row["used_chat"] for row in of_day)
        assert figures.agent_users == sum(row["used_agent"] for row in of_day)
        assert figures.cli_users == sum(row["used_cli"] for row in of_day)
        assert figures.code_review_users == sum(row["used_copilot_code_review_active"] for row in of_day)
    shown = {f.day: f for f in data.days}
    after_gap = FIRST + dt.timedelta(days=gap + 1)
    assert shown[after_gap].weekly_active_users is None
    assert shown[after_gap + dt.timedelta(days=7)].weekly_active_users is not None
    assert shown[after_gap + dt.timedelta(days=7)].monthly_active_users is None
    assert shown[FIRST + dt.timedelta(days=30)].monthly_active_users == distinct(FIRST + dt.timedelta(days=30), 28)
    # The users' breakdowns are added up for days without an aggregate report.
    ide: dict[tuple[dt.date, str], int] = defaultdict(int)
    for row in rows(store, "breakdown_daily", "users-1-day"):
        if row["breakdown"] == "totals_by_ide":
            ide[row["day"], row["ide"]] += row["code_generation_activity_count"]
    assert {(b.day, b.name): b.code_generations for b in data.breakdowns if b.dimension == "ide"} == ide


def test_aggregate_days_come_from_the_aggregate_report_and_adoption_from_its_users(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "history")
    days = [FIRST + dt.timedelta(days=n) for n in range(4)]
    rng = random.Random(3)
    for n, day in enumerate(days):
        keep(store, "organization-1-day", day, [reports.day_totals(rng, day, *OWNER)], tmp_path / "work")
        if n:  # the first day has no users report
            lines = [reports.user_day(rng, day, user, *OWNER) for user in range(1, 9)]
            keep(store, "users-1-day", day, lines, tmp_path / "work")
        lines = [reports.repo_day(rng, day, number, *OWNER, "octo") for number in range(6)]
        keep(store, "repos-1-day", day, lines, tmp_path / "work")

    data = history_data(store, tmp_path / "load", title="t", generated_at="now", min_group_size=5)

    assert data is not None
    daily = {row["day"]: row for row in rows(store, "daily", "organization-1-day")}
    users = rows(store, "user_daily", "users-1-day")
    assert [f.day for f in data.days] == days
    for figures in data.days:
        row = daily[figures.day]
        assert figures.daily_active_users == row["daily_active_users"]
        assert figures.weekly_active_users == row["weekly_active_users"]
        assert figures.monthly_active_users == row["monthly_active_users"]
        assert figures.code_acceptances == row["code_acceptance_activity_count"]
        assert figures.lines_added == row["loc_added_sum"]
        assert figures.cli_users == row["daily_active_cli_users"]
        assert figures.code_review_users == row["daily_active_copilot_code_review_users"]
        of_day = [user for user in users if user["day"] == figures.day]
        assert figures.chat_users == (sum(user["used_chat"] for user in of_day) if of_day else None)
        assert figures.agent_users == (sum(user["used_agent"] for user in of_day) if of_day else None)
    # Breakdowns: the aggregate report's entries, never its users' on top.
    models: dict[tuple[dt.date, str], int] = defaultdict(int)
    for entry in rows(store, "breakdown_daily", "organization-1-day"):
        if entry["breakdown"] == "totals_by_model_feature":
            models[entry["day"], entry["model"]] += entry["user_initiated_interaction_count"] or 0
    assert {(b.day, b.name): b.interactions for b in data.breakdowns if b.dimension == "model"} == models
    assert {b.dimension for b in data.breakdowns} == {"ide", "feature", "language", "model"}
    repos = rows(store, "repo_daily", "repos-1-day")
    assert sum(r.created for r in data.repos) == sum(row["pull_requests"]["total_created"] for row in repos)
    assert {r.repo for r in data.repos} == {f"{row['repo_owner_name']}/{row['repo_name']}" for row in repos}


def test_repositories_past_the_limit_are_added_up_in_one_row(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "history")
    days = [FIRST, FIRST + dt.timedelta(days=1)]
    rng = random.Random(5)
    for day in days:
        lines = [reports.repo_day(rng, day, number, *OWNER, "octo") for number in range(7)]
        keep(store, "repos-1-day", day, lines, tmp_path / "work")
    files = download_tables(store, tmp_path / "tables")
    table = rows(store, "repo_daily", "repos-1-day")
    busy: dict[str, int] = defaultdict(int)
    for row in table:
        busy[f"{row['repo_owner_name']}/{row['repo_name']}"] += sum(
            row["pull_requests"][name] for name in ("total_created", "total_reviewed")
        )
    busiest = sorted(busy, key=lambda repo: (-busy[repo], repo))[:2]

    with duckdb.connect() as db:
        folded = repo_days(db, files["repo_daily"], limit=2)

    assert {row.repo for row in folded} == {*busiest, OTHER_REPOS}
    for day in days:
        of_day = [row for row in table if row["day"] == day]
        shown = [row for row in folded if row.day == day]
        assert sum(row.merged for row in shown) == sum(row["pull_requests"]["total_merged"] for row in of_day)
        other = next(row for row in shown if row.repo == OTHER_REPOS)
        assert other.median_minutes_to_merge is None
        kept = next(row for row in shown if row.repo == busiest[0])
        source = next(row for row in of_day if f"{row['repo_owner_name']}/{row['repo_name']}" == busiest[0])
        assert kept.median_minutes_to_merge == source["pull_requests"]["median_minutes_to_merge"]


def test_the_loader_reads_one_aggregate_a_day_and_users_breakdowns_only_without_one() -> None:
    keys = [
        table_key("daily", "2026-09-01", "organization-1-day"),
        table_key("daily", "2026-09-01", "enterprise-1-day"),
        table_key("daily", "2026-09-02", "enterprise-1-day"),
        table_key("breakdown_daily", "2026-09-01", "organization-1-day"),
        table_key("breakdown_daily", "2026-09-01", "enterprise-1-day"),
        table_key("breakdown_daily", "2026-09-01", "users-1-day"),
        table_key("breakdown_daily", "2026-09-03", "users-1-day"),
        table_key("breakdown_daily", "2026-09-03", "repos-1-day"),
        table_key("user_daily", "2026-09-01", "users-1-day"),
        table_key("user_daily", "2026-09-03", "users-1-day"),
        table_key("user_team_daily", "2026-09-03", "user-teams-1-day"),
        table_key("repo_daily", "2026-09-03", "repos-1-day"),
        "raw/users-1-day/day=2026-09-03/users.ndjson.gz",
    ]

    assert chosen_keys(keys) == {
        "daily": [
            table_key("daily", "2026-09-01", "organization-1-day"),
            table_key("daily", "2026-09-02", "enterprise-1-day"),
        ],
        "user_daily": [
            table_key("user_daily", "2026-09-01", "users-1-day"),
            table_key("user_daily", "2026-09-03", "users-1-day"),
        ],
        "breakdown_daily": [
            table_key("breakdown_daily", "2026-09-01", "organization-1-day"),
            table_key("breakdown_daily", "2026-09-03", "users-1-day"),
        ],
        "repo_daily": [table_key("repo_daily", "2026-09-03", "repos-1-day")],
    }


def test_a_history_without_scope_or_users_days_gives_no_page(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "history")
    lines = [reports.repo_day(random.Random(1), FIRST, 0, *OWNER, "octo")]
    keep(store, "repos-1-day", FIRST, lines, tmp_path / "work")

    assert history_data(store, tmp_path / "load", title="t", generated_at="now", min_group_size=5) is None


def test_teams_past_the_busiest_are_added_up_with_the_small_ones_per_day() -> None:
    def team(day: dt.date, name: str, interactions: int) -> TeamDay:
        return TeamDay(day, name, 6, interactions, 2 * interactions, interactions // 2, 3 * interactions, 0.5)

    second = FIRST + dt.timedelta(days=1)
    rows = [
        team(FIRST, "web", 50),
        team(FIRST, "data", 10),
        team(FIRST, "mobile", 30),
        team(FIRST, f"{OTHER_TEAMS} (3)", 1000),  # the small teams, already added up: never named
        team(second, "web", 50),
        team(second, "data", 25),
    ]

    folded = busiest_teams(rows, limit=2)

    # web 100 and data 35 interactions in all; mobile's 30 go with the small teams.
    assert [(row.day, row.team) for row in folded] == [
        (FIRST, "data"),
        (FIRST, OTHER_TEAMS),
        (FIRST, "web"),
        (second, "data"),
        (second, "web"),
    ]
    other = next(row for row in folded if row.day == FIRST and row.team == OTHER_TEAMS)
    assert (other.active_users, other.interactions, other.lines_added, other.ai_credits) == (12, 1030, 3090, 1.0)
    for day in (FIRST, second):
        assert sum(r.interactions for r in folded if r.day == day) == sum(r.interactions for r in rows if r.day == day)
