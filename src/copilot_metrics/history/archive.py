"""The raw archive: every downloaded file kept exactly as GitHub served it, gzip-compressed, with the
SHA-256 of the served bytes beside it, one partition per report day (28-day reports: per end day).

How a day stays whole without a manifest or a transaction log:

- Every object is written whole (a folder renames a finished file into place; object stores make
  an upload visible only once complete), and a shard's data object goes before its `.sha256`.
- A day is written only when it differs: the set of served checksums is compared with the
  `.sha256` objects already there. The same data again changes no object at all.
- The order is: the new raw shards, then the day's table objects (one per table, which is what
  readers query, so they see the old day or the new one, never a mix), and only then are raw
  shards of an older version that the new one no longer has removed.
- A run that dies anywhere in between leaves the old tables in place; the next run sees checksums
  that differ from what GitHub serves and completes the day. Nothing is removed before its
  replacement is complete, so a failure never leaves a day with less than it had.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from zlib_ng import gzip_ng, zlib_ng

from ..errors import HistoryError
from . import tables
from .store import Removing, Store

# zlib-ng's level 6 compresses the raw copy smaller than the stdlib's level 6, in half the time.
COMPRESS_LEVEL = 6
# A gzip member (header and trailer around the deflate stream), as gunzip reads it.
GZIP_WBITS = 16 + zlib_ng.MAX_WBITS
CHUNK = 1024 * 1024
# What zlib-ng raises on a damaged deflate stream (its type stub declares it as an instance).
_INFLATE_ERROR = cast("type[Exception]", zlib_ng.error)
WORKERS = 2
RAW_SUFFIX = ".ndjson.gz"
SUM_SUFFIX = ".sha256"

Change = Literal["added", "replaced", "completed", "unchanged"]
Log = Callable[[str], None]


@dataclass(frozen=True)
class DayFiles:
    """The served files of one report day (or, for a 28-day report, of one report window)."""

    report: str
    partition: str  # "day=YYYY-MM-DD" or "end_day=YYYY-MM-DD"
    files: tuple[Path, ...]

    @property
    def day(self) -> str:
        return self.partition.partition("=")[2]


@dataclass(frozen=True)
class DayOutcome:
    report: str
    day: str
    change: Change


@dataclass(frozen=True)
class _Shard:
    source: Path
    key: str
    digest: str


def raw_prefix(report: str, partition: str) -> str:
    return f"raw/{report}/{partition}/"


def table_key(table: str, day: str, report: str) -> str:
    return f"tables/{table}/day={day}/{report}.parquet"


def raw_key(report: str, partition: str, served_name: str) -> str:
    return raw_prefix(report, partition) + served_name.removesuffix(".ndjson") + RAW_SUFFIX


def keep_day(store: Store, day: DayFiles, work: Path, log: Log) -> DayOutcome:
    """Bring one day of the store up to what was served; see the module's notes for the order."""
    prefix = raw_prefix(day.report, day.partition)
    present = store.list(prefix)
    shards = _shards(day, work)
    stored = _stored_digests(store, present)
    tables_expected = day.partition.startswith("day=")
    held = _data_count(present)
    if sorted(stored) == sorted(shard.digest for shard in shards) and len(stored) == held:
        if not tables_expected or _has_tables(store, day):
            return DayOutcome(day.report, day.day, "unchanged")
        change: Change = "completed"
    else:
        if held and not any(shard.source.stat().st_size for shard in shards):
            raise HistoryError(
                f"GitHub now serves an empty {day.report} report for {day.day}, which the history holds with data: "
                "keeping the history's copy. Re-run later; if GitHub keeps it empty, remove the day by hand."
            )
        change = "replaced" if held else "added"
    with tempfile.TemporaryDirectory(dir=work) as scratch, ThreadPoolExecutor(max_workers=1) as pool:
        # DuckDB derives the tables while the raw files are compressed and written; the tables
        # go to the store only after every raw file is in.
        derived = pool.submit(tables.build, day.report, day.files, Path(scratch)) if tables_expected else None
        if change != "completed":
            _write_shards(store, shards, present, work)
        if derived is not None:
            for table, path in sorted(derived.result().items()):
                store.write(table_key(table, day.day, day.report), path)
    _remove_stale(store, present, {shard.key for shard in shards}, log)
    if change == "replaced":
        log(f"GitHub revised the {day.report} report of {day.day}: the history's copy was replaced.")
    return DayOutcome(day.report, day.day, change)


