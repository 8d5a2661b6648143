"""GitHub's own documented example rows through the CSV conversion and the summary.

The rows are GitHub's (tests/fixtures/github-docs/README.md names where each comes from). Every
field they hold that GitHub documents must land in a named column, never in other_fields; what
lands in other_fields is exactly what GitHub's field reference leaves undocumented.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot_metrics import schema, summary, tabular
from copilot_metrics.report_figures import figures_of

EXAMPLES = Path(__file__).parent / "fixtures" / "github-docs"
UNDOCUMENTED = {"etl_id", "day_partition", "entity_id_partition"}
CASES = [
    ("enterprise-28-day.ndjson", "enterprise-28-day"),
    ("users-1-day_2025.ndjson", "users-1-day"),
    ("users-1-day.ndjson", "users-1-day"),
    ("repos-1-day.ndjson", "repos-1-day"),
]


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar of a JSON value with its dotted path; array entries are their own rows."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, f"{path}.{name}" if path else name)
    elif not isinstance(value, list):
        yield path, value


def arrays(value: dict[str, Any], path: str = "") -> Iterator[tuple[str, list[Any]]]:
    for name, item in value.items():
        here = f"{path}.{name}" if path else name
        if isinstance(item, list):
            yield here, item
        elif isinstance(item, dict):
            yield from arrays(item, here)


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@pytest.mark.parametrize(("name", "report"), CASES)
def test_every_documented_field_of_githubs_examples_lands_in_a_named_column(
    tmp_path: Path, name: str, report: str
) -> None:
    source = tmp_path / name
    shutil.copyfile(EXAMPLES / name, source)
    lines = [json.loads(line) for line in source.read_text().splitlines()]
    rows = [
        outer | day
        for line in lines
        for outer in [{key: value for key, value in line.items() if key != "day_totals"}]
        for day in line.get("day_totals", [{}])
    ]

    written = tabular.write_csv(source, report)

    main = read(written[0])
    kind = schema.report_named(report).kind
    assert len(main) == len(rows)
    for row, out in zip(rows, main, strict=True):
        other = json.loads(out["other_fields"] or "{}")
        assert set(other) == UNDOCUMENTED & set(row)
        for path, value in leaves(row):
            if path not in UNDOCUMENTED:
                assert out[path] == cell(value), path
    files = {found.path: source.with_name(f"{source.stem}.{found.suffix}.csv") for found in schema.breakdowns(kind)}
    for row in rows:
        for path, entries in arrays(row):
            assert files[path] in written, path
            written_rows = read(files[path])
            for entry in entries:
                assert any(
                    all(out[key] == cell(value) for key, value in leaves(entry)) and out["other_fields"] == ""
                    for out in written_rows
                ), (path, entry)


def test_the_users_csv_has_ide_and_plugin_versions_from_githubs_example(tmp_path: Path) -> None:
    source = tmp_path / "users-1-day.ndjson"
    shutil.copyfile(EXAMPLES / "users-1-day.ndjson", source)

    written = tabular.write_csv(source, "users-1-day")

    by_ide = read(tmp_path / "users-1-day.by_ide.csv")
    assert tmp_path / "users-1-day.by_ide.csv" in written
    assert [(row["user_login"], row["ide"], row["last_known_ide_version.ide_version"]) for row in by_ide] == [
        ("login1", "vscode", "1.85.0")
    ]
    assert by_ide[0]["last_known_plugin_version.sampled_at"] == "2025-10-01T00:00:02.000Z"
    assert "last_known_plugin_version.plugin_version" in by_ide[0]
    main = read(written[0])[0]
    assert (main["ai_credits_used"], main["ai_adoption_phase.phase"], main["used_copilot_app"]) == (
        "12.5",
        "Phase 2",
        "true",
    )
    assert main["totals_by_cli.last_known_cli_version.cli_version"] == "1.0.8"
    assert main["totals_by_copilot_app.token_usage.prompt_tokens_sum"] == "5400"


def test_the_repos_summary_of_githubs_example_names_and_ranks_repositories_by_pull_requests() -> None:
    text = "\n".join(summary.contents_of(figures_of("repos-1-day", [EXAMPLES / "repos-1-day.ndjson"])))

    table = text.split("| Repository |")[1].split("\n\n")[0].splitlines()[2:]
    ranked = [line.split("|")[1].strip() for line in table]
    # Created plus merged: alpha 1 + 1 and delta 0 + 2 tie (then by name) above gamma's 0 + 1.
    assert ranked == [
        "octodemo-metrics/example-service-alpha",
        "octodemo-metrics/example-service-delta",
        "octodemo-metrics/example-service-gamma",
    ]
    assert "**Repositories in the report:** 3  " in text
    # The median is the one GitHub sent, not rounded.
    assert "| octodemo-metrics/example-service-delta | 0 | 2 | n/a | 100% | 372.6 |" in text
    assert "#" not in "".join(ranked)


def test_the_summary_of_githubs_user_example_shows_credits_and_adoption_but_no_login() -> None:
    text = "\n".join(summary.contents_of(figures_of("users-1-day", [EXAMPLES / "users-1-day.ndjson"])))

    assert "| AI credits used | 12.5 |" in text
    assert "| Used the Copilot app | 1 |" in text
    assert "| Used CLI | 1 |" in text
    assert "Used the VS Code Agents window" not in text  # GitHub's example has no such flag
    assert "login1" not in text


def test_the_summary_of_githubs_enterprise_example_adds_up_both_enterprises() -> None:
    text = "\n".join(summary.contents_of(figures_of("enterprise-28-day", [EXAMPLES / "enterprise-28-day.ndjson"])))

    assert "| Daily active users | 4 |" in text
    assert "| Code generations | 4 |" in text
    assert "| Pull requests created | 3 |" in text
    assert "| Created by Copilot | 33% |" in text
    assert "| Copilot CLI | 2 | n/a | n/a |" in text
