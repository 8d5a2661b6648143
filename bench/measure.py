"""Timing and peak memory of one child process, medians, and the facts of the machine measured on."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "tests" / "conformance" / "node_modules"
SPAWN = Path(__file__).resolve().parent / "spawn.py"


@dataclass(frozen=True)
class Sample:
    """One measured process: wall seconds from just before the spawn to its exit, and peak RSS."""

    seconds: float
    peak_rss_mib: float
    started: float  # time.perf_counter() just before the spawn, to relate events seen elsewhere
    output: str


class ChildFailed(RuntimeError):
    pass


def run_measured(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Sample:
    """Run argv to completion under spawn.py; fail loudly on a non-zero exit, so a broken run is
    never a figure."""
    with tempfile.TemporaryDirectory(prefix="measure-") as folder:
        report = Path(folder) / "report.json"
        wrapper = [sys.executable, "-I", "-S", str(SPAWN), str(report), *argv]
        done = subprocess.run(
            wrapper, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
        )
        text = done.stdout.decode(errors="replace")
        if done.returncode != 0 or not report.exists():
            raise ChildFailed(f"the measuring wrapper failed ({done.returncode}) for {argv[:3]}:\n{text[-4000:]}")
        facts = json.loads(report.read_text(encoding="utf-8"))
    if facts["exit_code"] != 0:
        raise ChildFailed(f"{' '.join(argv[:3])} exited {facts['exit_code']}:\n{text[-4000:]}")
    return Sample(facts["seconds"], facts["peak_rss_kib"] / 1024, facts["started"], text)


def warm(paths: Iterable[Path]) -> None:
    """Read `paths` once, so that the run that follows finds them in the page cache. The benchmark
    machine drops files it has not read for a few minutes from its cache (a shard made at the start
    was found wholly evicted later), and a run whose server reads them from disk measures the disk."""
    for path in paths:
        with path.open("rb") as file:
            while file.read(8 * MIB):
                pass


def median_seconds(samples: Sequence[Sample]) -> float:
    return statistics.median(sample.seconds for sample in samples)


def median_rss(samples: Sequence[Sample]) -> float:
    return statistics.median(sample.peak_rss_mib for sample in samples)


def spread(values: Sequence[float]) -> str:
    """min-max, so a reader sees how much a median can be trusted."""
    return f"{min(values):.2f}-{max(values):.2f}"


def base_env() -> dict[str, str]:
    """Only what a child needs to find its tools: nothing of this shell's configuration leaks in."""
    return {name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR", "LANG") if name in os.environ}


def python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    paths = os.pathsep.join(str(REPO / part) for part in ("src", "tests"))
    return {**base_env(), "PYTHONPATH": paths, **(extra or {})}


def machine_facts() -> list[tuple[str, str]]:
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} logical CPUs (nproc {len(os.sched_getaffinity(0))})"),
        ("memory", f"{_mem_total_gib():.1f} GiB"),
        ("OS", f"{_os_name()}, Linux {platform.release()}"),
        ("Python", platform.python_version()),
        ("Node", _first_line(["node", "--version"])),
        ("curl", _first_line(["curl", "--version"])),
        ("Azurite", _npm_version("azurite")),
        ("@actions/artifact", _npm_version("@actions/artifact")),
    ]


def write_report(output: Path, title: str, measured_by: str, body: Sequence[str]) -> None:
    """Write a benchmark's Markdown page and print it: the title, how it was measured (the command,
    so anyone can run it again), the machine, then `body`."""
    facts = [f"- {name}: {value}" for name, value in machine_facts()]
    text = "\n".join([f"# {title}", "", f"Measured by {measured_by}", "", *facts, "", *body])
    output.write_text(text, encoding="utf-8")
    print(text)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1024 * 1024)
    return 0.0


def _os_name() -> str:
    for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.partition("=")[2].strip('"')
    return platform.system()


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except OSError:
        return "not installed"
    return done.stdout.splitlines()[0] if done.stdout else "unknown"


def _npm_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        return "not installed"
    version: str = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    return version


@dataclass(frozen=True)
class Plan:
    """How much to measure: recorded runs per figure, unrecorded warm-up runs first, and sizes."""

    runs: int
    warmup: int
    quick: bool

    def attempts(self) -> range:
        return range(self.warmup + self.runs)

    def recorded(self, attempt: int) -> bool:
        return attempt >= self.warmup
