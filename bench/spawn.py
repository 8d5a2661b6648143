"""Run one command and note its wall time and peak RSS: `python3 -I -S spawn.py REPORT ARGV...`.

Started afresh for every measurement because Linux counts a process's peak RSS from before its
exec, that is from the memory of whoever spawned it: measured straight from the benchmark (some
90 MiB with the emulator loaded) every child would seem that big. This wrapper is about 8 MiB, the
floor of every peak RSS the benchmark reports. REPORT receives one JSON object: `started`
(time.perf_counter() just before the spawn; CLOCK_MONOTONIC, shared by every process),
`seconds`, `peak_rss_kib`, `exit_code`.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(report: str, argv: list[str]) -> int:
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    facts = {"started": started, "seconds": seconds, "peak_rss_kib": usage.ru_maxrss, "exit_code": code}
    with open(report, "w", encoding="utf-8") as out:
        json.dump(facts, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
