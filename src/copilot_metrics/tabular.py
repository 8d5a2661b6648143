"""NDJSON report files -> CSV files a spreadsheet or a warehouse loader opens directly.

Files written next to ``<stem>.ndjson`` (RFC 4180, UTF-8 without BOM, ``\\r\\n`` line ends, one
header row):

- organization / enterprise reports (28-day and 1-day): ``<stem>.csv``, one row per day, and one
  file per breakdown, one row per day and key: ``<stem>.by_ide.csv``, ``<stem>.by_feature.csv``,
  ``<stem>.by_language_feature.csv``, ``<stem>.by_language_model.csv``, ``<stem>.by_model_feature.csv``;
- users reports: ``<stem>.csv``, one row per user and day, and the same five breakdown files, one
  row per user, day and key;
- user-teams and repos reports: ``<stem>.csv``, one row per line of the report.

Column rule, the same for every file of a kind whatever the data holds, so that a file loads
into the same table every day: first a fixed list of known columns, in the order of GitHub's
documentation; nested objects are flattened with a dot (``pull_requests.total_created``); a known
field that is missing is an empty cell. Last comes one ``other_fields`` column: every field not
in the fixed list (new fields GitHub adds, unexpected nesting) as one JSON object keyed by the
flattened ``a.b`` path, keys sorted, empty when there is none. Nothing is dropped and no column
appears or moves because of the data. Booleans are ``true``/``false``; lists and objects in a
known column are JSON.

Lines that are not JSON objects are skipped; blank lines are ignored. Files are converted line
by line, in constant memory, and appear only once complete.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

ReportKind = Literal["aggregate", "users", "user-teams", "repos"]
Record = dict[str, Any]

# A line longer than this is not a report line but a broken file; reading it whole would break
# the promise of constant memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
OTHER_FIELDS = "other_fields"

OWNER_IDS = ("organization_id", "enterprise_id")
ACTIVE_USERS = (
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
    "monthly_active_chat_users",
    "monthly_active_agent_users",
)
COUNTERS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)
CLI = (
    "totals_by_cli.session_count",
    "totals_by_cli.request_count",
    "totals_by_cli.prompt_count",
    "totals_by_cli.token_usage.output_tokens_sum",
    "totals_by_cli.token_usage.prompt_tokens_sum",
    "totals_by_cli.token_usage.avg_tokens_per_request",
)
PULL_REQUESTS = (
    "pull_requests.total_created",
    "pull_requests.total_reviewed",
    "pull_requests.total_merged",
    "pull_requests.total_created_by_copilot",
    "pull_requests.total_reviewed_by_copilot",
    "pull_requests.total_merged_created_by_copilot",
    "pull_requests.median_minutes_to_merge",
)
# Breakdown list -> (file suffix, the fields naming one entry).
BREAKDOWNS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "totals_by_ide": ("by_ide", ("ide",)),
    "totals_by_feature": ("by_feature", ("feature",)),
    "totals_by_language_feature": ("by_language_feature", ("language", "feature")),
    "totals_by_language_model": ("by_language_model", ("language", "model")),
    "totals_by_model_feature": ("by_model_feature", ("model", "feature")),
}


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of report: its rows, and which of them lead each breakdown row."""

    columns: tuple[str, ...]
    breakdown_ids: tuple[str, ...] | None  # None: breakdowns stay in other_fields, no extra files


LAYOUTS: Mapping[ReportKind, Layout] = {
    "aggregate": Layout(
        ("day", "report_start_day", "report_end_day", *OWNER_IDS, *ACTIVE_USERS, *COUNTERS, *CLI, *PULL_REQUESTS),
        ("day", *OWNER_IDS),
    ),
    "users": Layout(
        (
            "day",
            "user_id",
            "user_login",
            *OWNER_IDS,
            *COUNTERS,
            "used_agent",
            "used_chat",
            "used_cli",
            "last_known_ide_version.ide",
            "last_known_ide_version.ide_version",
            "ai_credits_used",
            *CLI,
        ),
        ("day", "user_id", "user_login"),
    ),
    "user-teams": Layout(("day", "user_id", "user_login", "team_id", "slug", *OWNER_IDS), None),
    "repos": Layout(("day", "repository_id", "repository", *OWNER_IDS, *COUNTERS, *PULL_REQUESTS), None),
}


