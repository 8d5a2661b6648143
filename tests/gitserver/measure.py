"""Figures for the README's branch section: what a 1,000-user organization's history costs in a
branch, and how long the store takes, measured on the loopback git server.

Run from the ``tests`` folder: ``python -m gitserver.measure [DAYS]``. Prints a Markdown table.
Raw files are the emulator's realistic users, user-teams, repos and organization reports for
1,000 users; the tables stand in as one Parquet file (zstd) per report and day, written by DuckDB.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from copilot_metrics.history.branch import open_branch_store
from emulator import data
from gitserver import GitServer

USERS = 1000
FIRST_DAY = dt.date(2025, 12, 12)


def day_reports(day: dt.date) -> dict[str, bytes]:
    """The served bytes of each 1-day report of a 1,000-user organization for `day`."""
    rng = random.Random(day.isoformat())
    users = [data.user_day(rng, day, index, "organization_id", 4242) for index in range(1, USERS + 1)]
    active = [record for record in users if rng.random() < 0.85]
    teams = [
        {"user_id": 100000 + n, "day": day.isoformat(), "team_id": team, "slug": slug, "organization_id": 4242}
        for n in range(1, USERS + 1)
        for team, slug in rng.sample(data.TEAMS, rng.randint(1, 2))
    ]
    return {
        "users-1-day": data._lines(active),
        "user-teams-1-day": data._lines(teams),
        "organization-1-day": data.aggregate_1_day(day.isoformat(), "organization_id", 4242, day)[0],
        "repos-1-day": data.repos(day.isoformat(), "organization_id", 4242, "acme", day, 1)[0],
    }


def day_files(work: Path, day: dt.date) -> Iterator[tuple[str, Path]]:
    """(key, local file) of everything one day adds to the history: raw, checksums, tables."""
    import duckdb

    folder = work / day.isoformat()
    folder.mkdir()
    for report, served in day_reports(day).items():
        raw = folder / f"{report}.ndjson.gz"
        raw.write_bytes(gzip.compress(served, compresslevel=6, mtime=0))
        yield f"raw/{report}/day={day}/{report}.ndjson.gz", raw
        checksum = folder / f"{report}.sha256"
        checksum.write_text(hashlib.sha256(served).hexdigest() + "\n")
        yield f"raw/{report}/day={day}/{report}.ndjson.gz.sha256", checksum
        table = folder / f"{report}.parquet"
        duckdb.sql(f"COPY (SELECT * FROM read_json_auto('{raw}')) TO '{table}' (FORMAT parquet, COMPRESSION zstd)")
        yield f"tables/{report.removesuffix('-1-day').replace('-', '_')}_daily/day={day}/data.parquet", table


def run(server: GitServer, files: list[tuple[str, Path]], message: str) -> tuple[float, int, int]:
    """(seconds, bytes pushed, bytes fetched) of one run that writes `files`."""
    served_before = len(server.requests)
    started = time.perf_counter()
    store = open_branch_store("copilot-metrics-data", server.env(), server.write_token, lambda _: None, lambda _: None)
    for key, path in files:
        store.write(key, path)
    store.finish(message)
    seconds = time.perf_counter() - started
    requests = server.requests[served_before:]
    pushed = sum(r.bytes_in for r in requests if r.service == "git-receive-pack")
    fetched = sum(r.bytes_out for r in requests if r.service == "git-upload-pack")
    return seconds, pushed, fetched


def main() -> int:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 365
    with tempfile.TemporaryDirectory() as work, GitServer(Path(work) / "server") as server:
        backfill = [file for n in range(days) for file in day_files(Path(work), FIRST_DAY + dt.timedelta(days=n))]
        next_day = list(day_files(Path(work), FIRST_DAY + dt.timedelta(days=days)))
        raw = sum(path.stat().st_size for key, path in backfill if key.startswith("raw/"))
        tables = sum(path.stat().st_size for key, path in backfill if key.startswith("tables/"))
        rows = [
            (f"backfill of {days} days ({len(backfill)} files)", *run(server, backfill, "backfill")),
            ("one more day", *run(server, next_day, "one day")),
            ("the same day again (no change)", *run(server, next_day, "no change")),
        ]
        repository = sum(path.stat().st_size for path in server.bare.rglob("*") if path.is_file())
    print(f"{USERS:,} users, {days} days: raw {raw / 1e6:,.1f} MB, tables {tables / 1e6:,.1f} MB, ", end="")
    print(f"server repository {repository / 1e6:,.1f} MB\n")
    print("| run | time | pushed | fetched |\n|---|---:|---:|---:|")
    for name, seconds, pushed, fetched in rows:
        print(f"| {name} | {seconds:.2f} s | {pushed / 1e6:,.2f} MB | {fetched / 1e3:,.1f} kB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
