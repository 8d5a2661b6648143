"""Run entrypoint.py exactly as the Actions runner runs a container action's entry point, against
the emulator, and read back everything it printed and wrote."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from emulator import Emulator
from runner_step import Step, input_env, read_outputs

ROOT = Path(__file__).resolve().parents[1]
ACTION_YML = ROOT / "action.yml"
ENTRYPOINT = ROOT / "entrypoint.py"
# What never belongs in a log line: the action escapes control characters in outside text, so
# these come only from a broken stream (a line lost to a race between threads leaves stray memory).
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    step: Step

    @property
    def workspace(self) -> Path:
        return self.step.workspace

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::error::")]

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::warning::")]

    def everything_written(self) -> str:
        """What a reader of the log, the outputs or the summary could see (masks excluded)."""
        printed = [line for line in self.stdout.splitlines() if not line.startswith("::add-mask::")]
        outputs = self.step.file_command("GITHUB_OUTPUT").read_text(encoding="utf-8")
        return "\n".join([*printed, self.stderr, outputs, self.summary])


def run_action(
    emu: Emulator,
    folder: Path,
    inputs: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
) -> ActionRun:
    """Start entrypoint.py as the runner would: every declared input as INPUT_<NAME> (defaults
    filled in), the file-command files, the runtime variables, cwd = workspace."""
    step = Step.create(folder)
    github = emu.env()
    given = {"token": emu.token, **(inputs or {})}
    process_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(step.root / "home"),
        "RUNNER_TEMP": str(step.root / "runner_temp"),
        **github,
        **input_env(ACTION_YML, github, given),
        **{name: str(step.file_command(name)) for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")},
        "GITHUB_WORKSPACE": str(step.workspace),
        **(env or {}),
    }
    finished = subprocess.run(
        [sys.executable, str(ENTRYPOINT)],
        cwd=step.workspace,
        env=process_env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return ActionRun(
        code=finished.returncode,
        stdout=printed_text(finished.stdout),
        stderr=printed_text(finished.stderr),
        outputs=read_outputs(step.file_command("GITHUB_OUTPUT")),
        summary=step.file_command("GITHUB_STEP_SUMMARY").read_text(encoding="utf-8"),
        step=step,
    )


def printed_text(printed: bytes) -> str:
    """What the action printed, which must be UTF-8 text without control bytes."""
    try:
        text = printed.decode()
    except UnicodeDecodeError as broken:
        around = printed[max(0, broken.start - 80) : broken.end + 80]
        raise AssertionError(f"the action printed bytes that are not UTF-8: {around!r}") from None
    stray = _NOT_TEXT.search(text)
    assert stray is None, f"the action printed control bytes: {text[max(0, stray.start() - 80) : stray.end() + 80]!r}"
    return text


def secrets_of(emu: Emulator) -> set[str]:
    """Every credential the action held during the run: the token, the runtime token, and the
    signatures and SAS query strings of every signed URL the emulator saw used."""
    found = {emu.token, emu.runtime_token}
    for request in emu.requests:
        if request.host in ("download", "blob") and request.query:
            found.add(request.query)
            found.update(value for name, value in parse_qsl(request.query) if name == "sig")
    return {secret for secret in found if secret}


def assert_no_leaks(run: ActionRun, emu: Emulator) -> None:
    """No secret in anything printed or written, and no credential sent to a download or blob host."""
    written = run.everything_written()
    leaked = [secret[:6] + "…" for secret in secrets_of(emu) if secret in written]
    assert not leaked, f"secrets visible in the log, outputs or summary: {leaked}"
    assert not emu.leaks, f"credentials reached a download or blob host: {emu.leaks}"
    for request in emu.requests:
        if request.host in ("download", "blob"):
            assert "Authorization" not in request.headers, f"{request.host} got an Authorization header"
            assert all(emu.token not in value for value in request.headers.values())


def artifact_entries(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def expected_entries(
    emu: Emulator, scope: str, owner: str, report: str, days: Iterable[dt.date | None] = (None,)
) -> dict[str, bytes]:
    """What the artifact must hold: the emulator's shards, under a day folder for 1-day reports."""
    entries: dict[str, bytes] = {}
    for day in days:
        prefix = f"{day}/" if day is not None else ""
        for name, data in emu.expected_files(scope, owner, report, day):
            entries[prefix + name] = data
    return entries