def report_kind(report: str) -> ReportKind:
    """Which shape of file an API report name gives."""
    if report.startswith("users-"):
        return "users"
    if report.startswith("user-teams-"):
        return "user-teams"
    if report.startswith("repos-"):
        return "repos"
    return "aggregate"


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


def breakdown_entries(row: Mapping[str, Any], name: str) -> Iterator[Record]:
    """The entries of one breakdown list that are objects; anything else there is not a breakdown."""
    entries = row.get(name)
    if isinstance(entries, list):
        yield from (entry for entry in entries if isinstance(entry, dict))


def number(value: Any) -> int | float | None:
    """A JSON number, or None: booleans and numeric strings are not counts."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def csv_paths(ndjson: Path, report: str) -> list[Path]:
    """The CSV files write_csv makes for `ndjson`, main file first."""
    layout = LAYOUTS[report_kind(report)]
    suffixes = [""] if layout.breakdown_ids is None else ["", *(f".{s}" for s, _ in BREAKDOWNS.values())]
    return [ndjson.with_name(f"{ndjson.stem}{suffix}.csv") for suffix in suffixes]


def write_csv(ndjson: Path, report: str) -> list[Path]:
    """Convert one NDJSON report file to CSV files next to it; returns their paths, main file first."""
    kind = report_kind(report)
    layout = LAYOUTS[kind]
    targets = csv_paths(ndjson, report)
    partials = [target.with_name(target.name + ".partial") for target in targets]
    try:
        with ExitStack() as stack:
            writers = [_writer(stack.enter_context(_open(partial))) for partial in partials]
            _convert(ndjson, kind, layout, writers)
        for partial, target in zip(partials, targets, strict=True):
            os.replace(partial, target)
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)
    return targets


def _convert(ndjson: Path, kind: ReportKind, layout: Layout, writers: Sequence[Any]) -> None:
    main, *by_key = writers
    ids = layout.breakdown_ids or ()
    # Kinds without breakdown files have no writers for them, hence no strict zip.
    breakdowns = [(name, keys, writer) for (name, (_, keys)), writer in zip(BREAKDOWNS.items(), by_key, strict=False)]
    main.writerow([*layout.columns, OTHER_FIELDS])
    for _, keys, writer in breakdowns:
        writer.writerow([*ids, *keys, *COUNTERS, OTHER_FIELDS])
    own_files = {name for name, _, _ in breakdowns}
    for record in records(ndjson):
        for row in rows(record, kind) if record is not None else ():
            main.writerow(_cells(row, layout.columns, own_files))
            lead = [_cell(value) for value in _lookup(row, ids)]
            for name, keys, writer in breakdowns:
                for entry in breakdown_entries(row, name):
                    writer.writerow([*lead, *_cells(entry, (*keys, *COUNTERS), set())])


def _lookup(row: Mapping[str, Any], columns: Sequence[str]) -> list[Any]:
    flat = flatten({name: value for name, value in row.items() if not isinstance(value, list)})
    return [flat.get(column) for column in columns]


def _cells(row: Mapping[str, Any], columns: Sequence[str], left_out: set[str]) -> list[Any]:
    flat = flatten({name: value for name, value in row.items() if name not in left_out or not isinstance(value, list)})
    cells = [_cell(flat.pop(column, None)) for column in columns]
    other = json.dumps(flat, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if flat else ""
    return [*cells, other]


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as one level of `a.b` paths; lists and empty objects stay values."""
    flat: dict[str, Any] = {}
    for name, item in value.items():
        path = f"{prefix}{name}"
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
    return value


def _open(path: Path) -> IO[str]:
    # newline="" hands line ends to the csv module, which writes RFC 4180's \r\n.
    return path.open("w", encoding="utf-8", newline="")


def _writer(stream: IO[str]) -> Any:
    return csv.writer(stream, lineterminator="\r\n")


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
