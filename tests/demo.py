"""`make demo`: the action's main job end to end.

Without arguments it starts the emulator (a fake GitHub on loopback), runs entrypoint.py exactly
as the Actions runner would, and prints the step's outputs, its job summary and the artifact's
contents. With --org (or --enterprise) and a token in COPILOT_METRICS_TOKEN it asks real GitHub
instead, through the command line, and keeps the files in ./copilot-metrics.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]

from action_run import artifact_entries, run_action  # noqa: E402
from emulator import Emulator  # noqa: E402


def against_emulator() -> int:
    with tempfile.TemporaryDirectory(prefix="copilot-metrics-demo-") as folder, Emulator(Path(folder) / "emu") as emu:
        run = run_action(emu, Path(folder) / "step")
        print("── what the action printed ──")
        print(run.stdout + run.stderr)
        print("── step outputs ──")
        for name, value in run.outputs.items():
            print(f"{name} = {value}")
        print("── job summary ──")
        print(run.summary)
        print("── artifact contents ──")
        for artifact in emu.artifacts.values():
            if artifact.finalized and artifact.blob is not None:
                print(f"{artifact.name} ({artifact.size:,} bytes, {artifact.hash})")
                for name, data in artifact_entries(artifact.blob).items():
                    lines = data.count(b"\n")
                    print(f"  {name}  {len(data):,} bytes, {lines:,} lines")
        return run.code or keep_history(emu, Path(folder))


DAILY_REPORTS = "organization-1-day,users-1-day,user-teams-1-day,repos-1-day"

# What the README offers for querying a history with DuckDB; a test runs it too.
DUCKDB_QUERY = """
SELECT day, count(*) AS users, sum(code_generation_activity_count) AS generations,
       round(avg(ai_credits_used), 2) AS credits_per_user
FROM read_parquet('HISTORY/tables/user_daily/*/*.parquet')
GROUP BY day ORDER BY day
"""


# Where `make demo` leaves the dashboard, so that it can be opened after the demo's folders are gone.
DEMO_DASHBOARD = Path("build") / "demo" / "dashboard" / "index.html"


def keep_history(emu: Emulator, folder: Path) -> int:
    """Two runs of every 1-day report over overlapping days, with the dashboard: the second adds
    only the days the first lacked, and its page shows them all."""
    import duckdb

    history = folder / "history"
    newest = emu.window()[1]
    for number, first in enumerate((newest - dt.timedelta(days=1), newest - dt.timedelta(days=3)), start=1):
        days = f"{first}..{newest}"
        inputs = {"report": DAILY_REPORTS, "day": days, "history": str(history), "dashboard": "true"}
        run = run_action(emu, folder / f"history-{number}", inputs)
        print(f"── history run {number} ({days}): history-days = {run.outputs.get('history-days')} ──")
        if run.code:
            print(run.stdout + run.stderr)
            return run.code
    DEMO_DASHBOARD.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.workspace / "copilot-metrics" / "dashboard" / "index.html", DEMO_DASHBOARD)
    print(f"── the history in {history} ──")
    for path in sorted(history.rglob("*")):
        if path.is_file():
            print(f"  {path.relative_to(history)}  {path.stat().st_size:,} bytes")
    query = DUCKDB_QUERY.replace("HISTORY", str(history))
    print(f"── DuckDB: {' '.join(query.split())} ──")
    result = duckdb.sql(query)
    assert result is not None
    result.show()
    print(f"── the dashboard of the history: {DEMO_DASHBOARD.resolve().as_uri()} ──")
    return 0


def against_github(args: argparse.Namespace) -> int:
    from copilot_metrics.cli import main

    scope = ["--enterprise", args.enterprise] if args.enterprise else ["--org", args.org]
    return main([*scope, "--out", "copilot-metrics"])


def demo() -> int:
    command = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("--org", help="a real organization (token in COPILOT_METRICS_TOKEN)")
    command.add_argument("--enterprise", help="a real enterprise (token in COPILOT_METRICS_TOKEN)")
    args = command.parse_args()
    return against_github(args) if args.org or args.enterprise else against_emulator()


if __name__ == "__main__":
    sys.exit(demo())
