"""The action's metadata, its workflows and examples, its Dockerfile and its README agree.

Schema checks use check-jsonschema's vendored schemas and zizmor runs offline, so the whole file
needs no network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))
ALL_WORKFLOWS = WORKFLOWS + EXAMPLES

# How workflows call this action: the placeholder the examples publish, or this very checkout.
OUR_ACTION = re.compile(r"(?:OWNER/copilot-metrics-report@v\d+|\./|\$/)")
STEP_OUTPUT = re.compile(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED = re.compile(r"[^@\s]+@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"\s+#\s*v\d+(?:\.\d+)*\s*$")


def load_yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name} is not a YAML mapping"
    return loaded


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def tool(name: str) -> str:
    """The path of a command-line tool; missing, it skips the test on a laptop and fails it on CI."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    message = f"{name} is not installed: run `make install`"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)


def action() -> dict[str, Any]:
    return load_yaml(ACTION)


def our_steps(workflow: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for job in (workflow.get("jobs") or {}).values():
        for step in job.get("steps") or []:
            if OUR_ACTION.fullmatch(str(step.get("uses", ""))):
                yield step


# --- schemas and static analysis ------------------------------------------------------------------


def test_there_are_workflows_and_examples_to_check() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"ci.yml", "release.yml"} <= {path.name for path in WORKFLOWS}
    assert {
        "daily.yml",
        "downstream.yml",
        "download-elsewhere.yml",
        "backfill-year.yml",
        "backfill-quarter.yml",
        "enterprise.yml",
        "ghe-com.yml",
        "daily-users.yml",
    } <= names


@pytest.mark.parametrize(
    ("schema", "paths"),
    [
        ("vendor.github-actions", [ACTION]),
        ("vendor.github-workflows", ALL_WORKFLOWS),
        ("vendor.dependabot", [DEPENDABOT]),
    ],
    ids=["action", "workflows", "dependabot"],
)
def test_files_validate_against_their_schema(schema: str, paths: list[Path]) -> None:
    checker = tool("check-jsonschema")
    result = run_tool(checker, "--builtin-schema", schema, *map(str, paths))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = tool("zizmor")
    inputs = [ACTION, DEPENDABOT, *ALL_WORKFLOWS]
    result = run_tool(zizmor, "--offline", "--format", "json", *map(relative, inputs))
    # 0: no findings; any other code means findings or a failure to audit.
    findings = json.loads(result.stdout or "[]")
    summary = [f"{finding['ident']}: {finding_place(finding)}" for finding in findings]
    assert result.returncode == 0 and not findings, "\n".join(summary) or result.stderr


def finding_place(finding: dict[str, Any]) -> str:
    location = finding["locations"][0]
    path = location["symbolic"]["key"].get("Local", {}).get("verbatim_path", "?")
    return f"{path}:{location['concrete']['location']['start_point']['row'] + 1}"


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=relative)
def test_other_actions_are_pinned_by_sha_with_their_version(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match or OUR_ACTION.fullmatch(match["ref"]):
            continue
        where = f"{relative(path)}:{number}"
        assert PINNED.fullmatch(match["ref"]), f"{where}: pin {match['ref']} by full commit SHA"
        assert VERSION_COMMENT.match(match["rest"]), f"{where}: add the version as a comment, e.g. # v1.2.3"


# --- the examples use the action as action.yml declares it --------------------------------------------


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=relative)
def test_workflows_pass_only_declared_inputs_and_every_required_one(path: Path) -> None:
    inputs = action()["inputs"]
    required = {name for name, spec in inputs.items() if spec.get("required")}
    for step in our_steps(load_yaml(path)):
        given = set(step.get("with") or {})
        assert given <= set(inputs), f"{relative(path)}: undeclared inputs {sorted(given - set(inputs))}"
        assert required <= given, f"{relative(path)}: missing required inputs {sorted(required - given)}"


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=relative)
def test_workflows_read_only_declared_outputs(path: Path) -> None:
    declared = set(action()["outputs"])
    ours = {str(step["id"]) for step in our_steps(load_yaml(path)) if "id" in step}
    used = {(step_id, name) for step_id, name in STEP_OUTPUT.findall(path.read_text(encoding="utf-8"))}
    undeclared = sorted(f"steps.{s}.outputs.{n}" for s, n in used if s in ours and n not in declared)
    assert not undeclared, f"{relative(path)}: {undeclared}"


def test_every_example_but_the_downloader_calls_the_action() -> None:
    without = {path.name for path in EXAMPLES if not list(our_steps(load_yaml(path)))}
    assert without == {"download-elsewhere.yml"}


# --- action.yml and the Dockerfile -------------------------------------------------------------------


def test_action_runs_the_dockerfile() -> None:
    assert action()["runs"] == {"using": "docker", "image": "Dockerfile"}


