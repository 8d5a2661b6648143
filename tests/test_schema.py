"""The schema: the reports as values, the README's column table, and the emulator's lines held to it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot_metrics import schema, tabular
from copilot_metrics.ndjson import rows
from emulator import data

README = Path(__file__).parent.parent / "README.md"
DAY = dt.date(2026, 3, 2)


def test_reports_are_values_with_kind_scope_and_window() -> None:
    repos = schema.report_named("repos-1-day")

    assert (repos.kind, repos.daily) == ("repos", True)
    assert repos.scopes == frozenset({"organization", "enterprise"})
    assert schema.report_named("enterprise-28-day") == schema.Report(
        "enterprise-28-day", "aggregate", frozenset({"enterprise"}), daily=False
    )
    assert f"{repos}" == "repos-1-day"
    assert [report.name for report in schema.reports_of("organization")] == [
        "organization-28-day",
        "users-28-day",
        "organization-1-day",
        "users-1-day",
        "user-teams-1-day",
        "repos-1-day",
    ]
    assert len(schema.REPORTS) == 8
    with pytest.raises(ValueError, match="enterprise-1-week"):
        schema.report_named("enterprise-1-week")


def test_the_readme_column_table_is_the_schemas() -> None:
    text = README.read_text(encoding="utf-8")

    table = text.split("<!-- columns:start -->\n")[1].split("<!-- columns:end -->")[0]

    assert table == tabular.column_table()
    for path in ("repo_owner_name", "pull_request_review_times", "last_known_plugin_version.plugin_version"):
        assert f"| `{path}` |" in table


def test_every_field_has_a_type_unit_meaning_and_kind() -> None:
    fields = [*schema.FIELDS, *(item for field in schema.FIELDS for item in field.items)]

    assert all(field.meaning and field.kinds for field in fields)
    counts = [field for field in fields if field.type in ("integer", "number")]
    assert all(field.unit for field in counts if not field.path.endswith(("_id", "phase_number")))
    paths = [field.path for field in schema.FIELDS]
    assert len(paths) == len(set(paths))


def documented(kind: schema.ReportKind) -> set[str]:
    """Every documented path of a kind, array entries as `array[].field`."""
    paths = set(schema.columns(kind))
    for found in schema.breakdowns(kind):
        paths |= {f"{found.path}[].{column}" for column in found.columns}
    return paths


def paths_of(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from paths_of(item, f"{prefix}.{name}" if prefix else name)
    elif isinstance(value, list):
        if not value:
            yield f"{prefix}[]"
        for entry in value:
            yield from paths_of(entry, f"{prefix}[]")
    else:
        yield prefix


def emulated(kind: schema.ReportKind) -> list[dict[str, Any]]:
    if kind == "aggregate":
        shards = data.aggregate_28_day("s", "organization_id", 7, DAY, DAY + dt.timedelta(days=3))
    elif kind == "users":
        shards = data.users("s", "enterprise_id", 7, [DAY, DAY + dt.timedelta(days=1)], 1)
    elif kind == "user-teams":
        shards = data.user_teams("s", "organization_id", 7, DAY, 1)
    else:
        shards = data.repos("s", "organization_id", 7, "octo", DAY, 1)
    lines = [json.loads(line) for shard in shards for line in shard.splitlines()]
    return [row for line in lines for row in rows(line, kind)]


@pytest.mark.parametrize("kind", schema.KINDS)
def test_the_emulator_writes_every_documented_field_and_nothing_else(kind: schema.ReportKind) -> None:
    seen = {path for row in emulated(kind) for path in paths_of(row)}
    owner_ids = {"organization_id", "enterprise_id"}

    arrays_left_empty = {path for path in seen if path.endswith("[]")}
    assert seen - owner_ids - arrays_left_empty <= documented(kind)
    # Every documented field is there, but the entries of an array GitHub leaves empty in this kind.
    missing = documented(kind) - owner_ids - seen
    assert {path.split("[]")[0] + "[]" for path in missing} <= arrays_left_empty
    assert seen & owner_ids


def test_the_emulator_uses_githubs_types() -> None:
    user = emulated("users")[0]
    repo = emulated("repos")[0]
    day = emulated("aggregate")[0]

    assert isinstance(user["enterprise_id"], str) and isinstance(user["user_id"], int)
    assert isinstance(day["organization_id"], str)
    assert isinstance(repo["repo_id"], int) and repo["repo_owner_name"] == "octo"
    assert "last_known_ide_version" not in user
    assert {"ide_version", "sampled_at"} == set(user["totals_by_ide"][0]["last_known_ide_version"])


def test_the_emulators_figures_keep_githubs_invariants() -> None:
    seats = data.USERS_PER_OWNER
    for day in emulated("aggregate"):
        assert day["daily_active_users"] <= day["weekly_active_users"] <= day["monthly_active_users"] <= seats
        for surface in ("cli", "copilot_app", "copilot_cloud_agent", "copilot_code_review", "vscode_agent"):
            daily, weekly, monthly = (
                day[f"{period}_active_{surface}_users"] for period in ("daily", "weekly", "monthly")
            )
            assert daily <= weekly <= monthly <= seats
        assert (
            sum(phase["total_engaged_users"] for phase in day["totals_by_ai_adoption_phase"])
            == day["daily_active_users"]
        )
    for row in [*emulated("aggregate"), *emulated("users")]:
        for counters in [row, *row["totals_by_ide"], *row["totals_by_feature"], *row["totals_by_model_feature"]]:
            assert counters["code_acceptance_activity_count"] <= counters["code_generation_activity_count"]
        for name in ("ide", "feature", "language_feature", "language_model", "model_feature"):
            for counter in schema.CODE_COUNTERS:
                assert sum(entry[counter] for entry in row[f"totals_by_{name}"]) <= row[counter]
    for row in [*emulated("aggregate"), *emulated("repos")]:
        pulls = row["pull_requests"]
        assert pulls["total_created_by_copilot"] <= pulls["total_created"]
        assert pulls["total_merged_created_by_copilot"] <= min(pulls["total_merged"], pulls["total_created_by_copilot"])
        assert pulls["total_reviewed_by_copilot"] <= pulls["total_reviewed"]
        assert pulls["total_copilot_applied_suggestions"] <= pulls["total_copilot_suggestions"]
        assert pulls["total_copilot_suggestions"] <= pulls["total_suggestions"]
    for repo in emulated("repos"):
        assert all(
            stage["total_merged"] <= repo["pull_requests"]["total_merged"]
            for stage in repo["pull_request_review_times"]
        )


def test_breakdowns_name_their_keys_columns_and_numbers() -> None:
    stages = schema.breakdown("repos", "pull_request_review_times")
    ides = schema.breakdown("users", "totals_by_ide")

    assert (stages.suffix, stages.keys) == ("by_review_times", ("authored_by", "reviewed_by"))
    assert stages.counters[:2] == ("total_merged", "median_minutes_ready_to_first_review")
    assert ides.columns[0] == "ide" and "last_known_plugin_version.plugin_version" in ides.columns
    assert "last_known_ide_version.ide_version" not in ides.counters
    assert "last_known_ide_version.ide_version" not in schema.breakdown("aggregate", "totals_by_ide").columns
    with pytest.raises(KeyError, match="totals_by_ide"):
        schema.breakdown("user-teams", "totals_by_ide")
