"""What a run does with its history: which days it lacks, and keeping the downloaded days in it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from .archive import RAW_SUFFIX, SUM_SUFFIX, DayFiles, DayOutcome, keep_day, raw_prefix, table_key
from .store import Store
from .tables import table_names

Log = Callable[[str], None]
_DAY_KEY = re.compile(r"raw/[^/]+/day=(\d{4}-\d{2}-\d{2})/[^/]+$")
# Beside a day GitHub had no report for once it could no longer revise it, so that `day: missing`
# does not ask for that day on every run. Hive-style readers skip names that start with "_".
NO_REPORT = "_no_report"


def days_kept(store: Store, report: str) -> set[dt.date]:
    """The days of a 1-day report the history holds whole: every shard with its checksum, every table."""
    raw = store.list(f"raw/{report}/")
    keys = set(raw)
    days: dict[str, bool] = {}
    for key in raw:
        match = _DAY_KEY.match(key)
        if match and key.endswith(RAW_SUFFIX):
            day = match.group(1)
            days[day] = days.get(day, True) and key + SUM_SUFFIX in keys
    tables = {key for table in table_names(report) for key in store.list(f"tables/{table}/")}
    return {
        dt.date.fromisoformat(day)
        for day, whole in days.items()
        if whole and all(table_key(table, day, report) in tables for table in table_names(report))
    }


def days_without_report(store: Store, report: str) -> set[dt.date]:
    """The days of a 1-day report the history notes GitHub had no report for."""
    return {
        dt.date.fromisoformat(match.group(1))
        for key in store.list(f"raw/{report}/")
        if key.endswith("/" + NO_REPORT) and (match := _DAY_KEY.match(key))
    }


def note_without_report(store: Store, report: str, days: Sequence[dt.date], before: dt.date, work: Path) -> list[str]:
    """Note each of `days` before `before` (GitHub may still revise the later ones) that GitHub had no
    report for and the history holds nothing of; returns the days noted."""
    noted = []
    for day in sorted(set(days)):
        prefix = raw_prefix(report, f"day={day.isoformat()}")
        if day >= before or store.list(prefix):
            continue
        note = work / NO_REPORT
        note.write_text(f"GitHub had no {report} report for {day.isoformat()}.\n", encoding="utf-8")
        store.write(prefix + NO_REPORT, note)
        noted.append(day.isoformat())
    return noted


def days_to_ask(kept: set[dt.date], window: Sequence[dt.date], revised: int) -> list[dt.date]:
    """Every day of `window` the history lacks, and the last `revised` days again."""
    return sorted({day for day in window if day not in kept} | set(window[-revised:]))


def day_files(report: str, files: Sequence[Path], end_day: dt.date | None, daily: bool) -> list[DayFiles]:
    """The downloaded files grouped by the partition they go to (1-day reports sit in a folder per day)."""
    if not daily:
        assert end_day is not None
        return [DayFiles(report, f"end_day={end_day.isoformat()}", tuple(files))] if files else []
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(path.parent.name, []).append(path)
    return [DayFiles(report, f"day={day}", tuple(paths)) for day, paths in sorted(groups.items())]


def keep(store: Store, days: Sequence[DayFiles], work: Path, log: Log) -> list[DayOutcome]:
    """Keep each day in the store, oldest first; stops at the first failure, having lost nothing."""
    outcomes = []
    for day in days:
        outcome = keep_day(store, day, work, log)
        log(f"{day.report} {day.day}: {outcome.change}")
        outcomes.append(outcome)
    return outcomes
