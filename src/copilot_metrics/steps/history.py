"""The history step: the run's days kept in the store while the artifact uploads, then the store
finished once (a branch: one commit); its outcome is logged, and fails the run, only afterwards.

`keep` and `commit` run in a background thread and log into a list; `result` prints that list in
the step's log group once the artifact is safe."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from .. import workflow
from ..dashboard.step import Page
from ..errors import ActionError, HistoryError
from ..history import keeping, open_store
from ..history.archive import DayOutcome
from ..history.store import Store
from ..history.team_table import TEAM_REPORTS, keep_team_days
from ..job import ReportRun
from ..settings import REVISED_DAYS, Settings
from .fetch import downloaded


@dataclass(frozen=True)
class Kept:
    outcomes: list[DayOutcome]  # every day's
    changed: list[str]  # the days added or replaced (team days included)
    noted: list[str]  # the days newly noted as having no report


def store_of(settings: Settings, env: Mapping[str, str], workspace: Path) -> Store | None:
    """The store the `history` input names, or None without one."""
    if not settings.history:
        return None
    return open_store(
        settings.history,
        env,
        workspace,
        github_token=settings.github_token,
        log=workflow.info,
        warn=workflow.warning,
        on_secret=workflow.mask,
    )


def keep(store: Store, runs: Sequence[ReportRun], env: Mapping[str, str], log: list[str]) -> Kept:
    """Keep every report's days, then the team days they complete, and note the days past revision
    that GitHub had no report for."""
    work = Path(tempfile.mkdtemp(prefix="copilot-history-", dir=env.get("RUNNER_TEMP") or None))
    settled = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=REVISED_DAYS)
    try:
        outcomes: list[DayOutcome] = []
        noted: list[str] = []
        for run in runs:
            report = run.settings.report
            outcomes += keeping.keep(
                store, keeping.day_files(report.name, downloaded(run), run.links.end, report.daily), work, log.append
            )
            if report.daily:
                days = keeping.note_without_report(store, report.name, run.links.missing_days, settled, work)
                if days:
                    log.append(f"{report}: noted {len(days)} day(s) GitHub had no report for: {', '.join(days)}")
                noted += days
        touched = {o.day for o in outcomes if o.change != "unchanged" and o.report in TEAM_REPORTS}
        team_days = keep_team_days(store, touched, work, log.append)
        changed = sorted({outcome.day for outcome in outcomes if outcome.change != "unchanged"} | set(team_days))
        return Kept(outcomes, changed, noted)
    except OSError as failure:
        raise HistoryError(
            f"Keeping the history failed on the runner's disk: {failure.strerror or failure}. "
            "Check the runner's free disk space; the history's days are unchanged."
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def commit(
    settings: Settings,
    store: Store,
    runs: Sequence[ReportRun],
    kept: Future[Kept],
    page: Page | None,
    log: list[str],
) -> list[DayOutcome]:
    """Finish the store once (a branch: one commit) when days changed or were noted, or the
    dashboard is new to it."""
    done = kept.result()
    if not done.changed and not done.noted and not (page is not None and page.new_in_store):
        return done.outcomes
    reports = ", ".join(run.settings.report.name for run in runs)
    if done.changed:
        message = f"Keep {reports} of {settings.owner}: {', '.join(done.changed)}"
    elif done.noted:
        message = f"Note the days without a {reports} report of {settings.owner}: {', '.join(done.noted)}"
    else:
        message = "Add the dashboard"
    if store.finish(message):
        log.append(f"Committed {len(done.changed)} day(s){' and the dashboard' if page else ''} to {store.url}")
    return done.outcomes


def result(
    store: Store | None, committed: Future[list[DayOutcome]] | None, log: list[str]
) -> tuple[list[DayOutcome], ActionError | None]:
    """The days' outcomes, or the failure that the run raises once its outputs are written."""
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


def outputs(store: Store | None, outcomes: list[DayOutcome]) -> dict[str, str]:
    changed = sorted({outcome.day for outcome in outcomes if outcome.change != "unchanged"})
    return {"history-days": json.dumps(changed), "history-url": store.url if store else ""}
