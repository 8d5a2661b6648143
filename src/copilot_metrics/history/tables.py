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

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import duckdb

from .. import schema
from ..errors import HistoryError
from ..schema import Field, ReportKind

# One thread: DuckDB's memory grows with its threads, and the raw files compress meanwhile.
MEMORY_LIMIT = "160MB"
THREADS = 1
# A row group of breakdown_daily's 60 columns is buffered whole before it is written: 32768 rows
# fit the memory limit, where 122880 spilled to disk.
PARQUET = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 32768)"

TABLES_OF: Mapping[ReportKind, tuple[str, ...]] = {
    "aggregate": ("daily", "breakdown_daily"),
    "users": ("user_daily", "breakdown_daily"),
    "user-teams": ("user_team_daily",),
    "repos": ("repo_daily", "breakdown_daily"),
}
ROW_TABLE: Mapping[ReportKind, str] = {
    "aggregate": "daily",
    "users": "user_daily",
    "user-teams": "user_team_daily",
    "repos": "repo_daily",
}
_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE"}
_BREAKDOWN_KINDS: tuple[ReportKind, ...] = ("aggregate", "users", "repos")
# A type tree: a DuckDB type name, a struct (name -> tree), or a list of a struct ([tree]).
Tree = str | dict[str, "Tree"] | list["Tree"]


def table_names(report: str) -> tuple[str, ...]:
    """The tables a report's days give."""
    return TABLES_OF[schema.report_named(report).kind]


def build(report: str, files: Sequence[Path], scratch: Path, only: Sequence[str] = ()) -> dict[str, Path]:
    """Each table of `report` (or those of them in `only`) for the day in `files`, as a Parquet file in `scratch`."""
    kind = schema.report_named(report).kind
    try:
        return _build(kind, files, scratch, [table for table in TABLES_OF[kind] if not only or table in only])
    except duckdb.Error as failure:
        raise HistoryError(
            f"DuckDB could not derive the tables of the {report} report ({type(failure).__name__}: "
            f"{str(failure).splitlines()[0][:300]}). The history's days are unchanged; re-run the job."
        ) from None


def connect(spill: Path, threads: int = THREADS) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection held to the history's memory bound, spilling to `spill` beyond it."""
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "threads": threads,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    )


def _build(kind: ReportKind, files: Sequence[Path], scratch: Path, names: Sequence[str]) -> dict[str, Path]:
    with connect(scratch / "spill") as db:
        # The NDJSON is parsed once, into a temporary table (DuckDB's own storage, which spills to
        # `spill` beyond the memory limit) that each table then reads. breakdown_daily is written
        # array by array: a row group's columns that its array lacks are then NULL throughout,
        # which the Parquet writer keeps in less memory and stores smaller than rows that mix
        # the arrays (peak RSS 126 against 160 MiB for 10 MiB of users report; 7 against 17 MB of
        # Parquet for 1 GiB), in the same time.
        db.execute(f"CREATE TEMPORARY TABLE staged AS SELECT * FROM {read_json_source(kind, files)}")
        written = {}
        for table in names:
            target = scratch / f"{table}.parquet"
            query = _array_by_array(kind, "staged") if table == "breakdown_daily" else row_query(kind, "staged")
            db.execute(f"COPY ({query}) TO {sql_string(str(target))} {PARQUET}")
            written[table] = target
    return written


def _array_by_array(kind: ReportKind, source: str) -> str:
    """breakdown_daily as one query per array: each reads `source` again, cheap for a table."""
    arrays = _arrays(schema.fields_of(kind))
    return " UNION ALL ".join(f"({breakdown_query(kind, source, [field.path])})" for field in arrays)


def row_columns(kind: ReportKind) -> dict[str, str]:
    """The columns of a kind's row table and their types: every documented field but the arrays,
    nested objects as structs."""
    return {name: _type_text(tree) for name, tree in _tree(schema.fields_of(kind), arrays=False).items()}


def breakdown_columns() -> dict[str, str]:
    """The columns of breakdown_daily, the same for every report: what leads each row back to its
    scope, user or repository, the array it came from, then every documented entry field."""
    leading: dict[str, str] = {}
    for kind in _BREAKDOWN_KINDS:
        for name in schema.IDENTITY[kind]:
            leading.setdefault(name, _type_text(_tree(schema.fields_of(kind), arrays=False)[name]))
    return leading | {"breakdown": "VARCHAR"} | {name: _type_text(tree) for name, tree in _entry_tree().items()}


def _entry_tree() -> dict[str, Tree]:
    entries: dict[str, Tree] = {}
    for kind in _BREAKDOWN_KINDS:
        for field in _arrays(schema.fields_of(kind)):
            for name, tree in _tree(field.items, arrays=True).items():
                entries.setdefault(name, tree)
    return entries


