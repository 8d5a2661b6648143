"""What GitHub's runner does around an action step: its folders, file commands and INPUT_ variables.

The runner mounts five host folders at fixed places, starts the image's ENTRYPOINT in the
workspace, passes every input declared in ``action.yml`` as ``INPUT_<NAME>`` (upper-cased, hyphens
kept, defaults filled in even when the workflow gave nothing) and hands out file-command paths.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

WORKSPACE = "/github/workspace"
FILE_COMMANDS = "/github/file_commands"

_FOLDERS = {
    "workspace": WORKSPACE,
    "file_commands": FILE_COMMANDS,
    "home": "/github/home",
    "runner_temp": "/github/runner_temp",
    "workflow": "/github/workflow",
}
_GITHUB_EXPRESSION = re.compile(r"\$\{\{\s*github\.(\w+)\s*\}\}")
_FILE_COMMANDS = {
    "GITHUB_OUTPUT": "set_output",
    "GITHUB_STEP_SUMMARY": "step_summary",
    "GITHUB_ENV": "set_env",
    "GITHUB_PATH": "add_path",
    "GITHUB_STATE": "save_state",
}


@dataclass(frozen=True)
class Step:
    """The host side of one step: its folders and the file-command files the runner created."""

    root: Path
    guid: str

    @classmethod
    def create(cls, root: Path) -> Step:
        step = cls(root, str(uuid.uuid4()))
        for folder in _FOLDERS:
            (root / folder).mkdir(parents=True, exist_ok=True)
        (root / "workflow" / "event.json").write_text("{}", encoding="utf-8")
        for prefix in _FILE_COMMANDS.values():
            (root / "file_commands" / f"{prefix}_{step.guid}").touch()
        return step

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    def mounts(self) -> dict[Path, str]:
        return {self.root / folder: inside for folder, inside in _FOLDERS.items()}

    def env(self) -> dict[str, str]:
        env = {name: f"{FILE_COMMANDS}/{prefix}_{self.guid}" for name, prefix in _FILE_COMMANDS.items()}
        env.update(
            GITHUB_WORKSPACE=WORKSPACE,
            HOME="/github/home",
            RUNNER_TEMP="/github/runner_temp",
            GITHUB_EVENT_PATH="/github/workflow/event.json",
            GITHUB_EVENT_NAME="schedule",
            RUNNER_OS="Linux",
        )
        return env

    def file_command(self, name: str) -> Path:
        return self.root / "file_commands" / f"{_FILE_COMMANDS[name]}_{self.guid}"

    def host_path(self, inside: str) -> Path:
        """Where a path the action reported from inside the container lives on the host."""
        path = Path(inside)
        return self.workspace / (path.relative_to(WORKSPACE) if path.is_absolute() else path)


def declared_inputs(action_yml: Path) -> dict[str, str]:
    """Each declared input with its raw default (empty when it has none)."""
    metadata = yaml.safe_load(action_yml.read_text(encoding="utf-8"))
    inputs: dict[str, dict[str, object]] = metadata.get("inputs") or {}
    return {name: str(spec.get("default", "")) for name, spec in inputs.items()}


# What the runner puts in `github.token`: the job's GITHUB_TOKEN, which it never exports as a variable.
WORKFLOW_TOKEN = "ghs_WorkflowTokenStandIn0000000000000000"


def _evaluate(default: str, github: Mapping[str, str]) -> str:
    def context_value(match: re.Match[str]) -> str:
        name = match.group(1)
        return WORKFLOW_TOKEN if name == "token" else github[f"GITHUB_{name.upper()}"]

    evaluated = _GITHUB_EXPRESSION.sub(context_value, default)
    if "${{" in evaluated:
        raise AssertionError(f"the container tier cannot evaluate the default {default!r}")
    return evaluated


def input_env(action_yml: Path, github: Mapping[str, str], given: Mapping[str, str]) -> dict[str, str]:
    """``INPUT_*`` variables for every declared input: the test's value, else the evaluated default."""
    declared = declared_inputs(action_yml)
    undeclared = set(given) - set(declared)
    if undeclared:
        raise AssertionError(f"action.yml declares no input {sorted(undeclared)}")
    values = {name: given.get(name, _evaluate(default, github)) for name, default in declared.items()}
    return {f"INPUT_{name.replace(' ', '_').upper()}": value for name, value in values.items()}


def read_outputs(path: Path) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file: ``name=value`` lines and ``name<<DELIMITER`` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, _, delimiter = line.partition("<<")
            block = []
            for value_line in lines:
                if value_line == delimiter:
                    break
                block.append(value_line)
            else:
                raise AssertionError(f"output {name} has no closing {delimiter!r}")
            outputs[name] = "\n".join(block)
        elif line:
            name, _, value = line.partition("=")
            outputs[name] = value
    return outputs
