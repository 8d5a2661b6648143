"""The action's job, start to end: Settings -> each report's links -> files -> team figures ->
artifact (while the history is kept) -> trends -> outputs and summary.

Each step is a module of steps/; this one runs them in order and hands each the previous one's value."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import summary, workflow
from .errors import ActionError, ReportsFailedError
from .figures import TeamFigures
from .history.objects import secrets as store_secrets
from .history.store import Store
from .job import BackgroundContents, ReportRun, RunRecord
from .settings import DEFAULTS, Settings, parse_settings
from .steps import dashboard, fetch, figures, history, outputs, upload


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


def run(inputs: Mapping[str, str], env: Mapping[str, str]) -> RunRecord:
    # Masks go first: nothing below may print a secret the runner does not yet know to hide.
    _mask_secrets(inputs, env)
    settings = parse_settings(inputs, env)
    for message in settings.warnings:
        workflow.warning(message)
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    store = history.store_of(settings, env, workspace)
    runs, failed = fetch.reports(settings, store)
    work = Path(tempfile.mkdtemp(prefix="copilot-figures-", dir=env.get("RUNNER_TEMP") or None))
    try:
        return _finish(settings, store, runs, failed, workspace, env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _mask_secrets(inputs: Mapping[str, str], env: Mapping[str, str]) -> None:
    secrets = (inputs.get("token", ""), inputs.get("github-token", ""), env.get("ACTIONS_RUNTIME_TOKEN", ""))
    for secret in (*secrets, *store_secrets(env)):
        if secret.strip():
            workflow.mask(secret.strip())


def _finish(
    settings: Settings,
    store: Store | None,
    runs: list[ReportRun],
    failed: dict[str, str],
    workspace: Path,
    env: Mapping[str, str],
    work: Path,
) -> RunRecord:
    # The user-teams report is summarised from its table with the team figures, small teams hidden.
    read = [run for run in runs if run.settings.report.kind != "user-teams"]
    contents = (
        BackgroundContents(read, summary.report_contents)
        if settings.summary and any(run.files for run in read)
        else None
    )
    found = figures.team_figures(settings, store, runs, work / "teams")
    extra = [figures.team_csv(settings, found.rows)] if settings.csv and found.rows else []
    # The history is written while the artifact uploads (a dashboard of it waits for its days and
    # goes into both); its failure fails the step only once the artifact is safe.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="history") as pool:
        log: list[str] = []
        kept = pool.submit(history.keep, store, runs, env, log) if store else None
        page = dashboard.page(settings, store, kept, runs, work / "dashboard") if settings.dashboard else None
        committed = pool.submit(history.commit, settings, store, runs, kept, page, log) if store and kept else None
        extra += [page.file] if page else []
        artifact = upload.artifact(settings, runs, extra)
    outcomes, failure = history.result(store, committed, log)
    found_trends = (
        figures.trends(settings, store, work / "trends") if store and failure is None and settings.summary else None
    )
    record = RunRecord(settings, runs, artifact, failed, extra, found.rows, found_trends)
    workflow.set_outputs(outputs.run_outputs(record, workspace) | history.outputs(store, outcomes))
    if settings.summary:
        workflow.append_summary(summary.markdown(record, _contents(settings, runs, contents, found)))
    if failure is not None:
        raise failure
    if failed:
        raise ReportsFailedError(fetch.failures(failed))
    return record


def _contents(
    settings: Settings, runs: Sequence[ReportRun], background: BackgroundContents | None, found: TeamFigures
) -> list[list[str]]:
    """Each report's summary lines, in the order of `runs`."""
    computed = iter(background.result() if background else [])
    contents = []
    for run in runs:
        if run.settings.report.kind == "user-teams":
            contents.append(
                summary.membership_section(found.memberships, settings.min_group_size) if found.memberships else []
            )
        else:
            contents.append(next(computed, []))
    return contents