def _arrays(fields: Iterable[Field]) -> list[Field]:
    return [field for field in fields if field.type == "array"]


def _tree(fields: Iterable[Field], arrays: bool) -> dict[str, Tree]:
    """Fields with dotted paths as nested structs; arrays as lists of their entries (or left out)."""
    root: dict[str, Tree] = {}
    for field in fields:
        if field.type == "object" or (field.type == "array" and not arrays):
            continue
        node = root
        *parents, leaf = field.path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[leaf] = [_tree(field.items, arrays=True)] if field.type == "array" else _TYPES[field.type]
    return root


def _type_text(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    if isinstance(tree, list):
        return f"{_type_text(tree[0])}[]"
    return f"STRUCT({', '.join(f'{sql_name(name)} {_type_text(child)}' for name, child in tree.items())})"


def json_columns(kind: ReportKind) -> dict[str, str]:
    """The columns read from a kind's NDJSON lines and their types: every documented field, arrays
    as lists of structs."""
    return {name: _type_text(tree) for name, tree in _tree(schema.fields_of(kind), arrays=True).items()}


def read_json_source(kind: ReportKind, files: Sequence[Path], extra: Mapping[str, str] | None = None) -> str:
    """A DuckDB table function reading `files` with the kind's columns (and `extra` ones, name -> type)."""
    columns = json_columns(kind) | dict(extra or {})
    types = ", ".join(f"{sql_string(name)}: {sql_string(type_text)}" for name, type_text in columns.items())
    return (
        f"read_json({sql_paths(files)}, format = 'newline_delimited', columns = {{{types}}}, "
        "compression = 'auto', ignore_errors = true)"
    )


def row_query(kind: ReportKind, source: str) -> str:
    """The row table: structs that hold an array in the file are rebuilt without it."""
    parts = []
    for name, type_text in row_columns(kind).items():
        parts.append(f"CAST({sql_name(name)} AS {type_text}) AS {sql_name(name)}")
    return f"SELECT {', '.join(parts)} FROM {source}"


def breakdown_query(kind: ReportKind, source: str, arrays: Collection[str] = ()) -> str:
    """The breakdown_daily rows of `source`: of every array of the kind, or of those in `arrays`.

    One pass over `source`: each row's arrays are cast to one entry type (the fields any of them
    holds, NULL where an array lacks one), listed beside their names, and unnested twice. Rows
    come out row by row rather than array by array."""
    columns = breakdown_columns()
    ids = [name for name in columns if name in schema.IDENTITY[kind]]
    fields = [field for field in _arrays(schema.fields_of(kind)) if not arrays or field.path in arrays]
    held = list(dict.fromkeys(name for field in fields for name in _tree(field.items, arrays=True)))
    entry_type = _type_text({name: columns[name] for name in held})
    lists = ", ".join(f"CAST(s.{sql_path(field.path)} AS {entry_type}[])" for field in fields)
    names = ", ".join(sql_string(field.path) for field in fields)
    per_array = (
        f"SELECT {', '.join(f's.{sql_name(name)}' for name in ids)}, "
        f"unnest([{names}]) AS breakdown, unnest([{lists}]) AS entries FROM {source} AS s"
    )
    named = " ".join(f"WHEN {sql_string(field.path)} THEN {_is_named(field)}" for field in fields)
    leading = ", ".join(sql_name(name) for name in ids)
    per_entry = f"SELECT {leading}, breakdown, unnest(entries) AS e FROM ({per_array})"
    selected = ", ".join(
        f"CAST({_breakdown_value(name, ids, held)} AS {type_text}) AS {sql_name(name)}"
        for name, type_text in columns.items()
    )
    return f"SELECT {selected} FROM ({per_entry}) WHERE CASE breakdown {named} END"


def _breakdown_value(name: str, ids: Sequence[str], held: Sequence[str]) -> str:
    if name in ids or name == "breakdown":
        return sql_name(name)
    return f"e.{sql_name(name)}" if name in held else "NULL"


def _is_named(array: Field) -> str:
    """Whether an entry `e` of the array has a field that names it (its IDE, feature, ...): an
    entry that is not a JSON object reads as a struct of NULLs, and gives no row."""
    return "(" + " OR ".join(f"e.{sql_name(key)} IS NOT NULL" for key in array.keys) + ")"


def sql_string(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_path(dotted: str) -> str:
    """A dotted field path (`pull_requests.total_created`) as quoted SQL identifiers."""
    return ".".join(sql_name(part) for part in dotted.split("."))


def sql_paths(paths: Sequence[Path]) -> str:
    """File paths as an SQL list of string literals, for DuckDB's readers."""
    return "[" + ", ".join(sql_string(str(path)) for path in paths) + "]"
