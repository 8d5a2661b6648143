"""The action's job, start to end: Settings -> each report's links -> files -> team figures ->
artifact (while the history is kept) -> trends -> outputs and summary."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from . import figures, summary, tabular, teams, workflow
from .artifacts import UploadedArtifact, UploadOptions, upload_artifact
from .dashboard import step as dashboard_step
from .download import DownloadedFile, download_report
from .errors import ActionError, HistoryError, NoReportError, ReportsFailedError
from .history import keeping, open_store
from .history.archive import DayOutcome
from .history.objects import secrets as store_secrets
from .history.store import Store
from .history.team_table import MEMBERSHIP, USERS, keep_team_days
from .job import BackgroundContents, ReportRun, RunRecord
from .reports import ReportLinks, ReportsApi
from .schema import Report, reports_of
from .settings import ALL_REPORTS, DEFAULTS, MISSING, REVISED_DAYS, Settings, missing_window, parse_settings
from .tabular import is_derived_name
from .teams import TeamRow
from .trends import Trends

# The reports whose days make the team figures.
TEAM_REPORTS = (USERS[1], MEMBERSHIP[1])

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


def run(inputs: Mapping[str, str], env: Mapping[str, str]) -> RunRecord:
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
    runs, failed = _fetch_all(settings, store)
    work = Path(tempfile.mkdtemp(prefix="copilot-figures-", dir=env.get("RUNNER_TEMP") or None))
    try:
        return _finish(settings, store, runs, failed, workspace, env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fetch_all(settings: Settings, store: Store | None) -> tuple[list[ReportRun], dict[str, str]]:
    """Each report asked for, in turn; with several, one that fails is noted and the others go on."""
    runs: list[ReportRun] = []
    failed: dict[str, str] = {}
    for report in settings.reports:
        try:
            runs.append(_fetch(settings.for_report(report), store, _folder(settings, report)))
        except ActionError as failure:
            if not settings.several:
                raise
            failed[report.name] = str(failure)
            workflow.info(f"The {report} report failed; the other reports go on: {failure}")
    if failed and not runs:
        raise ReportsFailedError(_failures(failed))
    return runs, failed


def _fetch(settings: Settings, store: Store | None, folder: Path) -> ReportRun:
    api = ReportsApi(settings, log=workflow.info, on_secret=workflow.mask)
    with workflow.group(f"Asking GitHub for the {settings.report} report of {settings.owner}"):
        links = _report_links(settings, api, store)
    _handle_missing(settings, links)
    downloaded = _download(api, links, folder)
    return ReportRun(settings, links, _with_csv(settings, downloaded), folder)


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
    found = _team_figures(settings, store, runs, work / "teams")
    extra = [_team_csv(settings, found.rows)] if settings.csv and found.rows else []
    # The history is written while the artifact uploads (a dashboard of it waits for its days and
    # goes into both); its failure fails the step only once the artifact is safe.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="history") as pool:
        log: list[str] = []
        kept = pool.submit(_keep_history, store, runs, env, log) if store else None
        page = _dashboard(settings, store, kept, runs, work / "dashboard") if settings.dashboard else None
        committed = pool.submit(_commit, settings, store, runs, kept, page, log) if store and kept else None
        extra += [page.file] if page else []
        artifact = _upload(settings, runs, extra)
    outcomes, failure = _history_result(store, committed, log)
    found_trends = _trends(settings, store, work / "trends") if store and failure is None and settings.summary else None
    record = RunRecord(settings, runs, artifact, failed, extra, found.rows, found_trends)
    workflow.set_outputs(outputs(record, workspace) | history_outputs(store, outcomes))
    if settings.summary:
        workflow.append_summary(summary.markdown(record, _contents(settings, runs, contents, found)))
    if failure is not None:
        raise failure
    if failed:
        raise ReportsFailedError(_failures(failed))
    return record


def _folder(settings: Settings, report: Report) -> Path:
    """Where a report's files go: `path` for a lone report, `path/<report>` when several were asked."""
    return settings.path / report.name if settings.several else settings.path


