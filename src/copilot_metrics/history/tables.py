"""Typed Parquet tables derived from a day's raw report files, by DuckDB.

Each report day gives one Parquet object per table (`tables/<table>/day=YYYY-MM-DD/<report>.parquet`):

- `daily`: organization / enterprise 1-day reports, one row per scope and day;
- `user_daily`: users reports, one row per user and day;
- `breakdown_daily`: every `totals_by_*` list, one row per entry, per scope-day (aggregate reports)
  or per user-day (users reports), named by its `breakdown` column;
- `user_team_daily`: user-teams reports, one row per user, team and day;
- `repo_daily`: repos reports, one row per repository and day.

Top-level columns keep GitHub's field names; nested objects stay structs with GitHub's names
inside, so `pull_requests.total_created` reads the same in DuckDB, Spark, Athena and BigQuery.
The NDJSON is parsed once, with explicit column types (a field a file lacks is NULL, a field
the schema does not know is left out), under a memory limit that spills to disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import HistoryError
from ..tabular import BREAKDOWNS, COUNTERS, LAYOUTS, ReportKind, report_kind

MEMORY_LIMIT = "160MB"
THREADS = 2
PARQUET = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"

TABLES_OF: Mapping[ReportKind, tuple[str, ...]] = {
    "aggregate": ("daily", "breakdown_daily"),
    "users": ("user_daily", "breakdown_daily"),
    "user-teams": ("user_team_daily",),
    "repos": ("repo_daily",),
}
_ROW_TABLE: Mapping[ReportKind, str] = {
    "aggregate": "daily",
    "users": "user_daily",
    "user-teams": "user_team_daily",
    "repos": "repo_daily",
}
# Breakdown entries: the fields that name an entry, in one column each across every list.
_ENTRY_KEYS = ("ide", "feature", "language", "model")
_BREAKDOWN_IDS: Mapping[ReportKind, tuple[str, ...]] = {
    "aggregate": ("day", "organization_id", "enterprise_id"),
    "users": ("day", "organization_id", "enterprise_id", "user_id", "user_login"),
}


@dataclass(frozen=True)
class Column:
    path: str  # dotted for a field inside an object
    type: str  # DuckDB's type name


def table_names(report: str) -> tuple[str, ...]:
    """The tables a report's days give."""
    return TABLES_OF[report_kind(report)]


def build(report: str, files: Sequence[Path], scratch: Path) -> dict[str, Path]:
    """Each table of `report` for the day in `files`, as a Parquet file in `scratch`."""
    try:
        return _build(report_kind(report), files, scratch)
    except duckdb.Error as failure:
        raise HistoryError(
            f"DuckDB could not derive the tables of the {report} report ({type(failure).__name__}: "
            f"{str(failure).splitlines()[0][:300]}). The history's days are unchanged; re-run the job."
        ) from None


def _build(kind: ReportKind, files: Sequence[Path], scratch: Path) -> dict[str, Path]:
    spill = scratch / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "threads": THREADS,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    ) as db:
        staged = scratch / "staged.parquet"
        db.execute(f"COPY (SELECT * FROM {_read_json(kind, files)}) TO {_quoted(str(staged))} {PARQUET}")
        written = {}
        for table in TABLES_OF[kind]:
            target = scratch / f"{table}.parquet"
            query = _breakdown_query(kind, staged) if table == "breakdown_daily" else _row_query(kind, staged)
            db.execute(f"COPY ({query}) TO {_quoted(str(target))} {PARQUET}")
            written[table] = target
        staged.unlink()
    return written


def columns_of(kind: ReportKind) -> list[Column]:
    """The report kind's fields, as the tables type them."""
    fields = [Column(path, _type_of(path)) for path in LAYOUTS[kind].columns if path not in _WINDOW]
    if kind in _BREAKDOWN_IDS:
        fields += [Column(name, "STRUCT_LIST") for name in BREAKDOWNS]
    return fields


_WINDOW = ("report_start_day", "report_end_day")


def _type_of(path: str) -> str:
    name = path.rsplit(".", 1)[-1]
    if name == "day":
        return "DATE"
    if name in ("organization_id", "enterprise_id"):
        return "VARCHAR"
    if name.startswith("used_"):
        return "BOOLEAN"
    if name.startswith(("avg_", "median_")) or name == "ai_credits_used":
        return "DOUBLE"
    if name.endswith(("_count", "_sum", "_users", "_id")) or name.startswith("total_"):
        return "BIGINT"
    return "VARCHAR"


def _entry_type() -> str:
    fields = [f"{key} VARCHAR" for key in _ENTRY_KEYS] + [f"{name} BIGINT" for name in COUNTERS]
    return f"STRUCT({', '.join(fields)})[]"


def _json_types(kind: ReportKind) -> dict[str, str]:
    """Top-level field -> DuckDB type, nested objects as STRUCTs built from the dotted paths."""
    tree: dict[str, object] = {}
    for column in columns_of(kind):
        node = tree
        *parents, leaf = column.path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[leaf] = _entry_type() if column.type == "STRUCT_LIST" else column.type
    return {name: _type_text(node) for name, node in tree.items()}


def _type_text(node: object) -> str:
    if isinstance(node, str):
        return node
    assert isinstance(node, dict)
    return f"STRUCT({', '.join(f'{_ident(name)} {_type_text(child)}' for name, child in node.items())})"


def _read_json(kind: ReportKind, files: Sequence[Path]) -> str:
    types = ", ".join(f"{_quoted(name)}: {_quoted(text)}" for name, text in _json_types(kind).items())
    paths = ", ".join(_quoted(str(path)) for path in files)
    return (
        f"read_json([{paths}], format = 'newline_delimited', columns = {{{types}}}, "
        "compression = 'auto', maximum_object_size = 8388608, ignore_errors = true)"
    )


def _row_query(kind: ReportKind, staged: Path) -> str:
    names = [name for name in _json_types(kind) if name not in BREAKDOWNS]
    return f"SELECT {', '.join(_ident(name) for name in names)} FROM read_parquet({_quoted(str(staged))})"


def _breakdown_query(kind: ReportKind, staged: Path) -> str:
    ids = ", ".join(f"s.{_ident(name)}" for name in _BREAKDOWN_IDS[kind])
    entry = ", ".join(f"e.{_ident(name)}" for name in (*_ENTRY_KEYS, *COUNTERS))
    source = f"read_parquet({_quoted(str(staged))})"
    parts = [
        f"SELECT {ids}, {_quoted(name)} AS breakdown, {entry} FROM {source} AS s, unnest(s.{_ident(name)}) AS u(e)"
        for name in BREAKDOWNS
    ]
    return " UNION ALL ".join(parts)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
