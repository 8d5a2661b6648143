"""Checking a history against itself, and deriving its tables again from its raw files."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .archive import RAW_SUFFIX, SUM_SUFFIX, served_sha256, table_key
from .store import Store
from .tables import build, table_names
from .team_table import keep_team_days

Log = Callable[[str], None]
NOT_GZIP = "not a whole gzip file"
_PARTITION = re.compile(r"raw/([^/]+)/((?:end_)?day=\d{4}-\d{2}-\d{2})/")


@dataclass(frozen=True)
class Partition:
    report: str
    partition: str  # "day=YYYY-MM-DD" or "end_day=YYYY-MM-DD"
    keys: tuple[str, ...]

    @property
    def day(self) -> str:
        return self.partition.partition("=")[2]

    @property
    def daily(self) -> bool:
        return self.partition.startswith("day=")

    @property
    def data_keys(self) -> list[str]:
        return [key for key in self.keys if key.endswith(RAW_SUFFIX)]


def partitions(store: Store) -> Iterator[Partition]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for key in store.list("raw/"):
        match = _PARTITION.match(key)
        if match:
            grouped.setdefault((match.group(1), match.group(2)), []).append(key)
    for (report, partition), keys in sorted(grouped.items()):
        yield Partition(report, partition, tuple(keys))


def verify(store: Store, log: Log) -> list[str]:
    """Every problem found: raw files against their checksums, tables against their raw files."""
    problems: list[str] = []
    tables = set(store.list("tables/"))
    for part in partitions(store):
        with tempfile.TemporaryDirectory(prefix="copilot-history-") as scratch:
            found = _raw_problems(store, part, Path(scratch))
            # Tables cannot be derived from a raw file that does not gunzip; that file is the problem.
            if not any(problem.endswith(NOT_GZIP) for problem in found):
                found += _table_problems(store, part, tables, Path(scratch))
        log(f"{part.report} {part.partition}: {'ok' if not found else f'{len(found)} problem(s)'}")
        problems += found
    return problems


def rebuild(store: Store, log: Log) -> int:
    """Every table again from the raw files (after a schema change); returns the days rebuilt."""
    count = 0
    rebuilt: set[str] = set()
    for part in partitions(store):
        if not part.daily or not part.data_keys:
            continue
        with tempfile.TemporaryDirectory(prefix="copilot-history-") as scratch:
            for table, path in sorted(
                build(part.report, _downloaded(store, part, Path(scratch)), Path(scratch)).items()
            ):
                store.write(table_key(table, part.day, part.report), path)
        log(f"{part.report} {part.day}: tables rebuilt")
        count += 1
        rebuilt.add(part.day)
    # The team days derive from the rebuilt user and membership tables, so they go again too.
    with tempfile.TemporaryDirectory(prefix="copilot-history-") as scratch:
        keep_team_days(store, rebuilt, Path(scratch), log)
    if count:
        store.finish(f"Rebuild the tables of {count} day(s)")
    return count


def _raw_problems(store: Store, part: Partition, scratch: Path) -> list[str]:
    problems = []
    keys = set(part.keys)
    for key in part.keys:
        if key.endswith(SUM_SUFFIX) and key.removesuffix(SUM_SUFFIX) not in keys:
            problems.append(f"{key}: a checksum without its data object")
    for key in part.data_keys:
        if key + SUM_SUFFIX not in keys:
            problems.append(f"{key}: no {SUM_SUFFIX} beside it")
            continue
        expected = store.read(key + SUM_SUFFIX).decode("ascii", "replace").split()[:1]
        target = scratch / "check.gz"
        store.download(key, target)
        actual = served_sha256(target)
        if actual is None:
            problems.append(f"{key}: {NOT_GZIP}")
        elif [actual] != expected:
            problems.append(f"{key}: its content does not match its checksum")
    return problems


def _table_problems(store: Store, part: Partition, tables: set[str], scratch: Path) -> list[str]:
    if not part.daily or not part.data_keys:
        return []
    expected = {table: table_key(table, part.day, part.report) for table in table_names(part.report)}
    problems = [f"{key}: missing" for key in expected.values() if key not in tables]
    if problems:
        return problems
    derived = build(part.report, _downloaded(store, part, scratch), scratch / "derived")
    for table, key in expected.items():
        stored = scratch / f"stored-{table}.parquet"
        store.download(key, stored)
        if not _same_rows(stored, derived[table]):
            problems.append(f"{key}: differs from its raw files (run: copilot-metrics history rebuild)")
    return problems


def _downloaded(store: Store, part: Partition, scratch: Path) -> list[Path]:
    folder = scratch / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, key in enumerate(part.data_keys):
        target = folder / f"{number}{RAW_SUFFIX}"
        store.download(key, target)
        paths.append(target)
    return paths


def _same_rows(stored: Path, derived: Path) -> bool:
    """Both tables hold the same rows (as multisets), compared by DuckDB."""
    query = (
        "SELECT (SELECT count(*) FROM (FROM read_parquet($1) EXCEPT ALL FROM read_parquet($2))) + "
        "(SELECT count(*) FROM (FROM read_parquet($2) EXCEPT ALL FROM read_parquet($1)))"
    )
    with duckdb.connect() as db:
        try:
            row = db.execute(query, [str(stored), str(derived)]).fetchone()
        except duckdb.Error:
            return False
    return row is not None and row[0] == 0
