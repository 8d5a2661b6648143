"""Benchmark: our artifact upload against the official `@actions/artifact` client.

Both upload the same NDJSON files at the same compression level through the emulator's results
service into the same local Azurite, each in its own child process, so wall time and peak RSS
(from wait4's rusage) cover the whole program a runner would start. Prints a Markdown table.

    PYTHONPATH=src:tests python bench/upload_bench.py --case three-50mib --case one-1gib --runs 5

Needs `npm ci --prefix tests/conformance` first (the official client and Azurite).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from measure import run_measured, warm

from conformance.azurite import Azurite, AzuriteBackend
from conformance.official import NODE_MODULES, command, missing_tools, node_env
from emulator import Emulator
from emulator.data import make_users_shard

MIB = 1024 * 1024
CASES = {"three-50mib": (3, 50 * MIB), "one-200mib": (1, 200 * MIB), "one-1gib": (1, 1024 * MIB)}
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mib: float
    size: int


@dataclass(frozen=True)
class Row:
    case: str
    ours: list[Run]
    official: list[Run]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child_ours:
        return _child_ours(args.child_ours)
    reason = missing_tools()
    if reason is not None:
        print(f"cannot benchmark: {reason}", file=sys.stderr)
        return 2
    rows = list(_bench(args.case or ["three-50mib"], args.runs, args.level, args.warmup))
    table = markdown(rows, args.runs, args.level)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps([summary(row) for row in rows]), encoding="utf-8")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded runs of each client first")
    parser.add_argument("--level", type=int, default=6, help="zip compression level of both clients")
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument("--json", help="also write each case's medians and zip sizes to this file")
    parser.add_argument("--child-ours", nargs="+", help=argparse.SUPPRESS)
    return parser


def _bench(cases: Sequence[str], runs: int, level: int, warmup: int) -> Iterator[Row]:
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as scratch, ExitStack() as stack:
        folder = Path(scratch)
        azurite = stack.enter_context(Azurite(NODE_MODULES, folder / "azurite"))
        (folder / "emulator").mkdir()
        emu = stack.enter_context(Emulator(folder / "emulator"))
        emu.blob_backend = AzuriteBackend(azurite, container="bench")
        workspace = folder / "workspace"
        workspace.mkdir()
        env = node_env(emu.env(), workspace)
        for case in cases:
            files = _make_files(folder / case, *CASES[case])
            yield _bench_case(case, files, env, runs, level, warmup)


def _make_files(root: Path, count: int, size: int) -> list[Path]:
    root.mkdir(parents=True)
    files = [root / f"users-28-day_part-{n}.ndjson" for n in range(1, count + 1)]
    for n, path in enumerate(files):
        make_users_shard(path, size, seed=f"bench-{n}")
    os.sync()  # as in shards.py: no writeback of the fresh files during the timed runs
    return files


def _bench_case(case: str, files: list[Path], env: Mapping[str, str], runs: int, level: int, warmup: int) -> Row:
    root = files[0].parent
    ours: list[Run] = []
    official: list[Run] = []
    # Interleaved, so drift in the machine's load or cache affects both clients alike.
    for attempt in range(warmup + runs):
        name = f"{case}-{attempt}"
        warm(files)
        ours_run = _measure(_ours_command(f"ours-{name}", root, files, level), env, REPO)
        warm(files)
        official_run = _measure(_official_command(f"official-{name}", root, files, level), env, REPO)
        if attempt >= warmup:
            ours.append(ours_run)
            official.append(official_run)
    return Row(case, ours, official)


def _ours_command(name: str, root: Path, files: list[Path], level: int) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-ours",
        name,
        str(root),
        str(level),
        *map(str, files),
    ]


def _official_command(name: str, root: Path, files: list[Path], level: int) -> list[str]:
    return command(
        "upload.mjs", ["--name", name, "--root", str(root), "--compression-level", str(level), *map(str, files)]
    )


def _measure(argv: list[str], env: Mapping[str, str], cwd: Path) -> Run:
    # Measured under the small spawn wrapper, not forked from this process: a child forked from a
    # process holding the emulator would report that process's memory as its own peak.
    child_env = {**env, "PYTHONPATH": os.pathsep.join(str(REPO / part) for part in ("src", "tests"))}
    sample = run_measured(argv, child_env, cwd)
    answer = json.loads(sample.output.strip().splitlines()[-1])
    return Run(sample.seconds, sample.peak_rss_mib, int(answer["size"]))


def _child_ours(args: Sequence[str]) -> int:
    from copilot_metrics.artifacts import ArtifactRuntime, UploadOptions, upload_artifact

    name, root, level, *files = args
    result = upload_artifact(
        [Path(file) for file in files],
        Path(root),
        UploadOptions(name=name, compression_level=int(level), retention_days=0, overwrite=True),
        runtime=ArtifactRuntime.from_env(os.environ),
        on_secret=lambda secret: None,
    )
    print(json.dumps({"id": result.id, "size": result.size, "digest": result.digest}))
    return 0


def summary(row: Row) -> dict[str, float | str]:
    """What the verdicts need of a case: the time ratio of the medians and both zips' sizes."""
    ours = statistics.median(run.seconds for run in row.ours)
    official = statistics.median(run.seconds for run in row.official)
    return {
        "case": row.case,
        "ratio": ours / official,
        "ours_zip": max(run.size for run in row.ours),
        "official_zip": min(run.size for run in row.official),
    }


def markdown(rows: Sequence[Row], runs: int, level: int) -> str:
    lines = [
        f"Upload of NDJSON reports, compression level {level}, median of {runs} runs, "
        "each client in its own process against the same Azurite and results service.",
        "",
        "| case | zip MiB (ours / official) | ours s | official s | ours/official "
        "| ours peak RSS MiB | official peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ours = statistics.median(run.seconds for run in row.ours)
        official = statistics.median(run.seconds for run in row.official)
        lines.append(
            f"| {row.case} | {row.ours[0].size / MIB:.1f} / {row.official[0].size / MIB:.1f} "
            f"| {ours:.2f} | {official:.2f} | {ours / official:.2f} "
            f"| {max(run.peak_rss_mib for run in row.ours):.0f} "
            f"| {max(run.peak_rss_mib for run in row.official):.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
