"""NDJSON report files -> CSV files a spreadsheet or a warehouse loader opens directly.

Files written next to ``<stem>.ndjson`` (RFC 4180, UTF-8 without BOM, ``\\r\\n`` line ends, one
header row): ``<stem>.csv``, one row per row of the report (per day of an organization or
enterprise report, per user and day, per membership, per repository and day), and one file per
array the report's rows carry, ``<stem>.by_ide.csv`` and so on, one row per entry, led by the
columns that name its row. The columns of each kind of report are its documented fields, in the
schema's order (see schema.py and the README's column table).

Column rule, the same for every file of a kind whatever the data holds, so that a file loads into
the same table every day: first the documented columns; nested objects are flattened with a dot
(``pull_requests.total_created``); a documented field that is missing is an empty cell. Last
comes one ``other_fields`` column: every field the documentation does not list (new fields GitHub
adds, unexpected nesting), as one JSON object keyed by the flattened path, keys sorted, empty when
there is none. A dot inside a key is written ``\\.`` in that path, so that ``{"a.b": 1}`` and
``{"a": {"b": 2}}`` stay two values. Nothing is dropped and no column appears or moves because of
the data. Booleans are ``true``/``false``; lists and objects in a cell are JSON.

Text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading
``'``, so that a spreadsheet shows them as text instead of running them as formulas (report
strings such as IDE, model or version names come from clients). Numbers are never changed.

Only ``.ndjson`` files are converted, and the names ending in ``.csv`` are the conversion's: see
``is_derived_name``. Lines that are not JSON objects are skipped; blank lines are ignored. Files
are converted line by line, in constant memory, and appear only once complete.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from .ndjson import Record, entries, records, rows, value_at
from .schema import FIELDS, IDENTITY, KINDS, Breakdown, Field, Report, breakdowns, columns, report_named

OTHER_FIELDS = "other_fields"
CONVERTED_SUFFIX = ".ndjson"
DERIVED_SUFFIX = ".csv"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_derived_name(name: str) -> bool:
    """True for a file name the CSV conversion may write: a downloaded file must not take it."""
    return name.lower().endswith(DERIVED_SUFFIX)


def csv_paths(ndjson: Path, report: Report | str) -> list[Path]:
    """The CSV files write_csv makes for `ndjson`, main file first; none for a file that is not NDJSON."""
    if ndjson.suffix.lower() != CONVERTED_SUFFIX:
        return []
    kind = report_named(report).kind
    suffixes = ["", *(f".{found.suffix}" for found in breakdowns(kind))]
    return [ndjson.with_name(f"{ndjson.stem}{suffix}{DERIVED_SUFFIX}") for suffix in suffixes]


def write_csv(ndjson: Path, report: Report | str) -> list[Path]:
    """Convert one NDJSON report file to CSV files next to it; returns their paths, main file first."""
    kind = report_named(report).kind
    targets = csv_paths(ndjson, report)
    if not targets:
        return []
    partials = [target.with_name(target.name + ".partial") for target in targets]
    try:
        with ExitStack() as stack:
            main, *by_entry = [_writer(stack.enter_context(_open(partial))) for partial in partials]
            _convert(ndjson, report_named(report), main, dict(zip(breakdowns(kind), by_entry, strict=True)))
        for partial, target in zip(partials, targets, strict=True):
            os.replace(partial, target)
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)
    return targets


def _convert(ndjson: Path, report: Report, main: Any, by_entry: Mapping[Breakdown, Any]) -> None:
    kind = report.kind
    scalars = columns(kind)
    lead = IDENTITY[kind]
    own_files = _tree(found.path for found in by_entry)
    main.writerow([*scalars, OTHER_FIELDS])
    for found, writer in by_entry.items():
        writer.writerow([*lead, *found.columns, OTHER_FIELDS])
    for record in records(ndjson):
        for row in rows(record, kind) if record is not None else ():
            main.writerow(_cells(_without(row, own_files), scalars))
            ids = [_cell(value_at(row, name)) for name in lead]
            for found, writer in by_entry.items():
                for entry in entries(row, found.path):
                    writer.writerow([*ids, *_cells(entry, found.columns)])


Tree = dict[str, "Tree"]


def _tree(paths: Iterable[str]) -> Tree:
    """Dotted paths as nested names; a leaf is an empty tree."""
    tree: Tree = {}
    for path in paths:
        node = tree
        for name in path.split("."):
            node = node.setdefault(name, {})
    return tree


def _without(row: Record, arrays: Tree) -> Record:
    """The row less the arrays that have files of their own, wherever they nest."""
    kept: Record = {}
    for name, value in row.items():
        inner = arrays.get(name)
        if inner is None:
            kept[name] = value
        elif inner:
            kept[name] = _without(value, inner) if isinstance(value, dict) else value
        elif not isinstance(value, list):
            kept[name] = value
    return kept


def _cells(row: Mapping[str, Any], names: Sequence[str]) -> list[Any]:
    flat = flatten(row)
    cells = [_cell(flat.pop(name, None)) for name in names]
    other = json.dumps(flat, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if flat else ""
    return [*cells, _inert(other)]


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as one level of `a.b` paths; lists and empty objects stay values.

    A dot or backslash inside a key is escaped with a backslash, so no two values share a path."""
    flat: dict[str, Any] = {}
    for name, item in value.items():
        path = prefix + name.replace("\\", "\\\\").replace(".", "\\.")
        if isinstance(item, dict) and item:
            flat.update(flatten(item, f"{path}."))
        else:
            flat[path] = item
    return flat


def _cell(value: Any) -> Any:
    """What the csv module writes as the cell: it writes None as empty and numbers as str() does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, str):
        return _inert(value)
    return value


def _inert(text: str) -> str:
    """Text a spreadsheet shows as text: a leading ' before what it would read as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _open(path: Path) -> IO[str]:
    # newline="" hands line ends to the csv module, which writes RFC 4180's \r\n.
    return path.open("w", encoding="utf-8", newline="")


def _writer(stream: IO[str]) -> Any:
    return csv.writer(stream, lineterminator="\r\n")


def column_table() -> str:
    """The README's table of every documented column: which file holds it, its type, unit and meaning."""
    lines = ["| Column | File | Reports | Type | Unit | Meaning |", "| --- | --- | --- | --- | --- | --- |"]
    for field in FIELDS:
        if field.type != "array":
            lines.append(_table_row(field, field.path, "`<stem>.csv`"))
            continue
        suffix = f"`<stem>.{_suffix_of(field.path)}.csv`"
        lines.append(_table_row(field, field.path, suffix, f"one row per entry: {field.meaning}"))
        lines += [_table_row(item, item.path, suffix) for item in field.items]
    return "\n".join(lines) + "\n"


def _table_row(field: Field, path: str, file: str, meaning: str = "") -> str:
    kinds = ", ".join(kind for kind in KINDS if kind in field.kinds)
    unit = field.unit if field.type != "array" else ""
    cells = [f"`{path}`", file, kinds, field.type, unit, meaning or field.meaning]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _suffix_of(path: str) -> str:
    return next(found.suffix for kind in KINDS for found in breakdowns(kind) if found.path == path)
