"""Item 4: from spawning the action to its first API request, and its whole run, on a small report."""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from firstbyte import FirstByteClock
from measure import Plan, Sample, base_env, python_env, run_measured, spread
from results import Section, Verdict, table
from runner import run_entrypoint

from emulator import Emulator

TARGET = 0.5
REPORT_PATH = "/orgs/octo/copilot/metrics/reports/organization-28-day/latest"
REQUESTS_GET = (
    "import os, requests; "
    "requests.get(os.environ['URL'], headers={'Authorization': 'Bearer ' + os.environ['TOKEN']}, timeout=30)"
)


@dataclass(frozen=True)
class Timed:
    """First-request latencies (seconds after spawn) and whole-run samples of one program."""

    label: str
    first: list[float]
    whole: list[Sample]


def bench_cold_start(plan: Plan, scratch: Path) -> Section:
    runs = max(plan.runs, 5) if not plan.quick else plan.runs
    with Emulator(scratch / "emulator-cold") as emu, FirstByteClock(emu.api_url) as clock:
        rows = [
            _action(emu, clock, plan, runs, scratch),
            _program("curl, one API request", _curl(emu, clock), clock, plan, runs),
            _program("python3 + requests, one API request", _python_get(emu, clock), clock, plan, runs),
            _program(
                "python3 -c pass (interpreter floor)", ([sys.executable, "-c", "pass"], base_env()), None, plan, runs
            ),
        ]
    return Section("4. Cold start", _body(rows, runs), _verdicts(rows[0]))


def _action(emu: Emulator, clock: FirstByteClock, plan: Plan, runs: int, scratch: Path) -> Timed:
    first: list[float] = []
    whole: list[Sample] = []
    for attempt in range(plan.warmup + runs):
        clock.reset()
        inputs = {"org": "octo", "api-url": clock.origin, "artifact-name": f"cold-{attempt}"}
        sample, outputs = run_entrypoint(emu, scratch / "step-cold", inputs, {"GITHUB_API_URL": clock.origin})
        if not outputs.get("artifact-id"):
            raise RuntimeError(f"the action uploaded nothing:\n{sample.output[-4000:]}")
        if attempt >= plan.warmup:
            first.append(clock.first_arrival() - sample.started)
            whole.append(sample)
    return Timed("the action (entrypoint.py), default 28-day org report", first, whole)


def _program(
    label: str, command: tuple[list[str], dict[str, str]], clock: FirstByteClock | None, plan: Plan, runs: int
) -> Timed:
    argv, env = command
    first: list[float] = []
    whole: list[Sample] = []
    for attempt in range(plan.warmup + runs):
        if clock is not None:
            clock.reset()
        sample = run_measured(argv, env)
        if attempt >= plan.warmup:
            if clock is not None:
                first.append(clock.first_arrival() - sample.started)
            whole.append(sample)
    return Timed(label, first, whole)


def _curl(emu: Emulator, clock: FirstByteClock) -> tuple[list[str], dict[str, str]]:
    argv = [
        "curl",
        "--silent",
        "--show-error",
        "--fail",
        "--output",
        "/dev/null",
        "-H",
        f"Authorization: Bearer {emu.token}",
        clock.origin + REPORT_PATH,
    ]
    return argv, base_env()


def _python_get(emu: Emulator, clock: FirstByteClock) -> tuple[list[str], dict[str, str]]:
    env = python_env({"URL": clock.origin + REPORT_PATH, "TOKEN": emu.token})
    return [sys.executable, "-c", REQUESTS_GET], env


def _body(rows: list[Timed], runs: int) -> str:
    table_rows = [
        [
            row.label,
            f"**{statistics.median(row.first):.3f}**" if row.first else "—",
            spread(row.first) if row.first else "—",
            f"{statistics.median(s.seconds for s in row.whole):.3f}",
            spread([s.seconds for s in row.whole]),
            f"{statistics.median(s.peak_rss_mib for s in row.whole):.1f}",
        ]
        for row in rows
    ]
    header = ["program", "spawn → first API request s", "range", "whole run s", "range", "peak RSS MiB"]
    intro = (
        f"Median of {runs} runs. The first request's arrival is noted by a TCP forwarder in front of the "
        "emulator's API host, on the same monotonic clock as the spawn. The action's whole run covers "
        "the API call, two small downloads, the zip, the upload through the results service and its "
        "blob store, the outputs and the job summary. The other rows are references for the same request."
    )
    return intro + "\n\n" + table(header, table_rows)


def _verdicts(action: Timed) -> list[Verdict]:
    first = statistics.median(action.first)
    whole = statistics.median(sample.seconds for sample in action.whole)
    return [
        Verdict("4. cold start: spawn → first API request", f"≤ {TARGET:.1f} s", f"{first:.3f} s", first <= TARGET),
        Verdict("4. whole run, default 28-day org report", "no target set", f"{whole:.3f} s", None),
    ]
