"""Runs every benchmark item in one scratch folder and writes RESULTS.md."""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from action_vs_baseline import bench_action
from cold_start import bench_cold_start
from download_vs_curl import bench_download
from measure import REPO, Plan, machine_facts
from results import Section, generated, table, write
from shards import ShardCache
from upload_item import bench_upload

ITEMS = ("download", "upload", "action", "cold-start")


def run_suite(plan: Plan, items: list[str], output: Path, argv: list[str]) -> int:
    sections: list[Section] = []
    # Whatever the machine wrote before (a build, a test run) is written out now, not during the
    # first timed runs: three suites started right after such work measured the 1 GiB download at
    # 2.3-3.5 s, where it takes 1.0-1.8 s on a machine with nothing to write back.
    os.sync()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="copilot-metrics-bench-") as folder:
        scratch = Path(folder)
        shards = ShardCache(scratch / "shards")
        steps: dict[str, Callable[[], list[Section]]] = {
            "download": lambda: [bench_download(plan, shards, scratch)],
            "upload": lambda: [bench_upload(plan, scratch)],
            "action": lambda: bench_action(plan, shards, scratch),
            "cold-start": lambda: [bench_cold_start(plan, scratch)],
        }
        for item in items:
            print(f"bench: {item} …", file=sys.stderr, flush=True)
            sections += _guarded(item, steps[item])
    minutes = (time.monotonic() - started) / 60
    write(output, generated(_preamble(plan, argv, minutes), sections))
    print(f"bench: wrote {output.relative_to(REPO) if output.is_relative_to(REPO) else output}", file=sys.stderr)
    return 1 if any(section.title.endswith("(failed)") for section in sections) else 0


def _guarded(item: str, step: Callable[[], list[Section]]) -> list[Section]:
    """A failing item is reported as such; the other items' figures are still worth having."""
    try:
        return step()
    except Exception:
        return [Section(f"{item} (failed)", "```\n" + traceback.format_exc()[-6000:] + "\n```")]


def _preamble(plan: Plan, argv: list[str], minutes: float) -> str:
    command = shlex.join(["python3", "bench/run.py", *argv])
    facts = table(["machine", ""], machine_facts())
    mode = "quick smoke run: small sizes, not figures to quote" if plan.quick else "full run"
    return (
        f"Command: `{command}` (`make bench`), run from the repository root; {mode}; "
        f"{plan.runs} recorded run(s) per figure after {plan.warmup} warm-up run(s); the suite took "
        f"{minutes:.1f} minutes. Every server is on loopback: the emulator's hosts (Python `http.server`) and "
        f"Azurite (Node). Each figure stands next to its reference from the same run.\n\n{facts}"
    )
