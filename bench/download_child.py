"""Our download_report alone, as its own process: `download_child.py LINKS_FILE OUT_DIR`.

LINKS_FILE holds the signed links, one a line. Prints one JSON line: bytes written and the
seconds spent inside download_report (the rest of the process's wall time is interpreter
start and imports).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from copilot_metrics.download import download_report
from copilot_metrics.reports import ReportLinks, ReportPart


def _no_refresh(part: ReportPart) -> ReportPart:
    raise RuntimeError("a benchmark link expired: the links live for hours, so this is a bug in the benchmark")


def main(links_file: str, out_dir: str) -> int:
    links = tuple(Path(links_file).read_text(encoding="utf-8").split())
    report = ReportLinks(start=None, end=None, parts=(ReportPart(None, links),), missing_days=())
    started = time.perf_counter()
    files = download_report(report, Path(out_dir), _no_refresh, lambda message: None)
    inside = time.perf_counter() - started
    print(json.dumps({"bytes": sum(file.size for file in files), "seconds": inside}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
