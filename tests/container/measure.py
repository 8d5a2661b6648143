"""Figures for bench/container.md: image weight, build time on a warm base, start-to-outputs time.

Run from the ``tests`` folder: ``python -m container.measure``. Prints a Markdown table.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from container import buildah, standin
from container.project import ACTION_YML, IMAGE, ROOT
from container.runner import run_step
from emulator import Emulator
from runner_step import Step, input_env, read_outputs

RUNS = 5


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _kilobytes(sizes: list[int]) -> str:
    return ", ".join(f"{size / 1e3:,.0f}" for size in sizes)


def _one_run(image: str) -> float:
    with tempfile.TemporaryDirectory() as work, Emulator(Path(work) / "github") as emu:
        step = Step.create(Path(work) / "step")
        github = emu.env()
        env = {**github, **input_env(ACTION_YML, github, {"token": emu.token})}
        started = time.perf_counter()
        done = run_step(image, step, env)
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or "artifact-id" not in read_outputs(step.file_command("GITHUB_OUTPUT")):
            raise SystemExit(f"the action failed:\n{done.stdout}{done.stderr}")
        return elapsed


def _bare_start(image: str) -> float:
    return _seconds(
        lambda: buildah.run(
            image,
            ["/usr/local/bin/python", "-c", "pass"],
            env={},
            mounts={},
            workdir="/",
        )
    )


def _extract(layers: list[Path]) -> float:
    """Seconds to unpack `layers` into an empty folder, as a pull does after the download."""
    with tempfile.TemporaryDirectory() as target:
        return _seconds(
            lambda: [subprocess.run(["tar", "-xzf", str(layer), "-C", target], check=True) for layer in layers]
        )


def main() -> int:
    base = standin.ensure_standin()
    build = _seconds(lambda: buildah.build(ROOT, IMAGE, {"BASE_IMAGE": base}, no_cache=True))
    base_layers = len(buildah.layer_sizes(base))
    ours = buildah.layer_sizes(IMAGE)[base_layers:]
    with tempfile.TemporaryDirectory() as layout:
        pushed = buildah.pushed_layers(IMAGE, Path(layout) / "image")[base_layers:]
        compressed = [layer.stat().st_size for layer in pushed]
        extraction = statistics.median(_extract(pushed) for _ in range(RUNS))
    runs = [_one_run(IMAGE) for _ in range(RUNS)]
    bare = [_bare_start(IMAGE) for _ in range(RUNS)]
    rows = [
        (
            "added over the base",
            f"{len(ours)} layers, {sum(ours) / 1e6:.1f} MB (in order: {_kilobytes(ours)} kB)",
        ),
        (
            "the same layers as pushed (gzip)",
            f"{sum(compressed) / 1e6:.1f} MB (in order: {_kilobytes(compressed)} kB)",
        ),
        (f"unpacking them (`tar -xzf`), median of {RUNS}", f"{extraction:.2f} s"),
        ("build, warm base, no layer cache", f"{build:.1f} s"),
        (
            f"start to outputs, 28-day report, median of {RUNS}",
            f"{statistics.median(runs):.2f} s",
        ),
        (
            f"bare container start (`python -c pass`), median of {RUNS}",
            f"{statistics.median(bare):.2f} s",
        ),
    ]
    print("| measure | value |\n|---|---|")
    print("\n".join(f"| {name} | {value} |" for name, value in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
