"""Team figures: membership joined with user rows per day, worked out by hand; small teams and
logins never reach what people read."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from action_run import assert_no_leaks, run_action
from copilot_metrics import figures, summary, teams, trends
from copilot_metrics.dashboard.page import visible_team
from copilot_metrics.download import DownloadedFile
from copilot_metrics.history import checks, open_store, tables
from copilot_metrics.job import ReportRun, RunRecord
from copilot_metrics.reports import ReportLinks
from copilot_metrics.settings import parse_settings
from emulator import Emulator

DAY = "2026-03-02"
TEAMS = {1: "platform", 2: "web", 3: "tiny"}
# team id -> member user ids. User 5 is in two teams, user 6 is a member with no activity, user 14
# is active in no team, and "tiny" has 3 members: under the default minimum group size of 5.
MEMBERS = {1: [1, 2, 3, 4, 5, 6], 2: [5, 6, 7, 8, 9, 10], 3: [11, 12, 13]}
# user id -> interactions, generations, acceptances, lines added, lines deleted, AI credits,
#            chat, agent, CLI, code review (active or passive)
USERS = {
    1: (10, 20, 10, 100, 10, 1.5, True, False, False, False),
    2: (5, 10, 2, 40, 0, 0.5, True, True, False, False),
    3: (0, 4, 4, 8, 2, 0.0, False, False, True, False),
    4: (3, 6, 3, 12, 1, 2.0, True, False, False, True),
    5: (7, 10, 5, 30, 5, 1.0, True, True, True, False),
    7: (1, 2, 1, 4, 0, 0.0, False, False, False, False),
    8: (2, 0, 0, 0, 0, 0.25, True, False, False, False),
    9: (4, 8, 6, 16, 4, 0.75, False, True, False, True),
    10: (6, 12, 3, 24, 6, 1.0, True, False, True, False),
    11: (1, 1, 1, 1, 1, 0.125, True, False, False, False),
    12: (2, 2, 0, 2, 0, 0.25, False, False, False, False),
    13: (3, 3, 3, 3, 3, 0.125, True, False, False, False),
    14: (9, 9, 9, 9, 9, 9.0, False, True, False, False),
}
# Worked out by hand from the two tables above:
#   platform: users 1-5 active (6 is not): 10+5+0+3+7 = 25 interactions, 20+10+4+6+10 = 50
#     generations, 10+2+4+3+5 = 24 acceptances (48.0%), 190 lines added, 18 deleted, 5.0 credits,
#     chat 1,2,4,5; agent 2,5; CLI 3,5; review 4.
#   web: users 5,7,8,9,10: 20 interactions, 32 generations, 15 acceptances (46.9%), 74 added,
#     15 deleted, 3.0 credits, chat 5,8,10; agent 5,9; CLI 5,10; review 9.
#   tiny: users 11-13: 6, 6, 4, 6, 4, 0.5 credits, chat 11,13.
#   no team: user 14: 9, 9, 9, 9, 9, 9.0 credits, agent.
#   other teams (2) under the default threshold = tiny + no team: 4 members, 4 active, 15, 15,
#     13 (86.7%), 15 added, 13 deleted, 9.5 credits, chat 2, agent 1.
# team -> members, active users, interactions, generations, acceptances, added, deleted, credits,
#         chat, agent, CLI, code review
EXPECTED = {
    "platform": (6, 5, 25, 50, 24, 190, 18, 5.0, 4, 2, 2, 1),
    "web": (6, 5, 20, 32, 15, 74, 15, 3.0, 3, 2, 2, 1),
    "tiny": (3, 3, 6, 6, 4, 6, 4, 0.5, 2, 0, 0, 0),
    "no team": (1, 1, 9, 9, 9, 9, 9, 9.0, 0, 1, 0, 0),
}
# tiny (3 active) and no team (1) are under 5, and 4 together: the smaller shown team (platform
# and web have 5 each; platform comes first by name) is added to them, so that the added-up row
# is itself at least 5 strong and names no team by elimination.
OTHER = ("other teams (3)", (10, 9, 40, 65, 37, 205, 31, 14.5, 6, 3, 2, 1))


def login(user: int) -> str:
    return f"login-{user:02d}"


def users_ndjson(day: str = DAY) -> bytes:
    lines = []
    for user, (inter, gen, acc, added, deleted, credits, chat, agent, cli, review) in USERS.items():
        record = {
            "day": day,
            "organization_id": "7",
            "user_id": user,
            "user_login": login(user),
            "user_initiated_interaction_count": inter,
            "code_generation_activity_count": gen,
            "code_acceptance_activity_count": acc,
            "loc_added_sum": added,
            "loc_deleted_sum": deleted,
            "ai_credits_used": credits,
            "used_chat": chat,
            "used_agent": agent,
            "used_cli": cli,
            # User 9 reviews passively only: either kind counts.
            "used_copilot_code_review_active": review and user != 9,
            "used_copilot_code_review_passive": review and user == 9,
        }
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def teams_ndjson(day: str = DAY) -> bytes:
    lines = [
        json.dumps(
            {
                "user_id": user,
                "user_login": login(user),
                "day": day,
                "team_id": team,
                "slug": TEAMS[team],
                "organization_id": "7",
            }
        )
        for team, members in MEMBERS.items()
        for user in members
    ]
    return ("\n".join(lines) + "\n").encode()


def figures_of(row: teams.TeamRow) -> tuple[float, ...]:
    sums = row.sums
    return (
        row.members,
        row.active_users,
        *(sums[name] for name in teams.SUMS[:5]),
        round(sums["ai_credits_used"], 6),
        *row.users_of.values(),
    )


def run_files(tmp_path: Path) -> dict[str, list[Path]]:
    folder = tmp_path / "run"
    (folder / "users" / DAY).mkdir(parents=True)
    (folder / "teams" / DAY).mkdir(parents=True)
    users = folder / "users" / DAY / "users-1-day_part-1.ndjson"
    users.write_bytes(users_ndjson())
    members = folder / "teams" / DAY / "user-teams-1-day_part-1.ndjson"
    members.write_bytes(teams_ndjson())
    return {"users-1-day": [users], "user-teams-1-day": [members]}


def test_team_daily_holds_every_team_and_no_team_as_worked_out_by_hand(tmp_path: Path) -> None:
    files = run_files(tmp_path)
    users = tables.build("users-1-day", files["users-1-day"], tmp_path / "u")
    members = tables.build("user-teams-1-day", files["user-teams-1-day"], tmp_path / "t")
    target = tmp_path / "team_daily.parquet"

    count = teams.write_team_daily([users["user_daily"]], [members["user_team_daily"]], target, tmp_path / "spill")

    # Read back by pyarrow, not by the engine that wrote it.
    rows = pq.read_table(target).to_pylist()
    assert count == len(rows) == 4
    found = {
        (row["slug"] or "no team"): (
            row["members"],
            row["active_users"],
            row["user_initiated_interaction_count"],
            row["code_generation_activity_count"],
            row["code_acceptance_activity_count"],
            row["loc_added_sum"],
            row["loc_deleted_sum"],
            round(row["ai_credits_used"], 6),
            row["chat_users"],
            row["agent_users"],
            row["cli_users"],
            row["code_review_users"],
        )
        for row in rows
    }
    assert found == EXPECTED
    assert {row["day"] for row in rows} == {dt.date(2026, 3, 2)}
    no_team = next(row for row in rows if row["slug"] is None)
    assert no_team["team_id"] is None
    assert list(pq.read_schema(target).names) == list(teams.COLUMNS)


def test_teams_below_the_minimum_are_added_up_so_totals_still_add_up(tmp_path: Path) -> None:
    found = figures.team_figures(run_files(tmp_path), None, 5, tmp_path / "work")

    shown = {row.team: figures_of(row) for row in found.rows}
    assert shown == {"web": EXPECTED["web"], OTHER[0]: OTHER[1]}
    assert [row.team for row in found.rows] == ["web", "other teams (3)"]
    assert found.rows[0].acceptance_rate == pytest.approx(15 / 32)


def test_with_a_minimum_of_one_every_team_and_no_team_show(tmp_path: Path) -> None:
    found = figures.team_figures(run_files(tmp_path), None, 1, tmp_path / "work")

    assert {row.team: figures_of(row) for row in found.rows} == EXPECTED
    assert found.rows[-1].team == "no team"


def test_the_team_csv_and_the_summary_show_the_hand_worked_figures(tmp_path: Path) -> None:
    found = figures.team_figures(run_files(tmp_path), None, 5, tmp_path / "work")

    path = teams.write_csv(found.rows, tmp_path / teams.CSV_NAME)
    text = path.read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert text.startswith(",".join(teams.CSV_COLUMNS) + "\r\n")
    assert [(row["team"], row["active_users"], row["acceptance_rate"], row["ai_credits_used"]) for row in rows] == [
        ("web", "5", "0.4688", "3"),
        ("other teams (3)", "9", "0.5692", "14.50"),
    ]
    assert rows[1]["code_acceptance_activity_count"] == "37" and rows[1]["teams"] == "3"
    markdown = "\n".join(summary.team_section(found.rows, 5))
    assert "| web | 5 | 20 | 32 | 15 | 46.9% | 74 | 15 | 3 | 3 | 2 | 2 | 1 |" in markdown
    assert "| other teams (3) | 9 | 40 | 65 | 37 | 56.9% | 205 | 31 | 14.5 | 6 | 3 | 2 | 1 |" in markdown
    assert "tiny" not in markdown + text and "platform" not in markdown + text
    assert "login-" not in markdown + text


def test_membership_is_shown_as_counts_with_small_teams_added_up(tmp_path: Path) -> None:
    found = figures.team_figures(run_files(tmp_path), None, 5, tmp_path / "work")

    assert found.memberships is not None
    text = "\n".join(summary.membership_section(found.memberships, 5))
    assert "**Teams:** 3  " in text
    assert "**Users in at least one team:** 13  " in text
    # tiny's 3 members alone would name tiny by elimination: platform (6, first by name) joins them.
    assert "| web | 6 |" in text and "| other teams (2) | 9 |" in text
    assert "tiny" not in text and "platform" not in text and "login-" not in text


def test_team_slugs_cannot_inject_markdown_or_links(tmp_path: Path) -> None:
    path = tmp_path / "teams.ndjson"
    slugs = ["x|<img src=x>[a](http://e)\n# h", "https://evil.example/login", "admin@evil.example"]
    path.write_text(
        "".join(
            json.dumps({"user_id": n, "day": DAY, "team_id": n, "slug": slug}) + "\n" for n, slug in enumerate(slugs)
        )
    )
    membership = tables.build("user-teams-1-day", [path], tmp_path / "t")["user_team_daily"]

    text = "\n".join(summary.membership_section(teams.memberships([membership], 1, tmp_path / "spill"), 1))

    assert "| x\\|\\<img src=x\\>\\[a\\](http:\u2060//e) \\# h | 1 |" in text
    assert "https://" not in text and "@evil" not in text


_LOGIN = st.text("abcdefghijklmnopqrstuvwxyz", min_size=8, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    team_count=st.integers(1, 6),
    user_count=st.integers(1, 25),
    minimum=st.integers(1, 8),
)
def test_no_small_team_or_login_ever_reaches_what_people_read(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, team_count: int, user_count: int, minimum: int
) -> None:
    folder = tmp_path_factory.mktemp("property")
    slugs = data.draw(st.lists(_LOGIN.map(lambda s: "team" + s), min_size=team_count, max_size=team_count, unique=True))
    logins = data.draw(
        st.lists(_LOGIN.map(lambda s: "user" + s), min_size=user_count, max_size=user_count, unique=True)
    )
    membership = {
        user: data.draw(st.sets(st.integers(0, team_count - 1), max_size=team_count)) for user in range(user_count)
    }
    active = data.draw(st.sets(st.integers(0, user_count - 1)))
    (folder / "u" / DAY).mkdir(parents=True)
    (folder / "t" / DAY).mkdir(parents=True)
    users = folder / "u" / DAY / "users.ndjson"
    users.write_text(
        "".join(
            json.dumps({"day": DAY, "user_id": user, "user_login": logins[user], "code_generation_activity_count": 1})
            + "\n"
            for user in sorted(active)
        )
    )
    members = folder / "t" / DAY / "teams.ndjson"
    members.write_text(
        "".join(
            json.dumps({"day": DAY, "user_id": user, "user_login": logins[user], "team_id": team, "slug": slugs[team]})
            + "\n"
            for user, teams_of in membership.items()
            for team in sorted(teams_of)
        )
    )

    found = figures.team_figures({"users-1-day": [users], "user-teams-1-day": [members]}, None, minimum, folder / "w")

    figures_read = "\n".join(summary.team_section(found.rows, minimum))
    if found.rows:
        figures_read += teams.write_csv(found.rows, folder / teams.CSV_NAME).read_text(encoding="utf-8")
    members_read = "\n".join(summary.membership_section(found.memberships, minimum)) if found.memberships else ""
    for team, slug in enumerate(slugs):
        in_team = {user for user, teams_of in membership.items() if team in teams_of}
        if len(in_team & active) < minimum:
            assert slug not in figures_read
        if len(in_team) < minimum:
            assert slug not in members_read
    for name in logins:
        assert name not in figures_read + members_read
    # Whatever is hidden, the rows still add up to every team membership of an active user.
    memberships = sum(len(teams_of) for user, teams_of in membership.items() if user in active)
    no_team = len([user for user in active if not membership[user]])
    if found.rows:
        assert sum(row.active_users for row in found.rows) == memberships + no_team


def test_users_and_teams_of_a_day_in_one_step_give_team_daily_the_csv_and_the_summary(
    emu: Emulator, tmp_path: Path
) -> None:
    day = emu.today - dt.timedelta(days=2)
    emu.set_shards("org", "octo", "users-1-day", day, [users_ndjson(day.isoformat())])
    emu.set_shards("org", "octo", "user-teams-1-day", day, [teams_ndjson(day.isoformat())])
    history = tmp_path / "history"

    run = run_action(
        emu,
        tmp_path / "run",
        {"report": "users-1-day, user-teams-1-day", "day": day.isoformat(), "history": str(history), "csv": "true"},
    )

    assert run.code == 0, run.stdout + run.stderr
    assert_no_leaks(run, emu)
    folder = run.workspace / "copilot-metrics"
    assert (folder / "users-1-day" / day.isoformat()).is_dir()
    assert (folder / "user-teams-1-day" / day.isoformat()).is_dir()
    rows = list(csv.DictReader(io.StringIO((folder / teams.CSV_NAME).read_text(encoding="utf-8"))))
    assert [(row["team"], row["active_users"], row["user_initiated_interaction_count"]) for row in rows] == [
        ("web", "5", "20"),
        ("other teams (3)", "9", "40"),
    ]
    assert "| web | 5 | 20 | 32 | 15 | 46.9% | 74 | 15 | 3 | 3 | 2 | 2 | 1 |" in run.summary
    assert "| other teams (3) | 9 | 40 | 65 | 37 | 56.9% | 205 | 31 | 14.5 | 6 | 3 | 2 | 1 |" in run.summary
    stored = pq.read_table(history / "tables" / "team_daily" / f"day={day}" / "teams.parquet").to_pylist()
    assert {(row["slug"] or "no team"): (row["members"], row["active_users"]) for row in stored} == {
        team: figures[:2] for team, figures in EXPECTED.items()
    }
    people_read = run.everything_written() + (folder / teams.CSV_NAME).read_text(encoding="utf-8")
    assert "tiny" not in people_read
    assert "login-" not in people_read


def test_the_readme_documents_every_column_of_team_daily() -> None:
    rows = [f"| `{name}` | {kind} | {teams.MEANINGS[name]} |" for name, kind in teams.COLUMNS.items()]
    table = "\n".join(["| column | type | meaning |", "|---|---|---|", *rows])
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "#### `team_daily`" in readme
    assert table in readme
    assert set(teams.MEANINGS) == set(teams.COLUMNS)


def test_trends_count_distinct_users_exactly_and_compare_the_last_28_days(tmp_path: Path) -> None:
    latest = dt.date(2026, 6, 30)
    days = [latest - dt.timedelta(days=n) for n in reversed(range(120))]
    # User u is active on day number n when n % u == 0 (user 1 every day); user 0 only in the last 10 days.
    active = {(day, user) for n, day in enumerate(days) for user in range(1, 30) if n % user == 0}
    active |= {(day, 0) for day in days[-10:]}
    path = tmp_path / "users.ndjson"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "day": day.isoformat(),
                    "user_id": user,
                    "user_initiated_interaction_count": 2,
                    "code_generation_activity_count": 4,
                    "code_acceptance_activity_count": 1 + (day > latest - dt.timedelta(days=28)),
                    "ai_credits_used": 0.5,
                }
            )
            + "\n"
            for day, user in sorted(active)
        )
    )
    user_daily = tables.build("users-1-day", [path], tmp_path / "t", only=("user_daily",))["user_daily"]
    team_daily = tmp_path / "team_daily.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"day": day, "team_id": team, "slug": slug, "active_users": count}
                for day in days[-56:]
                for team, slug, before, after in ((1, "grew", 10, 20), (2, "steady", 8, 7), (3, "was-small", 3, 30))
                for count in [after if day > latest - dt.timedelta(days=28) else before]
            ]
        ),
        team_daily,
    )

    found = trends.trends([user_daily], [team_daily], 5, tmp_path / "spill")

    def distinct(span: int) -> int:
        return len({user for day, user in active if day > latest - dt.timedelta(days=span)})

    assert found.days == 120 and found.latest == latest
    assert found.distinct == {7: distinct(7), 28: distinct(28), 90: distinct(90)}
    last_rows = [(day, user) for day, user in active if day > latest - dt.timedelta(days=28)]
    assert found.last is not None and found.previous is not None
    assert found.last.active_users == distinct(28)
    assert found.last.interactions == 2 * len(last_rows)
    assert found.last.acceptance_rate == pytest.approx(2 / 4)
    assert found.previous.acceptance_rate == pytest.approx(1 / 4)
    assert [(mover.team, mover.before, mover.after) for mover in found.movers] == [("grew", 10, 20), ("steady", 8, 7)]
    assert len(found.weeks) == 18 and all(week.start.weekday() == 0 for week in found.weeks)
    newest = found.weeks[-1]
    assert newest.figures.active_users == len({u for d, u in active if d >= newest.start})
    text = "\n".join(summary.trend_section(found))
    assert "| Active users | " in text and "| Acceptance rate | 25.0% | 50.0% | +25.0 points |" in text
    assert "| grew | 10 | 20 | +10.0 |" in text and "was-small" not in text
    assert "xychart-beta" in text


def test_a_short_history_says_how_many_days_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "users.ndjson"
    path.write_text(json.dumps({"day": DAY, "user_id": 1}) + "\n")
    user_daily = tables.build("users-1-day", [path], tmp_path / "t", only=("user_daily",))["user_daily"]

    found = trends.trends([user_daily], [], 5, tmp_path / "spill")

    assert found.days == 1 and found.distinct == {7: None, 28: None, 90: None}
    assert "The history holds 1 day(s) of `users-1-day` reports; trends start at 14." in summary.trend_section(found)


def test_the_summary_stays_under_the_limit_with_a_note_whatever_it_holds() -> None:
    blocks = [[f"| team-{n} | {n} |" for n in range(block * 1000, block * 1000 + 1000)] for block in range(200)]

    text = summary.fit(blocks, 64 * 1024)

    assert len(text.encode()) <= 64 * 1024
    assert text.rstrip().endswith("everything is in the artifact's files._")
    assert text.count("\n| team-") + 1 == len(text.splitlines()) - 2
    assert summary.fit([["short"]], 64 * 1024) == "short\n"


def test_the_history_gives_every_kept_team_day_as_people_may_read_it(emu: Emulator, tmp_path: Path) -> None:
    days = [emu.today - dt.timedelta(days=n) for n in (3, 2)]
    for day in days:
        emu.set_shards("org", "octo", "users-1-day", day, [users_ndjson(day.isoformat())])
        emu.set_shards("org", "octo", "user-teams-1-day", day, [teams_ndjson(day.isoformat())])
    history = tmp_path / "history"
    # The two reports in two runs: the second one completes the days with the first one's tables.
    for report in ("user-teams-1-day", "users-1-day"):
        run = run_action(
            emu, tmp_path / report, {"report": report, "day": f"{days[0]}..{days[1]}", "history": str(history)}
        )
        assert run.code == 0, run.stdout + run.stderr

    rows = list(figures.history_team_rows(open_store(str(history), {}, tmp_path), 5, tmp_path / "work"))

    assert [(row.day, row.team) for row in rows] == [(day, team) for day in days for team in ("web", "other teams (3)")]
    assert {figures_of(row) for row in rows if row.team == "web"} == {EXPECTED["web"]}
    assert "| web | 5 | 20 | 32 | 15 | 46.9% | 74 | 15 | 3 | 3 | 2 | 2 | 1 |" in run.summary

    # A rebuild derives the team days again from the rebuilt user and membership tables.
    kept = {path: path.read_bytes() for path in (history / "tables" / "team_daily").rglob("*.parquet")}
    shutil.rmtree(history / "tables" / "team_daily")
    logged: list[str] = []
    checks.rebuild(open_store(str(history), {}, tmp_path), logged.append)
    again = {path: pq.read_table(path).to_pylist() for path in kept}
    assert again == {path: pq.read_table(io.BytesIO(data)).to_pylist() for path, data in kept.items()}
    assert "team_daily: 2 day(s) written" in " ".join(logged)


def damaged_history(emu: Emulator, tmp_path: Path) -> tuple[list[dt.date], Path]:
    """A history with three days of membership, kept by a first run."""
    days = [emu.today - dt.timedelta(days=n) for n in (4, 3, 2)]
    for day in days:
        emu.set_shards("org", "octo", "users-1-day", day, [users_ndjson(day.isoformat())])
        emu.set_shards("org", "octo", "user-teams-1-day", day, [teams_ndjson(day.isoformat())])
    history = tmp_path / "history"
    first = run_action(
        emu,
        tmp_path / "first",
        {"report": "user-teams-1-day", "day": f"{days[0]}..{days[2]}", "history": str(history)},
    )
    assert first.code == 0, first.stdout + first.stderr
    return days, history


def test_a_damaged_membership_costs_the_team_figures_never_the_artifact(emu: Emulator, tmp_path: Path) -> None:
    days, history = damaged_history(emu, tmp_path)
    damaged = history / "tables" / "user_team_daily" / f"day={days[2]}" / "user-teams-1-day.parquet"
    damaged.write_bytes(b"not parquet")

    run = run_action(
        emu, tmp_path / "second", {"report": "users-1-day", "day": days[2].isoformat(), "history": str(history)}
    )

    assert run.code == 1
    assert [artifact for artifact in emu.artifacts.values() if artifact.finalized]
    assert any("The team figures could not be computed:" in line for line in run.warnings)
    assert len(run.errors) == 1 and f"The team figures of {days[2]} could not be derived" in run.errors[0]
    assert "copilot-metrics history verify STORE" in run.errors[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert "### Teams on" not in run.summary
    assert damaged.read_bytes() == b"not parquet"


def test_a_damaged_users_day_costs_the_trends_never_the_run(emu: Emulator, tmp_path: Path) -> None:
    days, history = damaged_history(emu, tmp_path)
    # A users day with no membership: no team day reads it, the trends do.
    old = history / "tables" / "user_daily" / f"day={days[0] - dt.timedelta(days=5)}" / "users-1-day.parquet"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"not parquet")

    run = run_action(
        emu, tmp_path / "second", {"report": "users-1-day", "day": days[2].isoformat(), "history": str(history)}
    )

    assert run.code == 0, run.stdout + run.stderr
    assert any("The trends could not be computed from the history:" in line for line in run.warnings)
    assert "### Teams on" in run.summary and "### Trends" not in run.summary
    assert "Traceback" not in run.stdout + run.stderr


def test_a_year_of_files_leaves_room_for_the_figures(tmp_path: Path) -> None:
    folder = tmp_path / "copilot-metrics"
    files = []
    for number in range(3 * 365):
        path = folder / f"2026-{number:04d}" / "users-1-day_part-1.ndjson"
        files.append(DownloadedFile(path, 1000))
    settings = parse_settings(
        {"org": "octo", "token": "t", "report": "users-1-day", "day": "latest", "upload": "false", "path": str(folder)},
        {"GITHUB_WORKSPACE": str(tmp_path)},
    )
    links = ReportLinks(dt.date(2026, 3, 1), dt.date(2026, 3, 2), (), ())
    record = RunRecord(settings, [ReportRun(settings, links, files, folder)], None)

    text = summary.markdown(record, [["### Activity"]])

    assert text.count("users-1-day_part-1.ndjson") == summary.FILE_ROWS
    assert f"_and {3 * 365 - summary.FILE_ROWS:,} more files (the `files` output lists them all)_" in text
    assert "### Activity" in text


def test_team_rows_feed_the_dashboard_as_its_team_days(tmp_path: Path) -> None:
    found = figures.team_figures(run_files(tmp_path), None, 5, tmp_path / "work")

    days = figures.dashboard_team_days(found.rows)

    assert [(d.team, d.active_users, d.interactions, d.code_generations, d.code_acceptances) for d in days] == [
        ("web", 5, 20, 32, 15),
        ("other teams (3)", 9, 40, 65, 37),
    ]
    assert [(d.lines_added, d.ai_credits) for d in days] == [(74, 3.0), (205, 14.5)]
    assert [visible_team(d, 5) for d in days] == [True, True]
