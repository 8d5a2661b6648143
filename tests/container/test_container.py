"""The real Dockerfile, built on the stand-in base and run with the runner's mounts and env."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from container import buildah
from container.project import ACTION_YML, ROOT
from container.runner import run_step
from emulator import Emulator
from runner_step import Step, input_env, read_outputs

# Prints what /action holds (sources, and which of them were compiled at build time) and whether
# a compiler or a pip cache made it into the image.
_SURVEY = """
import json, pathlib, shutil
root = pathlib.Path("/action")
print(json.dumps({
    "files": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
    "compiled": sorted(p.name.split(".")[0] for p in root.rglob("__pycache__/*.pyc")),
    "compilers": [c for c in ("cc", "gcc", "clang") if shutil.which(c)],
    "pip_cache": pathlib.Path("/root/.cache/pip").exists(),
}))
"""


def _survey(image: str) -> dict[str, object]:
    done = buildah.run(image, ["/usr/local/bin/python", "-c", _SURVEY], env={}, mounts={}, workdir="/")
    assert done.returncode == 0, done.stderr
    survey: dict[str, object] = json.loads(done.stdout)
    return survey


def _shipped_sources() -> list[str]:
    """The package's files (its modules and the dashboard's page and vendored charting library)."""
    package = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "src" / "copilot_metrics").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    return sorted(["entrypoint.py", "requirements.txt", *package])


def test_image_follows_the_container_action_rules(action_image: str) -> None:
    config = buildah.image_config(action_image)
    command = buildah.entrypoint(action_image)
    assert Path(command[0]).is_absolute() and command[-1] == "/action/entrypoint.py"
    assert not config.get("User")
    assert not config.get("WorkingDir")


def test_image_holds_only_the_action_precompiled(action_image: str) -> None:
    survey = _survey(action_image)
    sources = _shipped_sources()
    assert survey["files"] == sources
    assert survey["compiled"] == sorted(Path(source).stem for source in sources if source.endswith(".py"))
    assert survey["compilers"] == []
    assert survey["pip_cache"] is False


def run_as_runner(image: str, emu: Emulator, folder: Path, inputs: dict[str, str]) -> tuple[Step, buildah.Finished]:
    """One step of the image with the emulator's context and `inputs` (the token added)."""
    step = Step.create(folder)
    github = emu.env()
    return step, run_step(image, step, {**github, **input_env(ACTION_YML, github, {"token": emu.token, **inputs})})


def test_run_keeps_the_report_uploads_it_and_sets_outputs(action_image: str, tmp_path: Path) -> None:
    with Emulator(tmp_path / "github") as emu:
        step, done = run_as_runner(action_image, emu, tmp_path / "step", {"retention-days": "5"})
        github = emu.env()
        assert done.returncode == 0, done.stdout + done.stderr
        outputs = read_outputs(step.file_command("GITHUB_OUTPUT"))
        expected = dict(emu.expected_files("org", "octo", "organization-28-day"))
        start, end = emu.window("org", "octo")
        assert (outputs["report_start_day"], outputs["report_end_day"]) == (
            start.isoformat(),
            end.isoformat(),
        )
        kept = {step.host_path(path).name: step.host_path(path).read_bytes() for path in json.loads(outputs["files"])}
        assert kept == expected
        (artifact,) = emu.artifacts.values()
        assert artifact.blob is not None
        # Only a hyphenated variable (INPUT_RETENTION-DAYS) could have set this: it proves such
        # names reach Python, which a shell between the runner and the action would drop.
        assert artifact.expires_at is not None
        with zipfile.ZipFile(io.BytesIO(artifact.blob)) as archive:
            assert {name: archive.read(name) for name in archive.namelist()} == expected
        assert outputs["artifact-id"] == str(artifact.id)
        assert outputs["artifact-digest"] == hashlib.sha256(artifact.blob).hexdigest()
        run_url = f"{github['GITHUB_SERVER_URL']}/{github['GITHUB_REPOSITORY']}/actions/runs/{github['GITHUB_RUN_ID']}"
        assert outputs["artifact-url"] == f"{run_url}/artifacts/{artifact.id}"
        assert step.file_command("GITHUB_STEP_SUMMARY").read_text(encoding="utf-8")


def test_bad_input_fails_with_one_error_and_sends_nothing(action_image: str, tmp_path: Path) -> None:
    with Emulator(tmp_path / "github") as emu:
        _, done = run_as_runner(action_image, emu, tmp_path / "step", {"org": "../x"})
        errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
        assert done.returncode == 1, done.stdout + done.stderr
        assert len(errors) == 1 and "org" in errors[0], done.stdout
        assert emu.requests == []