def _failures(failed: Mapping[str, str]) -> str:
    named = "; ".join(f"{report}: {why}" for report, why in failed.items())
    return f"{len(failed)} report(s) failed, the others were kept: {named}"


def _team_figures(
    settings: Settings, store: Store | None, runs: Sequence[ReportRun], work: Path
) -> figures.TeamFigures:
    downloaded = {
        run.settings.report.name: [file.path for file in run.files if not is_derived_name(file.path.name)]
        for run in runs
        if run.settings.report.name in TEAM_REPORTS
    }
    if not downloaded or not (settings.summary or settings.csv):
        return figures.TeamFigures([], None)
    with workflow.group("Computing the team figures"):
        try:
            found = figures.team_figures(downloaded, store, settings.min_group_size, work)
        except (ActionError, duckdb.Error) as failure:  # team figures must never cost the run its artifact
            workflow.warning(f"The team figures could not be computed: {_first_line(failure)}")
            return figures.TeamFigures([], None)
        days = len({row.day for row in found.rows})
        hidden = sum(row.teams for row in found.rows if row.team.startswith("other teams"))
        workflow.info(
            f"Team figures for {days} day(s): {len(found.rows)} row(s) shown, {hidden} small team-day(s) added up"
        )
    return found


def _contents(
    settings: Settings, runs: Sequence[ReportRun], background: BackgroundContents | None, found: figures.TeamFigures
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


def _first_line(failure: Exception) -> str:
    return (str(failure).splitlines() or [type(failure).__name__])[0][:300]


def _team_csv(settings: Settings, rows: Sequence[TeamRow]) -> DownloadedFile:
    path = teams.write_csv(rows, settings.path / teams.CSV_NAME)
    return DownloadedFile(path, path.stat().st_size)


def _trends(settings: Settings, store: Store, work: Path) -> Trends | None:
    try:
        return figures.history_trends(store, settings.min_group_size, work)
    except (ActionError, duckdb.Error) as failure:  # trends must never cost the run its outputs
        workflow.warning(f"The trends could not be computed from the history: {_first_line(failure)}")
        return None


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
    store: Store, runs: Sequence[ReportRun], env: Mapping[str, str], log: list[str]
) -> tuple[list[DayOutcome], list[str]]:
    """Keep every report's days, then the team days they complete; returns the outcomes and the days changed."""
    work = Path(tempfile.mkdtemp(prefix="copilot-history-", dir=env.get("RUNNER_TEMP") or None))
    try:
        outcomes: list[DayOutcome] = []
        for run in runs:
            report = run.settings.report
            outcomes += keeping.keep(
                store, keeping.day_files(report.name, _downloaded(run), run.links.end, report.daily), work, log.append
            )
        touched = {o.day for o in outcomes if o.change != "unchanged" and o.report in TEAM_REPORTS}
        team_days = keep_team_days(store, touched, work, log.append)
        changed = sorted({outcome.day for outcome in outcomes if outcome.change != "unchanged"} | set(team_days))
        return outcomes, changed
    except OSError as failure:
        raise HistoryError(
            f"Keeping the history failed on the runner's disk: {failure.strerror or failure}. "
            "Check the runner's free disk space; the history's days are unchanged."
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _commit(
    settings: Settings,
    store: Store,
    runs: Sequence[ReportRun],
    kept: Future[tuple[list[DayOutcome], list[str]]],
    page: dashboard_step.Page | None,
    log: list[str],
) -> list[DayOutcome]:
    """Finish the store once (a branch: one commit) when days changed or the dashboard is new to it."""
    outcomes, changed = kept.result()
    if not changed and not (page is not None and page.new_in_store):
        return outcomes
    reports = ", ".join(run.settings.report.name for run in runs)
    message = f"Keep {reports} of {settings.owner}: {', '.join(changed)}" if changed else "Add the dashboard"
    if store.finish(message):
        log.append(f"Committed {len(changed)} day(s){' and the dashboard' if page else ''} to {store.url}")
    return outcomes


def _dashboard(
    settings: Settings,
    store: Store | None,
    kept: Future[tuple[list[DayOutcome], list[str]]] | None,
    runs: Sequence[ReportRun],
    work: Path,
) -> dashboard_step.Page | None:
    """The page of the history once this run's days are in it, or of the run's own files without one."""
    if kept is not None and kept.exception() is not None:
        return None  # the history's failure is reported with the history
    with workflow.group("Writing the dashboard"):
        try:
            page = (
                dashboard_step.page_of_history(store, settings.owner, settings.min_group_size, settings.path, work)
                if store is not None
                else dashboard_step.page_of_run(
                    [(run.settings.report, _downloaded(run)) for run in runs],
                    settings.owner,
                    settings.min_group_size,
                    settings.path,
                    work,
                    workflow.info,
                )
            )
        except (ActionError, duckdb.Error) as failure:  # the page must never cost the run its artifact
            workflow.warning(f"The dashboard could not be written: {_first_line(failure)}")
            return None
        if page is None:
            where = "the history" if store is not None else "this run's files"
            workflow.warning(
                f"No dashboard: {where} hold(s) no day of an organization-1-day, enterprise-1-day or users-1-day "
                "report yet (a 28-day aggregate report also gives its days)."
            )
            return None
        workflow.info(f"Dashboard: {page.file.path} ({page.file.size:,} bytes)")
    return page


def _downloaded(run: ReportRun) -> list[Path]:
    return [file.path for file in run.files if not is_derived_name(file.path.name)]


def _history_result(
    store: Store | None, committed: Future[list[DayOutcome]] | None, log: list[str]
) -> tuple[list[DayOutcome], ActionError | None]:
    if store is None or committed is None:
        return [], None
    with workflow.group(f"Keeping the history in {store.url}"):
        failure = committed.exception()
        for line in log:
            workflow.info(line)
    if failure is None:
        return committed.result(), None
    if isinstance(failure, ActionError):
        return [], failure
    raise failure


def history_outputs(store: Store | None, outcomes: list[DayOutcome]) -> dict[str, str]:
    changed = sorted({outcome.day for outcome in outcomes if outcome.change != "unchanged"})
    return {"history-days": json.dumps(changed), "history-url": store.url if store else ""}


def _download(api: ReportsApi, links: ReportLinks, folder: Path) -> list[DownloadedFile]:
    if not links.parts:
        return []
    with workflow.group(f"Downloading {sum(len(part.links) for part in links.parts)} report file(s)"):
        return download_report(links, folder, api.fresh_links, workflow.info, warn=workflow.warning)


def _with_csv(settings: Settings, files: list[DownloadedFile]) -> list[DownloadedFile]:
    if not settings.csv or not files:
        return files
    with workflow.group("Writing CSV conversions"):
        converted = [path for file in files for path in tabular.write_csv(file.path, settings.report)]
    return files + [DownloadedFile(path, path.stat().st_size) for path in converted]


def _upload(settings: Settings, runs: Sequence[ReportRun], extra: Sequence[DownloadedFile]) -> UploadedArtifact | None:
    files = [file for run in runs for file in run.files]
    if not settings.upload or not files or settings.runtime is None:
        return None
    name = settings.artifact_name or default_artifact_name(settings, _window(runs))
    with workflow.group(f"Uploading artifact {name}"):
        artifact = upload_artifact(
            [file.path for file in [*files, *extra]],
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


Window = tuple[dt.date | None, dt.date | None]


def _window(runs: Sequence[ReportRun]) -> Window:
    """The union of the reports' windows: the first day any covers to the last."""
    starts = [run.links.start for run in runs if run.links.start is not None]
    ends = [run.links.end for run in runs if run.links.end is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


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


def outputs(record: RunRecord, workspace: Path) -> dict[str, str]:
    start, end = _window(record.reports)
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
