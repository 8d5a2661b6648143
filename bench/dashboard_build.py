"""The dashboard step of a run, alone in a process: the page of the history in HISTORY (a folder
store), written into SITE/dashboard/index.html.

    python bench/dashboard_build.py HISTORY SITE"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src")]

from copilot_metrics.dashboard.step import page_of_history  # noqa: E402
from copilot_metrics.history.folder import FolderStore  # noqa: E402


def main(history: Path, site: Path) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dashboard-work-") as work:
        page = page_of_history(FolderStore(history), "acme", 5, site, Path(work))
    assert page is not None
    print(f"{page.file.size:,} bytes of page from {history} in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
