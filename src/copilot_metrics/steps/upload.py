"""The upload step: the run's files, and the extra files made of them, into one workflow artifact
whose default name says scope, reports and window."""

from __future__ import annotations

from collections.abc import Sequence

from .. import workflow
from ..artifacts import UploadedArtifact, UploadOptions, upload_artifact
from ..download import DownloadedFile
from ..job import ReportRun
from ..schema import reports_of
from ..settings import ALL_REPORTS, Settings
from .fetch import Window, window


def artifact(settings: Settings, runs: Sequence[ReportRun], extra: Sequence[DownloadedFile]) -> UploadedArtifact | None:
    """The uploaded artifact; None when uploading is off, there is nothing to upload or no runner to take it."""
    files = [file for run in runs for file in run.files]
    if not settings.upload or not files or settings.runtime is None:
        return None
    name = settings.artifact_name or default_artifact_name(settings, window(runs))
    with workflow.group(f"Uploading artifact {name}"):
        uploaded = upload_artifact(
            [file.path for file in [*files, *extra]],
            settings.path,
            UploadOptions(name, settings.compression_level, settings.retention_days, settings.overwrite),
            settings.runtime,
            on_secret=workflow.mask,
        )
    workflow.info(f"Artifact {uploaded.name}: {uploaded.url}")
    return uploaded


def default_artifact_name(settings: Settings, window: Window) -> str:
    """A name unique to scope, reports and window, so that two runs' artifacts never collide in one run."""
    scope = "enterprise" if settings.scope == "enterprise" else "org"
    start, end = window
    days = "" if start is None else start.isoformat()
    if end is not None and end != start:
        days += f"_{end.isoformat()}"
    return f"copilot-metrics_{scope}-{settings.owner}_{_reports_name(settings)}_{days}"


def _reports_name(settings: Settings) -> str:
    if settings.reports == reports_of(settings.scope):
        return ALL_REPORTS
    return "+".join(report.name for report in settings.reports) or settings.report.name
