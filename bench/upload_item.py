"""Item 2: our artifact upload vs the official client, measured by bench/upload_bench.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from measure import REPO, Plan, python_env, run_measured
from results import Section, Verdict

UPLOAD_BENCH = REPO / "bench" / "upload_bench.py"
TIME_TARGET = 0.4
MIB = 1024 * 1024


def bench_upload(plan: Plan, scratch: Path) -> Section:
    cases = ["three-50mib"] if plan.quick else ["one-200mib", "one-1gib"]
    output = scratch / "upload.md"
    figures = scratch / "upload.json"
    argv = [sys.executable, str(UPLOAD_BENCH), "--runs", str(plan.runs), "--warmup", str(plan.warmup)]
    argv += [arg for case in cases for arg in ("--case", case)]
    run_measured([*argv, "--output", str(output), "--json", str(figures)], python_env(), cwd=REPO)
    command = "PYTHONPATH=src:tests python3 bench/upload_bench.py " + " ".join(argv[2:])
    body = f"`{command}`\n\n" + output.read_text(encoding="utf-8").strip()
    verdicts = [verdict for case in json.loads(figures.read_text(encoding="utf-8")) for verdict in _verdicts(case)]
    return Section("2. Upload: ours vs the official @actions/artifact client", body, verdicts)


def _verdicts(case: dict[str, Any]) -> list[Verdict]:
    ratio, ours, official = case["ratio"], case["ours_zip"], case["official_zip"]
    return [
        Verdict(
            f"2. upload phase, {case['case']}: time vs the official client",
            f"≤ {TIME_TARGET}x",
            f"{ratio:.2f}x",
            ratio <= TIME_TARGET,
        ),
        Verdict(
            f"2. upload, {case['case']}: zip size vs the official client's",
            "no larger",
            f"{ours / MIB:.2f} / {official / MIB:.2f} MiB",
            ours <= official,
        ),
    ]
