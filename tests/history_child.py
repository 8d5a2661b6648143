"""Keep days in a history store as the action does, in a process of its own that a test may kill.

Usage: history_child.py LOCATION REPORT PARTITION=FILE[,FILE...] ...
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from copilot_metrics.errors import ActionError
from copilot_metrics.history import open_store
from copilot_metrics.history.archive import DayFiles
from copilot_metrics.history.keeping import keep


def main(argv: list[str]) -> int:
    location, report, *days = argv
    store = open_store(location, os.environ, Path.cwd())
    groups = []
    for day in days:
        partition, _, files = day.partition(":")
        groups.append(DayFiles(report, partition, tuple(Path(name) for name in files.split(","))))
    with tempfile.TemporaryDirectory() as work:
        try:
            outcomes = keep(store, groups, Path(work), print)
        except ActionError as failure:
            print(f"error: {failure}", file=sys.stderr)
            return 1
    print(" ".join(f"{outcome.day}={outcome.change}" for outcome in outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
