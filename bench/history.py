"""The history's costs, each against its reference from the same run; writes bench/HISTORY.md.

    python3 bench/history.py            # 10 MiB, 100 MiB and 1 GiB users reports (about 10 minutes)
    python3 bench/history.py --quick    # 1 and 8 MiB: a smoke run of the script

1. Engines: DuckDB (the product's path) and pyarrow deriving user_daily and breakdown_daily from
   one users report: wall time and peak RSS (one child process each), and installed size.
2. The action with `history` (a folder) against the same action without it, on a 1-day users
   report of each size: download + raw + tables against the download alone; peak RSS by size.
3. `day: missing` over a year of organization-1-day reports with nothing missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests")]

from measure import MIB, base_env, run_measured, write_report  # noqa: E402
from runner import run_entrypoint  # noqa: E402
from shards import ShardCache  # noqa: E402

import emulator.reports  # noqa: E402
from emulator import Emulator  # noqa: E402

PINS = {"duckdb": "duckdb==2.0.1", "pyarrow": "pyarrow==26.0.1", "obstore": "obstore==0.12.1"}


def installed_mib(requirement: str) -> float:
    with tempfile.TemporaryDirectory(prefix="size-") as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", folder, requirement],
            check=True,
            capture_output=True,
        )
        used = subprocess.run(["du", "-sk", folder], check=True, capture_output=True, text=True).stdout.split()[0]
    return int(used) / 1024


def engines(report: Path) -> list[str]:
    lines = ["| engine | wall s | peak RSS MiB | installed MiB |", "|---|---:|---:|---:|"]
    for engine in ("duckdb", "pyarrow"):
        with tempfile.TemporaryDirectory(prefix=f"{engine}-") as out:
            argv = [sys.executable, str(HERE / "history_engine.py"), engine, str(report), out]
            sample = run_measured(argv, base_env())
        lines.append(
            f"| {engine} | {sample.seconds:.1f} | {sample.peak_rss_mib:.0f} | {installed_mib(PINS[engine]):.1f} |"
        )
    return lines


def action_runs(sizes: list[int], folder: Path) -> list[str]:
    cache = ShardCache(folder / "shards")
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)
    lines = [
        "| report | download only s | with history s | ratio | RSS without MiB | RSS with MiB | raw MiB | tables MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        with Emulator(folder / "emulator") as emu:
            emu.set_shards("org", "octo", "users-1-day", day, [cache.file(size)])
            inputs = {"report": "users-1-day", "day": day.isoformat(), "upload": "false", "summary": "false"}
            plain, _ = run_entrypoint(emu, folder / "plain", inputs)
            history = folder / f"history-{size}"
            kept, outputs = run_entrypoint(emu, folder / "kept", inputs | {"history": str(history)})
            assert outputs["history-days"] == f'["{day.isoformat()}"]', outputs
        raw = sum(path.stat().st_size for path in (history / "raw").rglob("*")) / MIB
        tables = sum(path.stat().st_size for path in (history / "tables").rglob("*") if path.is_file()) / MIB
        lines.append(
            f"| {size / MIB:.0f} MiB | {plain.seconds:.1f} | {kept.seconds:.1f} | {kept.seconds / plain.seconds:.2f} | "
            f"{plain.peak_rss_mib:.0f} | {kept.peak_rss_mib:.0f} | {raw:.1f} | {tables:.1f} |"
        )
    return lines


def missing_year(folder: Path) -> list[str]:
    emulator.reports.HISTORY_DAYS = 400
    inputs = {"report": "organization-1-day", "day": "missing", "upload": "false", "summary": "false"}
    history = folder / "year"
    with Emulator(folder / "emulator-year") as emu:
        began = time.monotonic()
        outputs = run_entrypoint(emu, folder / "first", inputs | {"history": str(history)})[1]
        filled = time.monotonic() - began
        days = len(outputs["history-days"].split(","))
        second, outputs = run_entrypoint(emu, folder / "second", inputs | {"history": str(history)})
        assert outputs["history-days"] == "[]", outputs
    return [
        "| run | days asked | wall s |",
        "|---|---:|---:|",
        f"| empty history: every day GitHub keeps | {days} | {filled:.1f} |",
        f"| nothing missing: the last 3 days again | 3 | {second.seconds:.1f} |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "HISTORY.md")
    args = parser.parse_args()
    sizes = [1 * MIB, 8 * MIB] if args.quick else [10 * MIB, 100 * MIB, 1024 * MIB]
    with tempfile.TemporaryDirectory(prefix="history-bench-") as temporary:
        folder = Path(temporary)
        report = ShardCache(folder / "shards").file(sizes[-1])
        sections = [
            f"## 1. Engines on one {sizes[-1] / MIB:.0f} MiB users report (user_daily + breakdown_daily)",
            *engines(report),
            "## 2. One day of a users report: the action with a folder history against the download alone",
            *action_runs(sizes, folder),
            "## 3. `day: missing` over a year of organization-1-day reports",
            *missing_year(folder),
        ]
    command = "python3 bench/history.py" + (" --quick" if args.quick else "")
    body = "\n".join(line if line.startswith("|") else f"\n{line}\n" for line in sections) + "\n"
    write_report(args.output, "History benchmarks", f"`{command}` (one run per figure).", [body])
    return 0


if __name__ == "__main__":
    sys.exit(main())
