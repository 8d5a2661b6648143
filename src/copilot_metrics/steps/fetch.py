"""The fetch step: each report asked for -> its links (the window asked, or under `day: missing`
the days the history lacks) -> its files, verified -> their CSV conversions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import tabular, workflow
from ..download import DownloadedFile, download_report
from ..errors import ActionError, NoReportError, ReportsFailedError
from ..history import keeping
from ..history.store import Store
from ..job import ReportRun
from ..reports import ReportLinks, ReportsApi
from ..schema import Report
from ..settings import MISSING, REVISED_DAYS, Settings, missing_window
from ..tabular import is_derived_name

# `day: missing` asks GitHub for this many days at once: well inside its limit of concurrent requests.
MISSING_WORKERS = 4

Window = tuple[dt.date | None, dt.date | None]


def reports(settings: Settings, store: Store | None) -> tuple[list[ReportRun], dict[str, str]]:
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
        raise ReportsFailedError(failures(failed))
    return runs, failed


def failures(failed: Mapping[str, str]) -> str:
    named = "; ".join(f"{report}: {why}" for report, why in failed.items())
    return f"{len(failed)} report(s) failed, the others were kept: {named}"


def downloaded(run: ReportRun) -> list[Path]:
    """The report files the run downloaded, without the CSV made of them."""
    return [file.path for file in run.files if not is_derived_name(file.path.name)]


def window(runs: Sequence[ReportRun]) -> Window:
    """The union of the reports' windows: the first day any covers to the last."""
    starts = [run.links.start for run in runs if run.links.start is not None]
    ends = [run.links.end for run in runs if run.links.end is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _fetch(settings: Settings, store: Store | None, folder: Path) -> ReportRun:
    api = ReportsApi(settings, log=workflow.info, on_secret=workflow.mask)
    with workflow.group(f"Asking GitHub for the {settings.report} report of {settings.owner}"):
        links = _report_links(settings, api, store)
    _handle_missing(settings, links)
    files = _download(api, links, folder)
    return ReportRun(settings, links, _with_csv(settings, files), folder)


def _folder(settings: Settings, report: Report) -> Path:
    """Where a report's files go: `path` for a lone report, `path/<report>` when several were asked."""
    return settings.path / report.name if settings.several else settings.path


def _report_links(settings: Settings, api: ReportsApi, store: Store | None) -> ReportLinks:
    if settings.days != MISSING:
        return api.report_links()
    assert store is not None
    days = missing_window(settings.scope, dt.datetime.now(dt.UTC).date()).days()
    kept = keeping.days_kept(store, settings.report.name)
    without = keeping.days_without_report(store, settings.report.name) - kept
    wanted = keeping.days_to_ask(kept | without, days, REVISED_DAYS)
    noted = f" ({len(without.intersection(days))} more noted as having no report)" if without else ""
    workflow.info(
        f"The history holds {len(kept.intersection(days))} of the {len(days)} days GitHub keeps{noted}: asking for "
        f"{len(wanted)} day(s), the last {REVISED_DAYS} again as GitHub may still revise them."
    )
    return api.day_links(wanted, workers=MISSING_WORKERS)


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
