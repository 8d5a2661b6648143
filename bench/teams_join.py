"""The team join of a run, alone in a process: every day's user_daily and user_team_daily in FOLDER
joined into team_daily, then what people may read of it (the default minimum group size).

    python bench/teams_join.py FOLDER"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src")]

from copilot_metrics import teams  # noqa: E402


def main(folder: Path) -> None:
    started = time.perf_counter()
    users = sorted(folder.glob("user_daily-*.parquet"))
    members = sorted(folder.glob("user_team_daily-*.parquet"))
    target = folder / "team_daily.parquet"
    rows = teams.write_team_daily(users, members, target, folder / "spill")
    shown = teams.shown([target], 5, folder / "spill")
    print(
        f"{len(users)} days joined into {rows:,} team_daily rows and {len(shown):,} rows people may read "
        f"in {time.perf_counter() - started:.2f} s"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