def _shards(day: DayFiles, work: Path) -> list[_Shard]:
    """Each served file's raw key and the SHA-256 of its bytes."""
    keys = [raw_key(day.report, day.partition, path.name) for path in day.files]
    if len(set(keys)) != len(keys):
        raise HistoryError(f"Two files of the {day.report} report of {day.day} map to the same history name.")
    return [_Shard(path, key, _sha256(path)) for path, key in zip(day.files, keys, strict=True)]


def _sha256(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def _stored_digests(store: Store, present: Sequence[str]) -> list[str]:
    """The checksums kept beside the day's data objects (only those whose data object is there)."""
    keys = set(present)
    return [
        store.read(key + SUM_SUFFIX).decode("ascii", "replace").split()[0]
        for key in present
        if key.endswith(RAW_SUFFIX) and key + SUM_SUFFIX in keys
    ]


def _data_count(present: Sequence[str]) -> int:
    return sum(key.endswith(RAW_SUFFIX) for key in present)


def _has_tables(store: Store, day: DayFiles) -> bool:
    return all(
        table_key(table, day.day, day.report) in store.list(f"tables/{table}/day={day.day}/")
        for table in tables.table_names(day.report)
    )


def _write_shards(store: Store, shards: Sequence[_Shard], present: Sequence[str], work: Path) -> None:
    """Write the shards whose stored checksum differs; compression runs on WORKERS threads."""
    keys = set(present)
    todo = [
        shard
        for shard in shards
        if shard.key not in keys
        or shard.key + SUM_SUFFIX not in keys
        or store.read(shard.key + SUM_SUFFIX).decode("ascii", "replace").split()[:1] != [shard.digest]
    ]
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="archive") as pool:
        list(pool.map(lambda shard: _write_shard(store, shard, work), todo))


def _write_shard(store: Store, shard: _Shard, work: Path) -> None:
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        packed = Path(scratch) / "data.gz"
        compress(shard.source, packed)
        store.write(shard.key, packed)
        checksum = Path(scratch) / "sum"
        checksum.write_text(f"{shard.digest}  {shard.source.name}\n", encoding="ascii")
        store.write(shard.key + SUM_SUFFIX, checksum)


def compress(source: Path, target: Path) -> None:
    """gzip `source` into `target`, streamed; gunzip gives back the exact bytes."""
    packer = zlib_ng.compressobj(COMPRESS_LEVEL, zlib_ng.DEFLATED, GZIP_WBITS)
    with source.open("rb") as data, target.open("wb") as out:
        while chunk := data.read(CHUNK):
            out.write(packer.compress(chunk))
        out.write(packer.flush())


def served_sha256(packed: Path) -> str | None:
    """The SHA-256 of what `packed` gunzips to, streamed; None if it is not whole gzip data.

    zlib-ng reads too: it gunzips a raw file about 2.5 times as fast as the stdlib."""
    digest = hashlib.sha256()
    try:
        with gzip_ng.open(packed, "rb") as served:  # type: ignore[no-untyped-call]
            while chunk := served.read(CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, _INFLATE_ERROR):
        return None
    return digest.hexdigest()


def _remove_stale(store: Store, present: Sequence[str], kept: set[str], log: Log) -> None:
    stale = [key for key in present if key.removesuffix(SUM_SUFFIX) not in kept]
    if not stale:
        return
    if not isinstance(store, Removing):
        log(f"The store cannot remove objects; {len(stale)} object(s) of an older version remain: {', '.join(stale)}")
        return
    for key in sorted(stale, key=lambda key: not key.endswith(SUM_SUFFIX)):
        store.remove(key)
