"""The outputs step: what later steps of the workflow read of the run (the window, the artifact,
the files); the history's own outputs come from the history step."""

from __future__ import annotations

import json
from pathlib import Path

from ..artifacts import UploadedArtifact
from ..job import RunRecord
from .fetch import window


def run_outputs(record: RunRecord, workspace: Path) -> dict[str, str]:
    start, end = window(record.reports)
    return {
        "report_start_day": start.isoformat() if start else "",
        "report_end_day": end.isoformat() if end else "",
        **_artifact_outputs(record.artifact),
        "directory": str(record.settings.path),
        "files": json.dumps([_relative_to(file.path, workspace) for file in record.files]),
    }


def _artifact_outputs(artifact: UploadedArtifact | None) -> dict[str, str]:
    if artifact is None:
        return {"artifact-id": "", "artifact-url": "", "artifact-digest": ""}
    return {"artifact-id": str(artifact.id), "artifact-url": artifact.url, "artifact-digest": artifact.digest}


def _relative_to(path: Path, workspace: Path) -> str:
    """Paths relative to the workspace mean the same inside the action's container and in later steps."""
    try:
        return path.relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)
