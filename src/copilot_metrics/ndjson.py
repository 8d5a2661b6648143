"""Reading report files: one JSON object per line, in constant memory, whatever the file holds.

A report file is trusted for nothing: a line that is not a JSON object is reported as None, a
line longer than MAX_LINE_BYTES is skipped without being read whole, and blank lines are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .schema import ReportKind

Record = dict[str, Any]

# A line longer than this is not a report line but a broken file; reading it whole would break
# the promise of constant memory.
MAX_LINE_BYTES = 64 * 1024 * 1024


def records(path: Path) -> Iterator[Record | None]:
    """Each line's JSON object, or None for a line that is not one; blank lines are left out."""
    with path.open("rb") as lines:
        while line := lines.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                _skip_to_next_line(lines)
                yield None
            elif line.strip():
                yield _decode(line)


def rows(record: Record, kind: ReportKind) -> Iterator[Record]:
    """The rows of one line: the days of a 28-day aggregate's day_totals, or the line itself.

    A day row carries the fields of its line (report window, owner id) along with its own."""
    day_totals = record.get("day_totals") if kind == "aggregate" else None
    if not isinstance(day_totals, list):
        yield record
        return
    outer = {name: value for name, value in record.items() if name != "day_totals"}
    for day in day_totals:
        if isinstance(day, dict):
            yield outer | day


def entries(row: Mapping[str, Any], path: str) -> Iterator[Record]:
    """The object entries of the array at a dotted path of `row`; anything else there is skipped."""
    value: Any = row
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, list):
        yield from (entry for entry in value if isinstance(entry, dict))


def value_at(row: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of `row`, or None."""
    value: Any = row
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _decode(line: bytes) -> Record | None:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _skip_to_next_line(lines: IO[bytes]) -> None:
    while chunk := lines.readline(MAX_LINE_BYTES):
        if chunk.endswith(b"\n"):
            return
