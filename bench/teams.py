"""The team join at the scale the issue sets: 10,000 users in 500 teams over 28 days; writes bench/TEAMS.md.

    python3 bench/teams.py                    # 10,000 users, 500 teams, 28 days (about a minute)
    python3 bench/teams.py --users 500 --teams 25 --days 3 --output /tmp/TEAMS.md   # a smoke run

The inputs are the history's own tables, written by the product's table writer from generated
NDJSON (every documented column, mostly NULL, as GitHub's real rows are): one user_daily and one
user_team_daily object per day. The measured child (bench/teams_join.py, one process, wall time
and peak RSS from spawn.py) joins all days into team_daily and computes what people may read
(teams.shown): the same two calls a run makes. Each user is in one to three teams and active on
about 85 % of the days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests")]

from measure import base_env, run_measured, write_report  # noqa: E402

from copilot_metrics.history import tables  # noqa: E402

SECONDS_LIMIT = 10.0
RSS_LIMIT_MIB = 256.0


def write_tables(users: int, teams: int, days: int, folder: Path) -> None:
    """One user_daily and one user_team_daily Parquet file per day, through the product's writer."""
    rng = random.Random(14)
    membership = {user: rng.sample(range(teams), rng.randint(1, 3)) for user in range(users)}
    first = dt.date(2026, 3, 1)
    for number in range(days):
        day = (first + dt.timedelta(days=number)).isoformat()
        scratch = folder / "ndjson" / day
        scratch.mkdir(parents=True)
        user_rows = scratch / "users.ndjson"
        with user_rows.open("w", encoding="utf-8") as out:
            for user in range(users):
                if rng.random() < 0.85:
                    out.write(json.dumps(_user_row(rng, day, user)) + "\n")
        members = scratch / "teams.ndjson"
        with members.open("w", encoding="utf-8") as out:
            for user, team_ids in membership.items():
                for team in team_ids:
                    row = {
                        "day": day,
                        "user_id": user,
                        "user_login": f"user-{user}",
                        "team_id": team,
                        "slug": f"t{team}",
                    }
                    out.write(json.dumps(row) + "\n")
        built = tables.build("users-1-day", [user_rows], scratch / "u", only=("user_daily",))
        built["user_daily"].rename(folder / f"user_daily-{day}.parquet")
        built = tables.build("user-teams-1-day", [members], scratch / "t")
        built["user_team_daily"].rename(folder / f"user_team_daily-{day}.parquet")


def _user_row(rng: random.Random, day: str, user: int) -> dict[str, object]:
    generated = rng.randint(0, 200)
    return {
        "day": day,
        "organization_id": "1",
        "user_id": user,
        "user_login": f"user-{user}",
        "user_initiated_interaction_count": rng.randint(0, 80),
        "code_generation_activity_count": generated,
        "code_acceptance_activity_count": rng.randint(0, generated),
        "loc_added_sum": rng.randint(0, 900),
        "loc_deleted_sum": rng.randint(0, 300),
        "ai_credits_used": round(rng.random() * 20, 2),
        "used_chat": rng.random() < 0.7,
        "used_agent": rng.random() < 0.4,
        "used_cli": rng.random() < 0.1,
        "used_copilot_code_review_active": rng.random() < 0.2,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--output", type=Path, default=HERE / "TEAMS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="teams-bench-") as folder:
        root = Path(folder)
        write_tables(args.users, args.teams, args.days, root)
        argv = [sys.executable, str(HERE / "teams_join.py"), str(root)]
        sample = run_measured(argv, base_env())
    result = sample.output.strip().splitlines()[-1]
    within = sample.seconds <= SECONDS_LIMIT and sample.peak_rss_mib <= RSS_LIMIT_MIB
    command = f"`python3 bench/teams.py --users {args.users} --teams {args.teams} --days {args.days}`."
    body = [
        "| users | teams | days | wall s | peak RSS MiB | limit | result |",
        "|---:|---:|---:|---:|---:|---|---|",
        f"| {args.users:,} | {args.teams:,} | {args.days} | {sample.seconds:.2f} | {sample.peak_rss_mib:.0f} "
        f"| ≤ {SECONDS_LIMIT:.0f} s, ≤ {RSS_LIMIT_MIB:.0f} MiB | {'within' if within else 'OVER'} |",
        "",
        f"The child's own account: {result}",
        "",
    ]
    write_report(args.output, "Team figures benchmark", command, body)
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
