"""The command line, run as a user runs it: `python -m copilot_metrics`, token in the environment."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from action_run import ROOT
from emulator import Emulator, Fault


def cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src"), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "copilot_metrics", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_downloads_into_out_and_prints_the_outputs(emu: Emulator, tmp_path: Path) -> None:
    day = emu.today - dt.timedelta(days=3)
    finished = cli(
        ["--org", "octo", "--report", "users-1-day", "--day", str(day), "--api-url", emu.api_url, "--out", "metrics"],
        tmp_path,
        {"COPILOT_METRICS_TOKEN": emu.token},
    )

    assert finished.returncode == 0, finished.stderr
    outputs = json.loads(finished.stdout)
    assert outputs["report_start_day"] == outputs["report_end_day"] == day.isoformat()
    for name, data in emu.expected_files("org", "octo", "users-1-day", day):
        assert (tmp_path / "metrics" / day.isoformat() / name).read_bytes() == data
    assert "Downloaded" in finished.stderr
    assert "::" not in finished.stdout + finished.stderr  # no workflow commands outside Actions
    assert emu.token not in finished.stdout + finished.stderr
    assert not [r for r in emu.requests if r.host in ("results", "blob")]


def test_dashboard_writes_the_page_of_the_days_downloaded(emu: Emulator, tmp_path: Path) -> None:
    finished = cli(
        ["--org", "octo", "--api-url", emu.api_url, "--out", "metrics", "--dashboard"],
        tmp_path,
        {"COPILOT_METRICS_TOKEN": emu.token},
    )

    assert finished.returncode == 0, finished.stderr
    page = tmp_path / "metrics" / "dashboard" / "index.html"
    assert "dashboard/index.html" in json.loads(json.loads(finished.stdout)["files"])[-1]
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert "::" not in finished.stdout + finished.stderr


def test_token_comes_from_the_named_variable(emu: Emulator, tmp_path: Path) -> None:
    finished = cli(
        ["--enterprise", "octo-ent", "--api-url", emu.api_url, "--token-env", "MY_TOKEN"],
        tmp_path,
        {"MY_TOKEN": emu.token},
    )

    assert finished.returncode == 0, finished.stderr
    assert [r.path for r in emu.requests if r.host == "api"] == [
        "/enterprises/octo-ent/copilot/metrics/reports/enterprise-28-day/latest"
    ]


def test_missing_token_is_exit_code_1(emu: Emulator, tmp_path: Path) -> None:
    finished = cli(["--org", "octo", "--api-url", emu.api_url], tmp_path)

    assert finished.returncode == 1
    assert "COPILOT_METRICS_TOKEN is empty" in finished.stderr
    assert emu.requests == []


def test_refusals_and_bad_options_are_exit_code_1(emu: Emulator, tmp_path: Path) -> None:
    refused = cli(["--org", "octo", "--api-url", emu.api_url], tmp_path, {"COPILOT_METRICS_TOKEN": "ghp_wrong"})
    invalid = cli(["--org", "../x", "--api-url", emu.api_url], tmp_path, {"COPILOT_METRICS_TOKEN": emu.token})

    assert (refused.returncode, invalid.returncode) == (1, 1)
    assert "401" in refused.stderr and "'org'" in invalid.stderr
    assert "Traceback" not in refused.stderr + invalid.stderr


def test_malformed_command_line_is_exit_code_2(tmp_path: Path) -> None:
    assert cli(["--org", "a", "--enterprise", "b"], tmp_path).returncode == 2
    assert cli([], tmp_path).returncode == 2


def test_help_documents_every_option_and_the_exit_codes(tmp_path: Path) -> None:
    text = cli(["--help"], tmp_path).stdout

    for option in (
        "--org",
        "--enterprise",
        "--report",
        "--day",
        "--api-url",
        "--out",
        "--csv",
        "--dashboard",
        "--if-no-report",
        "--token-env",
    ):
        assert option in text
    assert "exit codes" in text and "users-1-day" in text


def test_inside_a_workflow_step_stdout_is_only_the_json_result(emu: Emulator, tmp_path: Path) -> None:
    """A `run:` step sees GITHUB_ACTIONS=true; `copilot-metrics ... > result.json` must still be JSON."""
    step_env = {"COPILOT_METRICS_TOKEN": emu.token, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out")}
    finished = cli(["--org", "octo", "--api-url", emu.api_url], tmp_path, step_env)

    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["report_end_day"]
    assert "::" not in finished.stdout + finished.stderr
    assert emu.token not in finished.stdout + finished.stderr
    assert not (tmp_path / "out").exists()


def test_a_multi_line_server_message_cannot_forge_workflow_commands(emu: Emulator, tmp_path: Path) -> None:
    forged = b'{"message": "Invalid\\n::set-output name=files::forged\\r\\n::warning::forged"}'
    emu.inject(Fault(host="api", status=422, body=forged))
    env = {"COPILOT_METRICS_TOKEN": emu.token, "GITHUB_ACTIONS": "true"}

    finished = cli(["--org", "octo", "--api-url", emu.api_url], tmp_path, env)

    assert finished.returncode == 1
    lines = finished.stderr.splitlines()
    assert not [line for line in lines if line.startswith("::")], lines
    assert lines[-1].startswith("error: GitHub refused the request (HTTP 422"), lines
    assert "\\n::set-output" in lines[-1]
    assert finished.stdout == ""
