"""The README's history section: its column reference is the tables' own, and its DuckDB query runs."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from action_run import run_action
from copilot_metrics import schema
from copilot_metrics.history.tables import ROW_TABLE, breakdown_columns, row_columns
from demo import DUCKDB_QUERY
from emulator import Emulator

README = Path(__file__).resolve().parents[1] / "README.md"


def meanings() -> dict[str, str]:
    """What each documented path means, entry fields included (relative to their entry)."""
    found: dict[str, str] = {}
    for kind in schema.KINDS:
        for field in schema.fields_of(kind):
            found.setdefault(field.path, field.meaning)
            for item in field.items:
                found.setdefault(item.path, item.meaning)
    return found | {"breakdown": "the array the entry comes from, e.g. totals_by_ide"}


def rows_of(columns: dict[str, str], known: dict[str, str]) -> list[str]:
    lines = []
    for name, type_text in columns.items():
        if type_text.startswith("STRUCT"):
            paths = sorted(path for path in known if path.startswith(f"{name}."))
            lines += [f"| `{path}` | | {known[path]} |" for path in paths]
        else:
            lines.append(f"| `{name}` | {type_text} | {known.get(name, '')} |")
    return lines


def column_reference() -> str:
    known = meanings()
    parts = []
    for kind, table in ROW_TABLE.items():
        parts += [
            f"#### `{table}`",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
            *rows_of(row_columns(kind), known),
            "",
        ]
    parts += ["#### `breakdown_daily`", "", "| column | type | meaning |", "|---|---|---|"]
    parts += rows_of(breakdown_columns(), known)
    return "\n".join(parts) + "\n"


def test_the_readme_documents_every_column_of_every_table() -> None:
    assert column_reference() in README.read_text(encoding="utf-8")


def test_the_readme_duckdb_query_runs_on_a_kept_history(emu: Emulator, tmp_path: Path) -> None:
    newest = emu.window()[1]
    history = tmp_path / "history"
    run = run_action(emu, tmp_path / "step", {"report": "users-1-day", "day": str(newest), "history": str(history)})
    assert run.code == 0, run.stdout
    assert DUCKDB_QUERY.strip() in README.read_text(encoding="utf-8")

    with duckdb.connect() as db:
        rows = db.execute(DUCKDB_QUERY.replace("HISTORY", str(history))).fetchall()

    served = [
        json.loads(line)
        for _, data in emu.expected_files("org", "octo", "users-1-day", newest)
        for line in data.splitlines()
    ]
    assert rows[0][:3] == (newest, len(served), sum(user["code_generation_activity_count"] for user in served))