@pytest.mark.parametrize("name", sorted(action()["inputs"]))
def test_input_description_states_its_default(name: str) -> None:
    spec = action()["inputs"][name]
    description = " ".join(str(spec.get("description", "")).split())
    if "default" not in spec:
        assert spec.get("required") is True, f"{name}: no default, so it must be required"
        return
    assert "Default:" in description, f"{name}: say 'Default: ...' in the description"
    stated = description.split("Default:", 1)[1].strip()
    default = str(spec["default"])
    if default == "":
        assert stated.startswith("empty"), f"{name}: the default is empty, the description says {stated!r}"
    elif "${{" not in default:
        assert stated.startswith(default), f"{name}: the default is {default!r}, the description says {stated!r}"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in joined.splitlines()]
    pairs = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def test_dockerfile_entrypoint_is_exec_form_with_an_absolute_path() -> None:
    entrypoints = [args for instruction, args in dockerfile_instructions() if instruction == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    # A shell form would start /bin/sh, which drops the runner's hyphenated INPUT_* variables.
    try:
        command = json.loads(entrypoints[0])
    except json.JSONDecodeError:
        pytest.fail(f"ENTRYPOINT {entrypoints[0]} is shell form: write it as a JSON array")
    assert isinstance(command, list) and command
    assert all(isinstance(part, str) for part in command)
    assert command[0].startswith("/")


def test_dockerfile_pins_its_base_image_by_digest_and_installs_the_lock_by_hash() -> None:
    instructions = dockerfile_instructions()
    [base] = [args for instruction, args in instructions if instruction == "ARG" and args.startswith("BASE_IMAGE=")]
    stage = base.removeprefix("BASE_IMAGE=")
    # Dependabot reads FROM lines only, so the pinned image is named in one, as a stage.
    pinned = [args for instruction, args in instructions if instruction == "FROM" and args.endswith(f" AS {stage}")]
    assert len(pinned) == 1 and re.fullmatch(r"python:[\w.-]+@sha256:[0-9a-f]{64} AS [\w-]+", pinned[0]), pinned
    installs = [args for instruction, args in instructions if instruction == "RUN" and "pip install" in args]
    assert installs and all("--require-hashes" in args and "--no-deps" in args for args in installs)


def test_every_locked_requirement_carries_its_hashes() -> None:
    joined = re.sub(r"\\\n", " ", (ROOT / "requirements.txt").read_text(encoding="utf-8"))
    pins = [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    assert pins
    for pin in pins:
        assert re.match(r"[A-Za-z0-9_.-]+==[^ ]+ ", pin) and "--hash=sha256:" in pin, pin


def test_dockerfile_runs_as_root() -> None:
    # The runner mounts the workspace for root; another user could not write the report files.
    assert "USER" not in {instruction for instruction, _ in dockerfile_instructions()}


# --- dependabot ---------------------------------------------------------------------------------


def test_dependabot_watches_every_dependency_kind() -> None:
    updates = {(u["package-ecosystem"], u["directory"]) for u in load_yaml(DEPENDABOT)["updates"]}
    assert updates >= {("pip", "/"), ("docker", "/"), ("github-actions", "/"), ("npm", "/tests/conformance")}


# --- README tables ------------------------------------------------------------------------------


def readme_table(header: tuple[str, ...]) -> list[list[str]]:
    """The body rows of the one README table whose header row is ``header``."""
    assert README.is_file(), "README.md is missing"
    tables: list[list[list[str]]] = []
    rows: list[list[str]] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else []
        if not cells:
            rows = None
        elif rows is not None:
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                rows.append(cells)
        elif tuple(cell.lower() for cell in cells) == header:
            rows = []
            tables.append(rows)
    assert len(tables) == 1, f"README.md needs exactly one table headed | {' | '.join(header)} |"
    return tables[0]


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def readme_default(cell: str) -> str | None:
    """A default cell: `value`, or empty (with any explanation), or required (no default)."""
    spans = code_spans(cell)
    if spans:
        return "" if spans[0] in ('""', "''") else spans[0]
    text = cell.lower()
    if "required" in text:
        return None
    if text.startswith("empty") or text == "":
        return ""
    return cell


def test_readme_inputs_table_matches_action_yml() -> None:
    rows = readme_table(("input", "default", "description"))
    documented = {code_spans(row[0])[0]: readme_default(row[1]) for row in rows if code_spans(row[0])}
    declared = {
        name: (str(spec["default"]) if "default" in spec else None) for name, spec in action()["inputs"].items()
    }
    assert documented == declared


def readme_steps(node: object) -> Iterator[dict[str, Any]]:
    """Every step of this action anywhere inside a parsed README snippet."""
    if isinstance(node, dict):
        if OUR_ACTION.fullmatch(str(node.get("uses", ""))):
            yield node
        for value in node.values():
            yield from readme_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from readme_steps(item)


def test_readme_snippets_pass_only_declared_inputs() -> None:
    assert README.is_file(), "README.md is missing"
    snippets = re.findall(r"```ya?ml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    steps = [step for snippet in snippets for step in readme_steps(yaml.safe_load(snippet))]
    assert steps, "the README shows no step using the action"
    declared = set(action()["inputs"])
    for step in steps:
        assert set(step.get("with") or {}) <= declared, step


def test_readme_outputs_table_matches_action_yml() -> None:
    rows = readme_table(("output", "description"))
    # One row may describe several outputs, e.g. `artifact-id`, `artifact-url`, `artifact-digest`.
    documented = [name for row in rows for name in code_spans(row[0])]
    assert sorted(documented) == sorted(action()["outputs"])


def test_the_code_defaults_are_the_declared_ones() -> None:
    """Outside Actions (the command line, tests) settings.DEFAULTS stand in for action.yml's."""
    from copilot_metrics.settings import DEFAULTS

    declared = load_yaml(ACTION)["inputs"]
    assert set(DEFAULTS) == set(declared)
    for name, spec in declared.items():
        default = str(spec.get("default", ""))
        # Context expressions are the runner's to fill; the code falls back to the same context.
        assert DEFAULTS[name] == ("" if "${{" in default else default), name
