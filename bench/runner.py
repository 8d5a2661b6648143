"""entrypoint.py started the way the Actions runner starts a container action, measured."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from measure import Sample, base_env, run_measured

from action_run import ACTION_YML, ENTRYPOINT
from emulator import Emulator
from runner_step import Step, input_env, read_outputs

FILE_COMMANDS = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")


def run_entrypoint(
    emu: Emulator, folder: Path, inputs: Mapping[str, str], github: Mapping[str, str] | None = None
) -> tuple[Sample, dict[str, str]]:
    """One step: every declared input as INPUT_* (defaults filled in), file commands, runtime
    variables, cwd = workspace. `github` overrides the emulator's context variables. The step's
    folders are removed afterwards, so big reports do not pile up on disk."""
    step = Step.create(folder)
    try:
        sample = run_measured(
            [sys.executable, str(ENTRYPOINT)], step_env(emu, step, inputs, github), cwd=step.workspace
        )
        return sample, read_outputs(step.file_command("GITHUB_OUTPUT"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def step_env(
    emu: Emulator, step: Step, inputs: Mapping[str, str], github: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What the runner hands entrypoint.py for one step against the emulator."""
    context = {**emu.env(), **(github or {})}
    return {
        **base_env(),
        "HOME": str(step.root / "home"),
        "RUNNER_TEMP": str(step.root / "runner_temp"),
        **context,
        **input_env(ACTION_YML, context, {"token": emu.token, **inputs}),
        **{name: str(step.file_command(name)) for name in FILE_COMMANDS},
        "GITHUB_WORKSPACE": str(step.workspace),
    }
