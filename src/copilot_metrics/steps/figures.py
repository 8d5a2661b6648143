"""The figures step: the team figures of the run's days (and their CSV), and the history's trends.

Figures are extra: when they cannot be computed, the step warns and the run goes on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from .. import figures, teams, workflow
from ..download import DownloadedFile
from ..errors import ActionError
from ..history.store import Store
from ..history.team_table import TEAM_REPORTS
from ..job import ReportRun
from ..settings import Settings
from ..teams import TeamRow
from ..trends import Trends
from . import first_line
from .fetch import downloaded


def team_figures(settings: Settings, store: Store | None, runs: Sequence[ReportRun], work: Path) -> figures.TeamFigures:
    """The team figures of the days the run brought, when the summary or the CSV shows them."""
    files = {run.settings.report.name: downloaded(run) for run in runs if run.settings.report.name in TEAM_REPORTS}
    if not files or not (settings.summary or settings.csv):
        return figures.TeamFigures([], None)
    with workflow.group("Computing the team figures"):
        try:
            found = figures.team_figures(files, store, settings.min_group_size, work)
        except (ActionError, duckdb.Error) as failure:  # team figures must never cost the run its artifact
            workflow.warning(f"The team figures could not be computed: {first_line(failure)}")
            return figures.TeamFigures([], None)
        days = len({row.day for row in found.rows})
        hidden = sum(row.teams for row in found.rows if row.team.startswith("other teams"))
        workflow.info(
            f"Team figures for {days} day(s): {len(found.rows)} row(s) shown, {hidden} small team-day(s) added up"
        )
    return found


def team_csv(settings: Settings, rows: Sequence[TeamRow]) -> DownloadedFile:
    path = teams.write_csv(rows, settings.path / teams.CSV_NAME)
    return DownloadedFile(path, path.stat().st_size)


def trends(settings: Settings, store: Store, work: Path) -> Trends | None:
    try:
        return figures.history_trends(store, settings.min_group_size, work)
    except (ActionError, duckdb.Error) as failure:  # trends must never cost the run its outputs
        workflow.warning(f"The trends could not be computed from the history: {first_line(failure)}")
        return None
