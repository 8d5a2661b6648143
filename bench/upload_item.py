"""Item 2: our artifact upload vs the official client, measured by bench/upload_bench.py."""

from __future__ import annotations

import sys
from pathlib import Path

from measure import REPO, Plan, python_env, run_measured
from results import Section, Verdict

UPLOAD_BENCH = REPO / "bench" / "upload_bench.py"


def bench_upload(plan: Plan, scratch: Path) -> Section:
    cases = ["three-50mib"] if plan.quick else ["three-50mib", "one-1gib"]
    output = scratch / "upload.md"
    argv = [sys.executable, str(UPLOAD_BENCH), "--runs", str(plan.runs), "--warmup", str(plan.warmup)]
    argv += [arg for case in cases for arg in ("--case", case)]
    run_measured([*argv, "--output", str(output)], python_env(), cwd=REPO)
    command = "PYTHONPATH=src:tests python3 bench/upload_bench.py " + " ".join(argv[2:])
    body = f"`{command}`\n\n" + output.read_text(encoding="utf-8").strip()
    reference = Verdict("2. upload vs the official client", "no target set", "see item 2", None)
    return Section("2. Upload: ours vs the official @actions/artifact client", body, [reference])
