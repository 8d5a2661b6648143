"""The action's job, start to end: Settings -> report links -> files -> artifact -> outputs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from . import summary, tabular, workflow
from .artifacts import UploadedArtifact, UploadOptions, upload_artifact
from .download import DownloadedFile, download_report
from .errors import ActionError, HistoryError, NoReportError
from .history import keeping, open_store
from .history.archive import DayOutcome
from .history.objects import secrets as store_secrets
from .history.store import Store
from .reports import ReportLinks, ReportsApi
from .settings import DEFAULTS, MISSING, REVISED_DAYS, Settings, missing_window, parse_settings

# `day: missing` asks GitHub for this many days at once: well inside its limit of concurrent requests.
MISSING_WORKERS = 4


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
    secrets = (inputs.get("token", ""), inputs.get("github-token", ""), env.get("ACTIONS_RUNTIME_TOKEN", ""))
    for secret in (*secrets, *store_secrets(env)):
        if secret.strip():
            workflow.mask(secret.strip())
    settings = parse_settings(inputs, env)
    for message in settings.warnings:
        workflow.warning(message)
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    store = (
        open_store(
            settings.history,
            env,
            workspace,
            github_token=settings.github_token,
            log=workflow.info,
            warn=workflow.warning,
            on_secret=workflow.mask,
        )
        if settings.history
        else None
    )
    api = ReportsApi(settings, log=workflow.info, on_secret=workflow.mask)
    with workflow.group(f"Asking GitHub for the {settings.report} report of {settings.owner}"):
        links = _report_links(settings, api, store)
    _handle_missing(settings, links)
    downloaded = _download(settings, api, links)
    files = _with_csv(settings, downloaded)
    contents = summary.BackgroundContents(settings.report, files) if settings.summary and files else None
    # The history is written while the artifact uploads; its failure fails the step only once the
    # artifact is safe.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="history") as pool:
        log: list[str] = []
        kept = pool.submit(_keep_history, settings, store, links, downloaded, env, log) if store else None
        artifact = _upload(settings, links, files)
    outcomes, failure = _history_result(store, kept, log)
    record = summary.RunRecord(settings, links, files, artifact)
    workflow.set_outputs(outputs(record, workspace) | history_outputs(store, outcomes))
    if settings.summary:
        workflow.append_summary(summary.markdown(record, contents.result() if contents else []))
    if failure is not None:
        raise failure
    return record


def _report_links(settings: Settings, api: ReportsApi, store: Store | None) -> ReportLinks:
    if settings.days != MISSING:
        return api.report_links()
    assert store is not None
    window = missing_window(settings.scope, dt.datetime.now(dt.UTC).date()).days()
    kept = keeping.days_kept(store, settings.report.name)
    wanted = keeping.days_to_ask(kept, window, REVISED_DAYS)
    workflow.info(
        f"The history holds {len(kept.intersection(window))} of the {len(window)} days GitHub keeps: asking for "
        f"{len(wanted)} day(s), the last {REVISED_DAYS} again as GitHub may still revise them."
    )
    return api.day_links(wanted, workers=MISSING_WORKERS)


def _keep_history(
    settings: Settings,
    store: Store,
    links: ReportLinks,
    files: list[DownloadedFile],
    env: Mapping[str, str],
    log: list[str],
) -> list[DayOutcome]:
    work = Path(tempfile.mkdtemp(prefix="copilot-history-", dir=env.get("RUNNER_TEMP") or None))
    try:
        days = keeping.day_files(settings.report.name, [file.path for file in files], links.end, settings.report.daily)
        outcomes = keeping.keep(store, days, work, log.append)
        changed = sorted({outcome.day for outcome in outcomes if outcome.change != "unchanged"})
        if changed and store.finish(f"Keep {settings.report} of {settings.owner}: {', '.join(changed)}"):
            log.append(f"Committed {len(changed)} day(s) to {store.url}")
        return outcomes
    except OSError as failure:
        raise HistoryError(
            f"Keeping the history failed on the runner's disk: {failure.strerror or failure}. "
            "Check the runner's free disk space; the history's days are unchanged."
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _history_result(
    store: Store | None, kept: Future[list[DayOutcome]] | None, log: list[str]
) -> tuple[list[DayOutcome], ActionError | None]:
    if store is None or kept is None:
        return [], None
    with workflow.group(f"Keeping the history in {store.url}"):
        for line in log:
            workflow.info(line)
        failure = kept.exception()
    if failure is None:
        return kept.result(), None
    if isinstance(failure, ActionError):
        return [], failure
    raise failure


def history_outputs(store: Store | None, outcomes: list[DayOutcome]) -> dict[str, str]:
    changed = sorted({outcome.day for outcome in outcomes if outcome.change != "unchanged"})
    return {"history-days": json.dumps(changed), "history-url": store.url if store else ""}


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
