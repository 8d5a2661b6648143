"""The dashboard of a year of 10,000 users, built from a history by the loader; writes bench/DASHBOARD.md.

    python3 bench/dashboard.py                          # 10,000 users, 365 days (a few minutes)
    python3 bench/dashboard.py --users 500 --days 30 --output /tmp/DASHBOARD.md   # a smoke run

The history is a folder store holding what a year of nightly runs of `report: all` leaves:
`daily` and `breakdown_daily` of organization-1-day (derived by the product's table writer from
the emulator's day rows), `user_daily` (one day of users written by the table writer from
generated rows with every documented column, then copied to each day with about 85 % of the
users active), `repo_daily` of 2,000 repositories (the same way) and `team_daily` of 500 teams.
The measured child (bench/dashboard_build.py, one process, wall time and peak RSS from
spawn.py) does what a run does with `dashboard: true`: lists and downloads the objects, queries
them with DuckDB and writes the page. Chromium (Debian's, when installed) then opens the page
from disk five times; the figure is the median time to the page's `dashboard-rendered` mark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests")]

import duckdb  # noqa: E402
from measure import base_env, run_measured, write_report  # noqa: E402

from copilot_metrics import teams  # noqa: E402
from copilot_metrics.history import tables  # noqa: E402
from copilot_metrics.history.archive import table_key  # noqa: E402
from emulator import data as reports  # noqa: E402

RSS_LIMIT_MIB = 256.0
SIZE_LIMIT_MIB = 5.0
RENDER_LIMIT_MS = 1000.0
REPOSITORIES = 2_000
TEAMS = 500
LOADS = 5
LAST_DAY = dt.date(2026, 11, 27)


def write_history(users: int, days: int, root: Path) -> None:
    calendar = [LAST_DAY - dt.timedelta(days=days - 1 - n) for n in range(days)]
    rng = random.Random(15)
    scratch = root / "scratch"
    aggregate = scratch / "organization.ndjson"
    scratch.mkdir(parents=True)
    with aggregate.open("w", encoding="utf-8") as out:
        for day in calendar:
            out.write(json.dumps(reports.day_totals(rng, day, "organization_id", 1)) + "\n")
    built = tables.build("organization-1-day", [aggregate], scratch / "aggregate")
    user_rows = scratch / "users.ndjson"
    with user_rows.open("w", encoding="utf-8") as out:
        for user in range(users):
            out.write(json.dumps(reports.user_day(rng, calendar[0], user, "organization_id", 1)) + "\n")
    built |= tables.build("users-1-day", [user_rows], scratch / "users", only=("user_daily",))
    repo_rows = scratch / "repos.ndjson"
    with repo_rows.open("w", encoding="utf-8") as out:
        for number in range(REPOSITORIES):
            out.write(json.dumps(reports.repo_day(rng, calendar[0], number, "organization_id", 1, "acme")) + "\n")
    built |= tables.build("repos-1-day", [repo_rows], scratch / "repos", only=("repo_daily",))
    team_columns = ", ".join(f"NULL::{kind} AS {name}" for name, kind in teams.COLUMNS.items())
    with duckdb.connect(config={"memory_limit": "1GB", "threads": 2}) as db:
        for number, day in enumerate(calendar):
            copies = {
                ("daily", "organization-1-day"): f"SELECT * FROM '{built['daily']}' WHERE day = DATE '{day}'",
                ("breakdown_daily", "organization-1-day"): (
                    f"SELECT * FROM '{built['breakdown_daily']}' WHERE day = DATE '{day}'"
                ),
                ("user_daily", "users-1-day"): (
                    f"SELECT * REPLACE (DATE '{day}' AS day) FROM '{built['user_daily']}' "
                    f"WHERE hash(user_id, {number}) % 100 < 85"
                ),
                ("repo_daily", "repos-1-day"): (
                    f"SELECT * REPLACE (DATE '{day}' AS day) FROM '{built['repo_daily']}' "
                    f"WHERE hash(repo_id, {number}) % 100 < 40"
                ),
                ("team_daily", "teams"): (
                    f"SELECT * REPLACE (DATE '{day}' AS day, t AS team_id, 'team-' || t AS slug, "
                    f"3 + hash(t) % 40 AS members, 1 + hash(t, {number}) % 40 AS active_users, "
                    f"hash(t, {number}, 1) % 500 AS user_initiated_interaction_count, "
                    f"hash(t, {number}, 2) % 900 AS code_generation_activity_count, "
                    f"hash(t, {number}, 3) % 300 AS code_acceptance_activity_count, "
                    f"hash(t, {number}, 4) % 2000 AS loc_added_sum, (hash(t, {number}, 5) % 400) / 10 "
                    f"AS ai_credits_used) FROM (SELECT {team_columns}), range({TEAMS}) AS r(t)"
                ),
            }
            for (table, name), query in copies.items():
                target = root / "history" / table_key(table, day.isoformat(), name)
                target.parent.mkdir(parents=True, exist_ok=True)
                db.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")


def render_times(page: Path) -> list[float] | None:
    """Milliseconds from navigation start to the page's rendered mark, or None without Chromium."""
    import shutil

    from browser.pages import load, start_chromium

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        return None
    chrome = start_chromium(browser, driver)
    try:
        timings = []
        for _ in range(LOADS):
            load(chrome, page)
            mark = "return performance.getEntriesByName('dashboard-rendered')[0].startTime"
            timings.append(float(chrome.execute_script(mark)))
        return timings
    finally:
        chrome.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--output", type=Path, default=HERE / "DASHBOARD.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as folder:
        root = Path(folder)
        write_history(args.users, args.days, root)
        stored = sum(path.stat().st_size for path in (root / "history").rglob("*.parquet"))
        argv = [sys.executable, str(HERE / "dashboard_build.py"), str(root / "history"), str(root / "site")]
        sample = run_measured(argv, base_env())
        page = root / "site" / "dashboard" / "index.html"
        size = page.stat().st_size / 1024 / 1024
        timings = render_times(page)
    rendered = statistics.median(timings) if timings else None
    within = (
        sample.peak_rss_mib <= RSS_LIMIT_MIB
        and size < SIZE_LIMIT_MIB
        and (rendered is None or rendered < RENDER_LIMIT_MS)
    )
    shown = f"{rendered:.0f}" if rendered is not None else "no Chromium"
    body = [
        "| users | days | tables MiB | build s | peak RSS MiB | page MiB | rendered ms (median) | limits | result |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| {args.users:,} | {args.days} | {stored / 1024 / 1024:.0f} | {sample.seconds:.2f} "
        f"| {sample.peak_rss_mib:.0f} | {size:.2f} | {shown} "
        f"| ≤ {RSS_LIMIT_MIB:.0f} MiB, < {SIZE_LIMIT_MIB:.0f} MiB, < {RENDER_LIMIT_MS:.0f} ms "
        f"| {'within' if within else 'OVER'} |",
        "",
        f"The child's own account: {sample.output.strip().splitlines()[-1]}",
        f"Chromium's {LOADS} loads (ms): {', '.join(f'{t:.0f}' for t in timings) if timings else 'not run'}",
        "",
    ]
    command = f"`python3 bench/dashboard.py --users {args.users} --days {args.days}`."
    write_report(args.output, "Dashboard benchmark", command, body)
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
