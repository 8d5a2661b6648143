"""The history step: the run's days kept in the store while the artifact uploads, then the store
finished once (a branch: one commit); its outcome is logged, and fails the run, only afterwards.

`keep` and `commit` run in a background thread and log into a list; `result` prints that list in
the step's log group once the artifact is safe."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

from .. import workflow
from ..dashboard.step import Page
from ..errors import ActionError, HistoryError
from ..history import keeping, open_store
from ..history.archive import DayOutcome
from ..history.store import Store
from ..history.team_table import TEAM_REPORTS, keep_team_days
from ..job import ReportRun
from ..settings import Settings
from .fetch import downloaded

Kept = tuple[list[DayOutcome], list[str]]  # every day's outcome, and the days changed


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
    """Keep every report's days, then the team days they complete; returns the outcomes and the days changed."""
    work = Path(tempfile.mkdtemp(prefix="copilot-history-", dir=env.get("RUNNER_TEMP") or None))
    try:
        outcomes: list[DayOutcome] = []
        for run in runs:
            report = run.settings.report
            outcomes += keeping.keep(
                store, keeping.day_files(report.name, downloaded(run), run.links.end, report.daily), work, log.append
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


def commit(
    settings: Settings,
    store: Store,
    runs: Sequence[ReportRun],
    kept: Future[Kept],
    page: Page | None,
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
