"""The job's dashboard step (`dashboard: true`): the page of the history, or of the run's own files.

With a history, the page is built after the run's days are kept, so it shows them, and it is
written into the store too (`dashboard/index.html`), where a branch commits it with the days.
Without one, the run's own files are turned into the same tables in a scratch folder and the
page shows the days they hold: a 28-day organization or enterprise report gives its 28 days;
a users report of 28 days has no per-day rows, so it gives none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import figures, ndjson
from ..download import DownloadedFile
from ..history import tables
from ..history.archive import DayFiles, table_key
from ..history.folder import FolderStore
from ..history.keeping import day_files
from ..history.store import Store
from ..history.team_table import keep_team_days
from ..schema import REPORTS, Report
from .data import TeamDay
from .history import history_data
from .page import PAGE_NAME, write_dashboard

PAGE_KEY = f"dashboard/{PAGE_NAME}"
# What shown() calls the teams below the minimum group size, added up; the page names them once.
OTHER_TEAMS = "other teams"
# The page shows this many teams by name and adds up the rest with the small ones, so that a year
# of an organization with hundreds of teams stays a small page.
TEAM_LIMIT = 100

Log = Callable[[str], None]
RunFiles = Sequence[tuple[Report, Sequence[Path]]]  # each report of the run and its downloaded NDJSON


@dataclass(frozen=True)
class Page:
    file: DownloadedFile  # in `path`, so in the artifact and `files`
    new_in_store: bool  # the history had no page before: worth a commit even when no day changed


def page_of_history(store: Store, owner: str, min_group_size: int, folder: Path, work: Path) -> Page | None:
    """Write the history's page into `folder`/dashboard/ and into the store; None when the history
    has no day of the scope or its users yet."""
    path = _page(store, owner, min_group_size, folder, work)
    if path is None:
        return None
    new = not store.list(PAGE_KEY)
    store.write(PAGE_KEY, path)
    return Page(DownloadedFile(path, path.stat().st_size), new)


def page_of_run(runs: RunFiles, owner: str, min_group_size: int, folder: Path, work: Path, log: Log) -> Page | None:
    """Write the page of the days the run's own files hold into `folder`/dashboard/; None when they hold none."""
    path = _page(run_history(runs, work / "run", log), owner, min_group_size, folder, work / "page")
    return Page(DownloadedFile(path, path.stat().st_size), False) if path is not None else None


def run_history(runs: RunFiles, work: Path, log: Log) -> FolderStore:
    """The run's files as a history of their days, tables only, in a scratch folder."""
    store = FolderStore(work / "history")
    for day in (day for report, files in runs for day in _days(report, files, work / "days")):
        built = tables.build(day.report, day.files, work / "tables" / day.report / day.day)
        for table, path in built.items():
            store.write(table_key(table, day.day, day.report), path)
    keep_team_days(store, (), work, log)
    return store


def _page(store: Store, owner: str, min_group_size: int, folder: Path, work: Path) -> Path | None:
    teams = busiest_teams(figures.dashboard_team_days(figures.history_team_rows(store, min_group_size, work / "teams")))
    data = history_data(
        store,
        work / "tables",
        title=f"Copilot usage — {owner}",
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        min_group_size=min_group_size,
        teams=teams,
    )
    return write_dashboard(data, folder) if data is not None else None


def busiest_teams(rows: Sequence[TeamDay], limit: int = TEAM_LIMIT) -> list[TeamDay]:
    """The rows of the `limit` teams with the most interactions; the others' added up per day as
    OTHER_TEAMS, with the small teams (which the rows name "other teams (N)", N varying by day)."""
    volume: dict[str, int] = defaultdict(int)
    for row in rows:
        volume[row.team] += row.interactions
    named = sorted(
        (team for team in volume if not team.startswith(OTHER_TEAMS)), key=lambda team: (-volume[team], team)
    )
    kept = set(named[:limit])
    folded: dict[tuple[dt.date, str], TeamDay] = {}
    for row in rows:
        team = row.team if row.team in kept else OTHER_TEAMS
        earlier = folded.get((row.day, team))
        folded[row.day, team] = replace(row, team=team) if earlier is None else _added(earlier, row)
    return [folded[key] for key in sorted(folded)]


def _added(a: TeamDay, b: TeamDay) -> TeamDay:
    return replace(
        a,
        active_users=a.active_users + b.active_users,
        interactions=a.interactions + b.interactions,
        code_generations=a.code_generations + b.code_generations,
        code_acceptances=a.code_acceptances + b.code_acceptances,
        lines_added=a.lines_added + b.lines_added,
        ai_credits=a.ai_credits + b.ai_credits,
    )


def _days(report: Report, files: Sequence[Path], work: Path) -> list[DayFiles]:
    """The report's files per day: a 1-day report's day folders, a 28-day aggregate's days split out."""
    if report.daily:
        return day_files(report.name, list(files), None, daily=True)
    if report.kind != "aggregate":
        return []
    daily = next(
        other for other in REPORTS if other.kind == "aggregate" and other.daily and other.scopes == report.scopes
    )
    by_day: dict[str, list[str]] = {}
    for path in files:
        for record in ndjson.records(path):
            for row in ndjson.rows(record or {}, "aggregate"):
                day = _day(row.get("day"))
                if day is not None:
                    by_day.setdefault(day, []).append(json.dumps(row))
    found = []
    for day, lines in sorted(by_day.items()):
        target = work / day / f"{daily.name}.ndjson"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        found.append(DayFiles(daily.name, f"day={day}", (target,)))
    return found


def _day(value: object) -> str | None:
    """A row's day as YYYY-MM-DD, or None for anything else (it names a folder)."""
    try:
        return dt.date.fromisoformat(value).isoformat() if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
