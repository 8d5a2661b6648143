"""Where the whole action's time goes: its log lines beside the machine's CPU use, every quarter second.

    python3 bench/timeline.py [--size-mib 1024] [--runs 2]

Runs the action (`report: users-1-day`, summary on, level 6) on a one-shard day of the given size
against the emulator and Azurite, as item 3 of bench/run.py does, and prints the last run: each
log line at the second it appeared, then per quarter second the cores busy on the whole machine
and in the action's processes (the summary's child included). Cores that sit idle while the
action runs, or one core busy where two could be, are what a change can still win; the emulator
and Azurite run on the same machine and show in the first column only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests")]

from measure import MIB, NODE_MODULES, warm  # noqa: E402
from runner import step_env  # noqa: E402
from shards import ShardCache  # noqa: E402

from action_run import ENTRYPOINT  # noqa: E402
from conformance.azurite import Azurite, AzuriteBackend  # noqa: E402
from emulator import Emulator  # noqa: E402
from runner_step import Step  # noqa: E402

TICK = 0.25
_HZ = os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=2, help="runs made; only the last is shown (the first warms up)")
    args = parser.parse_args()
    if args.runs < 1 or args.size_mib < 1:
        parser.error("--runs and --size-mib are 1 or more")
    with tempfile.TemporaryDirectory(prefix="timeline-") as scratch:
        folder = Path(scratch)
        shard = ShardCache(folder / "shards").file(args.size_mib * MIB)
        with Azurite(NODE_MODULES, folder / "azurite") as azurite, Emulator(folder / "emulator") as emu:
            emu.blob_backend = AzuriteBackend(azurite, container="timeline")
            emu.link_ttl = 24 * 3600.0
            day = emu.today - timedelta(days=3)
            emu.set_shards("org", "octo", "users-1-day", day, [shard])
            for run in range(args.runs):
                inputs = {"org": "octo", "report": "users-1-day", "day": day.isoformat(), "artifact-name": f"t-{run}"}
                warm([shard])
                lines, ticks, seconds = _timeline(emu, folder / f"step-{run}", inputs)
        print(f"The action on a {args.size_mib:,} MiB users day: {seconds:.2f} s (the last of {args.runs} runs)\n")
        print("\n".join(f"{at:6.2f} s  {line}" for at, line in lines))
        print("\n  second  machine cores busy  action cores busy")
        print("\n".join(f"{at:8.2f}  {machine:18.2f}  {action:17.2f}" for at, machine, action in ticks))
    return 0


def _timeline(
    emu: Emulator, folder: Path, inputs: dict[str, str]
) -> tuple[list[tuple[float, str]], list[tuple[float, float, float]], float]:
    step = Step.create(folder)
    try:
        return _run(emu, step, inputs)
    finally:
        # As item 3 does: a run's 1 GiB left on disk would be written back during the next run.
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    emu: Emulator, step: Step, inputs: dict[str, str]
) -> tuple[list[tuple[float, str]], list[tuple[float, float, float]], float]:
    start = time.monotonic()
    action = subprocess.Popen(
        [sys.executable, str(ENTRYPOINT)],
        env=step_env(emu, step, inputs),
        cwd=step.workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    ticks: list[tuple[float, float, float]] = []
    sampler = threading.Thread(target=_sample, args=(action, start, ticks))
    sampler.start()
    assert action.stdout is not None
    lines = [(time.monotonic() - start, line.decode(errors="backslashreplace").rstrip()) for line in action.stdout]
    action.wait()
    seconds = time.monotonic() - start
    sampler.join()
    if action.returncode != 0:
        raise RuntimeError("the action failed:\n" + "\n".join(line for _, line in lines[-20:]))
    # Masked values are secrets to the runner; a timeline needs none of them.
    return [(at, line) for at, line in lines if not line.startswith("::add-mask::")], ticks, seconds


def _sample(action: subprocess.Popen[bytes], start: float, ticks: list[tuple[float, float, float]]) -> None:
    machine, tree = _machine_cpu(), _tree_cpu(action.pid)
    while action.poll() is None:
        time.sleep(TICK)
        now_machine, now_tree = _machine_cpu(), _tree_cpu(action.pid)
        total, busy = now_machine[0] - machine[0], now_machine[1] - machine[1]
        cores = os.cpu_count() or 1
        # A process that ended in the tick takes its CPU seconds with it: never count below zero.
        ticks.append(
            (time.monotonic() - start, cores * busy / total if total else 0.0, max(0.0, now_tree - tree) / TICK)
        )
        machine, tree = now_machine, now_tree


def _machine_cpu() -> tuple[float, float]:
    """All CPU seconds since boot, and the busy ones (neither idle nor waiting for I/O)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) / _HZ, (sum(fields) - fields[3] - fields[4]) / _HZ


def _tree_cpu(root: int) -> float:
    """CPU seconds of `root` and every live process below it."""
    total, pending, seen = 0.0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _HZ
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # ended while being read
    return total


if __name__ == "__main__":
    sys.exit(main())
