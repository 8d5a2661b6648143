"""The official `@actions/artifact` npm client, driven through the small node scripts beside this file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
_REQUIRED = ("@actions/artifact", "azurite")
_TIMEOUT = 900.0


def missing_tools() -> str | None:
    """Why the tier cannot run here, or None when node and the pinned npm packages are present."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    absent = [name for name in _REQUIRED if not (NODE_MODULES / name / "package.json").is_file()]
    if absent:
        return f"npm packages {absent} are missing: run `npm ci --prefix tests/conformance`"
    return None


def node_env(emulator_env: Mapping[str, str], workspace: Path) -> dict[str, str]:
    """What a runner hands a node action: its context plus a workspace, and nothing of ours."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR") if name in os.environ}
    env.update(emulator_env)
    env["GITHUB_WORKSPACE"] = str(workspace)
    return env


def command(script: str, args: Sequence[str]) -> list[str]:
    return ["node", str(HERE / script), *args]


class OfficialClient:
    """Runs each operation as its own node process, as a workflow step would."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = dict(env)

    def upload(
        self,
        name: str,
        root: Path,
        files: Sequence[Path],
        compression_level: int | None = None,
        skip_archive: bool = False,
        retention_days: int | None = None,
    ) -> dict[str, Any]:
        args = ["--name", name, "--root", str(root)]
        if compression_level is not None:
            args += ["--compression-level", str(compression_level)]
        if retention_days is not None:
            args += ["--retention-days", str(retention_days)]
        if skip_archive:
            args.append("--skip-archive")
        answer: dict[str, Any] = self._run("upload.mjs", [*args, *map(str, files)])
        return answer

    def list(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._run("list.mjs", [])
        return answer

    def download(self, artifact_id: int, path: Path, expected_hash: str | None = None) -> dict[str, Any]:
        args = ["--id", str(artifact_id), "--path", str(path)]
        if expected_hash is not None:
            args += ["--expected-hash", expected_hash]
        answer: dict[str, Any] = self._run("download.mjs", args)
        return answer

    def _run(self, script: str, args: Sequence[str]) -> Any:
        done = subprocess.run(
            command(script, args),
            env=self._env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise OfficialClientError(script, done.returncode, done.stdout + done.stderr)
        return json.loads(done.stdout.strip().splitlines()[-1])


class OfficialClientError(Exception):
    def __init__(self, script: str, returncode: int, output: str) -> None:
        super().__init__(f"{script} exited {returncode}:\n{output}")
        self.output = output
