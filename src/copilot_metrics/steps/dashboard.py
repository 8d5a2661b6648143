"""The dashboard step (`dashboard: true`): the page of the history once the run's days are in it,
or of the run's own files without one (dashboard/step.py builds it). A page that cannot be
written warns; the run goes on."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import duckdb

from .. import workflow
from ..dashboard.step import Page, page_of_history, page_of_run
from ..errors import ActionError
from ..history.store import Store
from ..job import ReportRun
from ..settings import Settings
from . import first_line
from .fetch import downloaded
from .history import Kept


def page(
    settings: Settings, store: Store | None, kept: Future[Kept] | None, runs: Sequence[ReportRun], work: Path
) -> Page | None:
    """The page of the history once this run's days are in it, or of the run's own files without one."""
    if kept is not None and kept.exception() is not None:
        return None  # the history's failure is reported with the history
    with workflow.group("Writing the dashboard"):
        try:
            written = (
                page_of_history(store, settings.owner, settings.min_group_size, settings.path, work)
                if store is not None
                else page_of_run(
                    [(run.settings.report, downloaded(run)) for run in runs],
                    settings.owner,
                    settings.min_group_size,
                    settings.path,
                    work,
                    workflow.info,
                )
            )
        except (ActionError, duckdb.Error) as failure:  # the page must never cost the run its artifact
            workflow.warning(f"The dashboard could not be written: {first_line(failure)}")
            return None
        if written is None:
            where = "the history" if store is not None else "this run's files"
            workflow.warning(
                f"No dashboard: {where} hold(s) no day of an organization-1-day, enterprise-1-day or users-1-day "
                "report yet (a 28-day aggregate report also gives its days)."
            )
            return None
        workflow.info(f"Dashboard: {written.file.path} ({written.file.size:,} bytes)")
    return written
