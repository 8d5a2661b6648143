"""entrypoint.py run as the runner runs it, against the emulator: the whole job, and how it fails."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from action_run import ActionRun, artifact_entries, assert_no_leaks, expected_entries, run_action
from emulator import Emulator, Fault


def report_files(run: ActionRun) -> dict[str, bytes]:
    folder = run.workspace / "copilot-metrics"
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def assert_failed_cleanly(run: ActionRun, emu: Emulator, *phrases: str) -> None:
    assert run.code == 1, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stdout
    for phrase in phrases:
        assert phrase in run.errors[0]
    assert "Traceback" not in run.stderr
    assert not [a for a in emu.artifacts.values() if a.finalized]
    assert report_files(run) == {}
    assert_no_leaks(run, emu)


def test_latest_28_day_report_becomes_artifact_and_outputs(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "step")

    assert run.code == 0, run.stdout + run.stderr
    expected = expected_entries(emu, "org", "octo", "organization-28-day")
    assert len(expected) == 2
    assert report_files(run) == expected
    start, end = emu.window()
    assert run.outputs["report_start_day"] == start.isoformat()
    assert run.outputs["report_end_day"] == end.isoformat()
    name = f"copilot-metrics_org-octo_organization-28-day_{start}_{end}"
    stored = emu.artifacts[name]
    assert stored.finalized and stored.content_type == "application/zip"
    assert stored.blob is not None
    assert artifact_entries(stored.blob) == expected
    assert run.outputs["artifact-id"] == str(stored.id)
    assert f"sha256:{run.outputs['artifact-digest']}" == stored.hash
    assert (
        run.outputs["artifact-url"]
        == f"https://github.com/octo/metrics/actions/runs/{emu.run_id}/artifacts/{stored.id}"
    )
    assert Path(run.outputs["directory"]) == (run.workspace / "copilot-metrics").resolve()
    assert json.loads(run.outputs["files"]) == [f"copilot-metrics/{name}" for name in expected]
    assert start.isoformat() in run.summary and name in run.summary
    assert_no_leaks(run, emu)


def test_api_request_carries_the_documented_headers(emu: Emulator, tmp_path: Path) -> None:
    run_action(emu, tmp_path / "step", {"upload": "false"})

    api = [r for r in emu.requests if r.host == "api"]
    assert [r.path for r in api] == ["/orgs/octo/copilot/metrics/reports/organization-28-day/latest"]
    headers = api[0].headers
    assert headers["Authorization"] == f"Bearer {emu.token}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2026-03-10"
    assert headers["User-Agent"].startswith("copilot-metrics-report/")
    downloads = [r for r in emu.requests if r.host == "download"]
    assert len(downloads) == 2 and all("Authorization" not in r.headers for r in downloads)


def test_rerun_of_the_job_replaces_the_artifact(emu: Emulator, tmp_path: Path) -> None:
    first = run_action(emu, tmp_path / "first")
    second = run_action(emu, tmp_path / "second")

    assert first.code == 0 and second.code == 0, second.stdout
    assert second.outputs["artifact-id"] != first.outputs["artifact-id"]
    live = [a for a in emu.artifacts.values() if a.finalized and not a.deleted]
    assert [str(a.id) for a in live] == [second.outputs["artifact-id"]]


def test_rerun_without_overwrite_names_the_conflict(emu: Emulator, tmp_path: Path) -> None:
    assert run_action(emu, tmp_path / "first").code == 0
    second = run_action(emu, tmp_path / "second", {"overwrite": "false"})

    assert second.code == 1
    assert len(second.errors) == 1 and "already exists" in second.errors[0] and "overwrite" in second.errors[0]


def test_upload_false_only_downloads(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "step", {"upload": "false"}, env={"ACTIONS_RUNTIME_TOKEN": ""})

    assert run.code == 0, run.stdout
    assert report_files(run) == expected_entries(emu, "org", "octo", "organization-28-day")
    assert not [r for r in emu.requests if r.host in ("results", "blob")]
    assert run.outputs["artifact-id"] == run.outputs["artifact-url"] == run.outputs["artifact-digest"] == ""


def test_server_errors_are_retried(emu: Emulator, tmp_path: Path) -> None:
    emu.inject(Fault(host="api", status=503, times=2, headers={"Retry-After": "0"}))
    emu.inject(Fault(host="api", status=429, headers={"Retry-After": "0"}))

    run = run_action(emu, tmp_path / "step")

    assert run.code == 0, run.stdout
    assert len([r for r in emu.requests if r.host == "api"]) == 4
    assert report_files(run) == expected_entries(emu, "org", "octo", "organization-28-day")


def test_missing_runtime_token_explains_where_the_action_must_run(emu: Emulator, tmp_path: Path) -> None:
    run = run_action(emu, tmp_path / "step", env={"ACTIONS_RUNTIME_TOKEN": "", "ACTIONS_RESULTS_URL": ""})

    assert_failed_cleanly(run, emu, "ACTIONS_RUNTIME_TOKEN", "GitHub Actions job", "upload: false")
    assert emu.requests == []


@pytest.mark.parametrize("org", ["../x", "octo/evil", "-octo", "octo-", "oc--to", "o" * 40, "octo%2F", "ōcto", "oc to"])
def test_invalid_org_is_rejected_before_any_request(emu: Emulator, tmp_path: Path, org: str) -> None:
    run = run_action(emu, tmp_path / "step", {"org": org})

    assert_failed_cleanly(run, emu, "'org'")
    assert emu.requests == []


def test_a_folder_that_cannot_be_written_is_explained(emu: Emulator, tmp_path: Path) -> None:
    day = emu.today - dt.timedelta(days=3)
    blocker = tmp_path / "step" / "workspace" / "copilot-metrics" / day.isoformat()
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the day's folder should go")

    run = run_action(emu, tmp_path / "step", {"report": "users-1-day", "day": day.isoformat()})

    assert run.code == 1, run.stdout
    assert len(run.errors) == 1 and "Writing the report files failed" in run.errors[0]
    assert "Traceback" not in run.stderr
    assert not [a for a in emu.artifacts.values() if a.finalized]
    assert [p.name for p in blocker.parent.iterdir()] == [day.isoformat()]  # no staging folder left
