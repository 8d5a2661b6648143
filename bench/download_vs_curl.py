"""Item 1: our download_report against curl fetching the same signed links from the same host."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
from measure import MIB, REPO, Plan, Sample, median_rss, median_seconds, python_env, run_measured, spread, warm
from results import Section, Verdict, table
from shards import ShardCache

from copilot_metrics.download import CHUNK, SEGMENTED_FROM, SEGMENTS, WORKERS
from emulator import Emulator

FULL = {"1 x 1 GiB": (1, 1024 * MIB), "20 x 50 MiB": (20, 50 * MIB)}
QUICK = {"1 x 32 MiB": (1, 32 * MIB), "8 x 4 MiB": (8, 4 * MIB)}

# One large file: at least curl's throughput (its segments use the connections curl leaves idle).
# Many files: curl's parallel transfers in one process stay a little ahead of our threads.
TARGET_ONE_FILE = 1.0
TARGET_MANY_FILES = 0.9
CHILD = REPO / "bench" / "download_child.py"
REPORT = "users-28-day"


@dataclass(frozen=True)
class CaseResult:
    label: str
    files: int
    total: int
    ours: list[Sample]
    ours_inside: list[float]
    curl_sequential: list[Sample]
    curl_parallel: list[Sample]
    # The 1-minute load average before and after the case: the machine is shared.
    load: tuple[float, float]


def bench_download(plan: Plan, shards: ShardCache, scratch: Path) -> Section:
    cases = QUICK if plan.quick else FULL
    with Emulator(scratch / "emulator-download") as emu:
        emu.link_ttl = 24 * 3600.0
        results = [_case(emu, label, shards.files(*shape), plan, scratch) for label, shape in cases.items()]
    return Section("1. Download: our download_report vs curl", _body(results, plan), _verdicts(results))


def _case(emu: Emulator, label: str, files: list[Path], plan: Plan, scratch: Path) -> CaseResult:
    emu.set_shards("org", "octo", REPORT, None, list(files))
    links = _signed_links(emu)
    links_file = scratch / "links.txt"
    links_file.write_text("\n".join(links) + "\n", encoding="utf-8")
    out = scratch / "download-out"
    total = sum(path.stat().st_size for path in files)
    commands = {
        "ours": [sys.executable, str(CHILD), str(links_file), str(out)],
        "sequential": _curl(links, out, parallel=False),
        "parallel": _curl(links, out, parallel=True),
    }
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    load_before = os.getloadavg()[0]
    # Interleaved, so drift in load or page cache hits every client alike.
    for attempt in plan.attempts():
        for name, argv in commands.items():
            _empty(out)
            warm(files)
            sample = run_measured(argv, python_env())
            _check_bytes(out, total, name)
            if plan.recorded(attempt):
                samples[name].append(sample)
    _empty(out)
    inside = [float(json.loads(s.output.strip().splitlines()[-1])["seconds"]) for s in samples["ours"]]
    load = (load_before, os.getloadavg()[0])
    return CaseResult(
        label, len(files), total, samples["ours"], inside, samples["sequential"], samples["parallel"], load
    )


def _signed_links(emu: Emulator) -> list[str]:
    answer = requests.get(
        f"{emu.api_url}/orgs/octo/copilot/metrics/reports/{REPORT}/latest",
        headers={"Authorization": f"Bearer {emu.token}", "X-GitHub-Api-Version": "2026-03-10"},
        timeout=30,
    )
    answer.raise_for_status()
    links: list[str] = answer.json()["download_links"]
    return links


def _curl(links: list[str], out: Path, parallel: bool) -> list[str]:
    argv = ["curl", "--silent", "--show-error", "--fail", "--create-dirs"]
    if parallel:
        argv += ["--parallel", "--parallel-max", str(WORKERS)]
    for number, link in enumerate(links, start=1):
        argv += ["--output", str(out / f"part-{number}.ndjson"), link]
    return argv


def _empty(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def _check_bytes(folder: Path, expected: int, who: str) -> None:
    got = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    if got != expected:
        raise RuntimeError(f"{who} wrote {got:,} bytes, expected {expected:,}")


def _throughput(total: int, samples: list[Sample]) -> float:
    return total / MIB / median_seconds(samples)


def _ratio(result: CaseResult) -> float:
    """Our throughput over curl's at the same parallelism (higher is better for us)."""
    return median_seconds(result.curl_parallel) / median_seconds(result.ours)


def _body(results: list[CaseResult], plan: Plan) -> str:
    rows = []
    for r in results:
        rows.append(
            [
                r.label,
                f"{r.total / MIB:,.0f}",
                f"{median_seconds(r.ours):.2f} ({_throughput(r.total, r.ours):,.0f} MiB/s)",
                f"{statistics.median(r.ours_inside):.2f}",
                f"{median_seconds(r.curl_parallel):.2f} ({_throughput(r.total, r.curl_parallel):,.0f} MiB/s)",
                f"{median_seconds(r.curl_sequential):.2f} ({_throughput(r.total, r.curl_sequential):,.0f} MiB/s)",
                f"**{_ratio(r):.2f}**",
                f"{median_seconds(r.curl_sequential) / median_seconds(r.ours):.2f}",
                f"{median_rss(r.ours):.0f} / {median_rss(r.curl_parallel):.0f}",
                f"{spread([s.seconds for s in r.ours])} / {spread([s.seconds for s in r.curl_parallel])}",
                f"{r.load[0]:.1f} / {r.load[1]:.1f}",
            ]
        )
    header = [
        "shards",
        "MiB",
        "ours s (throughput)",
        "ours, inside download_report s",
        f"curl --parallel-max {WORKERS} s",
        "curl sequential s",
        f"ours / curl x{WORKERS} throughput",
        "ours / curl seq. throughput",
        "peak RSS MiB ours / curl",
        "range s ours / curl",
        "load before / after",
    ]
    intro = (
        f"Median of {plan.runs} runs after {plan.warmup} warm-up run(s), the three clients interleaved. Each is "
        "its own process fetching the same signed links from the emulator's download host (loopback, "
        "`sendfile`) into files on the same disk; wall time runs from spawn to exit, so ours includes "
        "Python's start and imports (the column 'inside download_report' leaves them out). Ours opens at "
        f"most {WORKERS} connections at a time, shared by whole files and by the {SEGMENTS} `Range` segments "
        f"of each file of {SEGMENTED_FROM // MIB} MiB or more, and writes {CHUNK // 1024} KiB chunks into place. The "
        f"machine's {os.cpu_count()} CPUs are shared with other work: 'load' is the 1-minute load average "
        "at the start and the end of each case."
    )
    return intro + "\n\n" + table(header, rows)


def _verdicts(results: list[CaseResult]) -> list[Verdict]:
    return [
        Verdict(
            f"1. download {r.label}: throughput vs curl x{WORKERS}",
            f"≥ {_target(r):.1f}x",
            f"{_ratio(r):.2f}x",
            _ratio(r) >= _target(r),
        )
        for r in results
    ]


def _target(result: CaseResult) -> float:
    return TARGET_ONE_FILE if result.files == 1 else TARGET_MANY_FILES
