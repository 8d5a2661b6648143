"""What the action prints for the runner: every line whole, whichever thread printed it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# The report workers' pattern: threads each printing a progress line per day and, now and then,
# a mask for a link's signature. Enough lines pass between masks for Python's text stream to
# fill its 8 KiB chunk and flush it while another thread is writing, which is where a line used
# to go missing and stray bytes took its place.
WORKERS_PRINTING = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from copilot_metrics import workflow

    workflow.set_mode("action")

    def day(number):
        workflow.info(f"Day {number} of 6000: 2026-01-01")
        if number % 700 == 0:
            workflow.mask(f"sv=2025-01-05&sig=secret-{number}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(day, range(1, 6001)))
    sys.stdout.flush()
    """
)


def printed_lines(script: str) -> list[bytes]:
    finished = subprocess.run(
        [sys.executable, "-c", script], env={"PYTHONPATH": str(SRC)}, capture_output=True, check=True, timeout=60
    )
    return finished.stdout.split(b"\n")


def test_lines_printed_from_threads_arrive_whole_and_all() -> None:
    days = [f"Day {number} of 6000: 2026-01-01".encode() for number in range(1, 6001)]
    masks = [f"::add-mask::sv=2025-01-05&sig=secret-{number}".encode() for number in range(700, 6001, 700)]
    for _ in range(3):
        lines = printed_lines(WORKERS_PRINTING)
        assert lines[-1] == b"", "the last line is not whole"
        assert sorted(lines[:-1]) == sorted(days + masks)
