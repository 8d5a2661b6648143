"""Items 3 and 5: the whole action against what a user would script, and its peak memory by size.

Both sides fetch the same 1-day users report from the emulator and upload it at compression
level 6 through the emulator's results service into the same Azurite: the action as
entrypoint.py started like the runner starts it, the baseline as a bash step that curls the API
and the signed links and then uploads with the official @actions/artifact client.
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from measure import MIB, NODE_MODULES, Plan, Sample, median_rss, median_seconds, run_measured, spread, warm
from results import Section, Verdict, table
from runner import run_entrypoint
from shards import ShardCache

from conformance.azurite import Azurite, AzuriteBackend
from conformance.official import HERE as CONFORMANCE
from conformance.official import node_env
from emulator import Emulator

FULL = (10 * MIB, 100 * MIB, 1024 * MIB)
QUICK = (1 * MIB, 8 * MIB)
LEVEL = 6
TIME_TARGET = 0.5
RSS_TARGET_MIB = 100.0
RSS_FLAT = 0.10

# What a user would write in a `run:` step: the API for the links, curl for the files (4 at a
# time, like the action), then the official client for the artifact.
BASELINE = r"""
set -euo pipefail
body=$(curl --silent --show-error --fail \
  -H "Authorization: Bearer $TOKEN" -H "Accept: application/vnd.github+json" \
  -H "X-GitHub-Api-Version: 2026-03-10" "$API/orgs/octo/copilot/metrics/reports/users-1-day?day=$DAY")
args=()
n=0
while IFS= read -r link; do
  n=$((n + 1))
  args+=(--output "$DIR/part-$n.ndjson" "$link")
done < <(jq -r '.download_links[]' <<<"$body")
curl --silent --show-error --fail --create-dirs --parallel --parallel-max 4 "${args[@]}"
node "$UPLOAD" --name "$NAME" --root "$DIR" --compression-level "$LEVEL" "$DIR"/*.ndjson
"""


@dataclass(frozen=True)
class SizeResult:
    size: int
    action: list[Sample]
    baseline: list[Sample]


def bench_action(plan: Plan, shards: ShardCache, scratch: Path) -> list[Section]:
    sizes = QUICK if plan.quick else FULL
    with (
        Azurite(NODE_MODULES, scratch / "azurite-action") as azurite,
        Emulator(scratch / "emulator-action") as emu,
    ):
        emu.blob_backend = AzuriteBackend(azurite, container="bench-action")
        emu.link_ttl = 24 * 3600.0
        day = (emu.today - timedelta(days=3)).isoformat()
        results = [_size(emu, day, size, shards.file(size), plan, scratch) for size in sizes]
    return [_time_section(results, plan), _memory_section(results, plan)]


def _size(emu: Emulator, day: str, size: int, shard: Path, plan: Plan, scratch: Path) -> SizeResult:
    emu.set_shards("org", "octo", "users-1-day", emu.today - timedelta(days=3), [shard])
    action: list[Sample] = []
    baseline: list[Sample] = []
    for attempt in plan.attempts():
        name = f"bench-{size}-{attempt}"
        inputs = {"org": "octo", "report": "users-1-day", "day": day, "artifact-name": f"action-{name}"}
        warm([shard])
        sample, outputs = run_entrypoint(emu, scratch / "step", inputs)
        if not outputs.get("artifact-id"):
            raise RuntimeError(f"the action uploaded nothing:\n{sample.output[-4000:]}")
        warm([shard])
        theirs = _baseline(emu, day, f"baseline-{name}", scratch / "baseline")
        if plan.recorded(attempt):
            action.append(sample)
            baseline.append(theirs)
    return SizeResult(shard.stat().st_size, action, baseline)


def _baseline(emu: Emulator, day: str, name: str, folder: Path) -> Sample:
    workspace = folder / "workspace"
    workspace.mkdir(parents=True)
    env = node_env(emu.env(), workspace) | {
        "TOKEN": emu.token,
        "API": emu.api_url,
        "DAY": day,
        "DIR": str(workspace / "copilot-metrics"),
        "NAME": name,
        "LEVEL": str(LEVEL),
        "UPLOAD": str(CONFORMANCE / "upload.mjs"),
    }
    try:
        return run_measured(["bash", "-c", BASELINE], env, cwd=workspace)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ratio(result: SizeResult) -> float:
    return median_seconds(result.action) / median_seconds(result.baseline)


def _time_section(results: list[SizeResult], plan: Plan) -> Section:
    rows = [
        [
            f"{r.size / MIB:,.0f}",
            f"{median_seconds(r.action):.2f}",
            f"{median_seconds(r.baseline):.2f}",
            f"**{_ratio(r):.2f}**",
            f"{spread([s.seconds for s in r.action])} / {spread([s.seconds for s in r.baseline])}",
        ]
        for r in results
    ]
    header = ["report MiB", "action s", "curl + official client s", "action / baseline", "range s action / baseline"]
    intro = (
        f"`report: users-1-day` for one day whose single shard has the size shown; median of {plan.runs} runs after "
        f"{plan.warmup} warm-up run(s), interleaved. The action runs with its defaults otherwise (job summary on, "
        f"compression level {LEVEL}); its artifact and the baseline's go through the same results service into "
        "the same Azurite. The baseline is one bash process: `curl` for the API answer, `jq` for the links, "
        "`curl --parallel --parallel-max 4` for the files, `node upload.mjs` (the official `@actions/artifact` "
        f"client) at level {LEVEL}.\n\n```bash{BASELINE}```"
    )
    biggest = results[-1]
    verdict = Verdict(
        f"3. whole action, {biggest.size / MIB:,.0f} MiB users report, vs curl + official client",
        f"≤ {TIME_TARGET:.1f}x",
        f"{_ratio(biggest):.2f}x",
        _ratio(biggest) <= TIME_TARGET,
    )
    return Section("3. The whole action vs curl + the official client", intro + "\n\n" + table(header, rows), [verdict])


def _memory_section(results: list[SizeResult], plan: Plan) -> Section:
    peaks = [median_rss(r.action) for r in results]
    rows = [
        [
            f"{r.size / MIB:,.0f}",
            f"**{peak:.1f}**",
            spread([s.peak_rss_mib for s in r.action]),
            f"{median_rss(r.baseline):.1f}",
        ]
        for r, peak in zip(results, peaks, strict=True)
    ]
    header = ["report MiB", "action peak RSS MiB", "range MiB", "baseline peak RSS MiB (largest process)"]
    growth = max(peaks) / min(peaks) - 1
    intro = (
        f"Peak resident set of the action's process (`wait4` rusage), the same runs as item 3 "
        f"(median of {plan.runs}). The baseline's figure is its largest process, the node client."
    )
    verdicts = [
        Verdict(
            "5. action peak RSS, largest report",
            f"≤ {RSS_TARGET_MIB:.0f} MiB",
            f"{max(peaks):.1f} MiB",
            max(peaks) <= RSS_TARGET_MIB,
        ),
        Verdict(
            f"5. action peak RSS flat from {results[0].size / MIB:,.0f} to {results[-1].size / MIB:,.0f} MiB",
            f"≤ {RSS_FLAT:.0%} growth",
            f"{growth:+.1%} (median {statistics.median(peaks):.1f} MiB)",
            growth <= RSS_FLAT,
        ),
    ]
    return Section("5. Peak memory of the whole action by report size", intro + "\n\n" + table(header, rows), verdicts)
