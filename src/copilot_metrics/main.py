"""The action's job, start to end: Settings -> report links -> files -> artifact -> outputs."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from . import summary, tabular, workflow
from .artifacts import UploadedArtifact, UploadOptions, upload_artifact
from .download import DownloadedFile, download_report
from .errors import ActionError, NoReportError
from .reports import ReportLinks, ReportsApi
from .settings import DEFAULTS, Settings, parse_settings


def main() -> int:
    """Run as the action's container entry point; returns the process exit code."""
    workflow.set_mode("action")
    return guarded(lambda: run(workflow.read_inputs(DEFAULTS), os.environ))


def guarded(job: Callable[[], object]) -> int:
    """Run `job`; every failure ends as one error line and exit code 1, never a traceback."""
    try:
        job()
    except ActionError as failure:
        workflow.error(str(failure))
        return 1
    except OSError as failure:
        workflow.error(
            f"Writing the report files failed: {failure.strerror or failure} ({failure.filename or 'no file'}). "
            "Check the runner's free disk space and the 'path' input."
        )
        return 1
    except Exception as failure:  # the last resort: anything else still ends in one line
        # Only the exception's type: its text may hold a URL with a signature or other outside data.
        workflow.error(
            f"The action failed unexpectedly ({type(failure).__name__}). Re-run the job; if it repeats, "
            "report it to the action's maintainers with the step's log."
        )
        return 1
    return 0


def run(inputs: Mapping[str, str], env: Mapping[str, str]) -> summary.RunRecord:
    # Masks go first: nothing below may print a secret the runner does not yet know to hide.
    for secret in (inputs.get("token", ""), env.get("ACTIONS_RUNTIME_TOKEN", "")):
        if secret.strip():
            workflow.mask(secret.strip())
    settings = parse_settings(inputs, env)
    for message in settings.warnings:
        workflow.warning(message)
    api = ReportsApi(settings, log=workflow.info, on_secret=workflow.mask)
    with workflow.group(f"Asking GitHub for the {settings.report} report of {settings.owner}"):
        links = api.report_links()
    _handle_missing(settings, links)
    files = _with_csv(settings, _download(settings, api, links))
    contents = summary.BackgroundContents(settings.report, files) if settings.summary and files else None
    artifact = _upload(settings, links, files)
    record = summary.RunRecord(settings, links, files, artifact)
    workflow.set_outputs(outputs(record, Path(env.get("GITHUB_WORKSPACE") or os.getcwd())))
    if settings.summary:
        workflow.append_summary(summary.markdown(record, contents.result() if contents else []))
    return record


def _download(settings: Settings, api: ReportsApi, links: ReportLinks) -> list[DownloadedFile]:
    if not links.parts:
        return []
    with workflow.group(f"Downloading {sum(len(part.links) for part in links.parts)} report file(s)"):
        return download_report(links, settings.path, api.fresh_links, workflow.info, warn=workflow.warning)


def _with_csv(settings: Settings, files: list[DownloadedFile]) -> list[DownloadedFile]:
    if not settings.csv or not files:
        return files
    with workflow.group("Writing CSV conversions"):
        converted = [path for file in files for path in tabular.write_csv(file.path, settings.report)]
    return files + [DownloadedFile(path, path.stat().st_size) for path in converted]


def _upload(settings: Settings, links: ReportLinks, files: list[DownloadedFile]) -> UploadedArtifact | None:
    if not settings.upload or not files or settings.runtime is None:
        return None
    name = settings.artifact_name or default_artifact_name(settings, links)
    with workflow.group(f"Uploading artifact {name}"):
        artifact = upload_artifact(
            [file.path for file in files],
            settings.path,
            UploadOptions(name, settings.compression_level, settings.retention_days, settings.overwrite),
            settings.runtime,
            on_secret=workflow.mask,
        )
    workflow.info(f"Artifact {artifact.name}: {artifact.url}")
    return artifact


def _handle_missing(settings: Settings, links: ReportLinks) -> None:
    if not links.missing_days and links.parts:
        return
    if links.missing_days:
        days = ", ".join(day.isoformat() for day in links.missing_days)
        message = f"GitHub has no {settings.report} report for {days} (yet)."
    else:
        message = f"GitHub has no {settings.report} report for {settings.owner} (yet)."
    hint = " Reports usually appear within two full UTC days; re-run later or pick an earlier day."
    if settings.if_no_report == "error":
        raise NoReportError(message + hint + " (Set 'if-no-report: warn' to carry on without it.)")
    if settings.if_no_report == "warn":
        workflow.warning(message + hint)
    else:
        workflow.info(message)


def default_artifact_name(settings: Settings, links: ReportLinks) -> str:
    """A name unique to scope, report and window, so that two reports never collide in one run."""
    scope = "enterprise" if settings.scope == "enterprise" else "org"
    window = "" if links.start is None else links.start.isoformat()
    if links.end is not None and links.end != links.start:
        window += f"_{links.end.isoformat()}"
    return f"copilot-metrics_{scope}-{settings.owner}_{settings.report}_{window}"


def outputs(record: summary.RunRecord, workspace: Path) -> dict[str, str]:
    links, artifact = record.links, record.artifact
    return {
        "report_start_day": links.start.isoformat() if links.start else "",
        "report_end_day": links.end.isoformat() if links.end else "",
        **_artifact_outputs(artifact),
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
