"""The job summary: what was fetched, where it is kept, and what is in it.

This module renders; it computes nothing of a report's contents. Each report's figures come
from report_figures.py (DuckDB over the report's tables), the teams' from teams.py and the
trends from trends.py.

Logins never appear in the summary: users reports are shown as counts only. Text from the
report (IDE, model, team, repository names) and the artifact's name are rendered inert: no
Markdown, HTML or autolink in them can take effect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .download import DownloadedFile
from .report_figures import (
    ACTIVE_USERS,
    CREDITS,
    PR,
    PR_COUNTS,
    AggregateFigures,
    Figures,
    ReposFigures,
    Totals,
    UsersFigures,
    figures_of,
)
from .schema import CODE_COUNTERS as COUNTERS
from .schema import Report
from .tabular import is_derived_name
from .teams import CSV_NAME, SUMS, Memberships, TeamRow
from .trends import MIN_DAYS, Trends, Week

if TYPE_CHECKING:
    from .job import ReportRun, RunRecord

TOP = 10
# GitHub refuses a job summary over 1 MiB; this leaves room for the note that says it was trimmed.
LIMIT = 1024 * 1024 - 4096
TEAM_ROWS = 50
# A year of days lists thousands of files; the figures below the list matter more.
FILE_ROWS = 100
CHART_DATES = 14
NOT_APPLICABLE = "n/a"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~!&])")
# GFM turns www., scheme:// and user@host into links on its own; a word joiner breaks each pattern.
_AUTOLINK_STARTS = re.compile(r"(?i)(www(?=\.)|:(?=//)|@)")
_WORD_JOINER = "\u2060"
_ACTIVE_USER_TITLES = dict(
    zip(
        ACTIVE_USERS,
        (
            "Daily active users",
            "Weekly active users",
            "Monthly active users",
            "Monthly active chat users",
            "Monthly active agent users",
        ),
        strict=True,
    )
)
_CODE_ROWS = {
    "user_initiated_interaction_count": "User-initiated interactions",
    "code_generation_activity_count": "Code generations",
    "code_acceptance_activity_count": "Code acceptances",
    "loc_suggested_to_add_sum": "Lines suggested to add",
    "loc_added_sum": "Lines added",
    "loc_suggested_to_delete_sum": "Lines suggested to delete",
    "loc_deleted_sum": "Lines deleted",
}
_USER_FLAGS = {
    "used_agent": "Used agent",
    "used_chat": "Used chat",
    "used_cli": "Used CLI",
    "used_copilot_app": "Used the Copilot app",
    "used_copilot_cloud_agent": "Used Copilot cloud agent",
    "used_copilot_coding_agent": "Used Copilot coding agent",
    "used_copilot_code_review_active": "Used Copilot code review",
    "used_copilot_code_review_passive": "Reviewed by Copilot automatically",
    "used_vscode_agent": "Used the VS Code Agents window",
}
# Organization and enterprise reports: who used each surface, as (daily, weekly, monthly) fields.
_ADOPTION = {
    "Agent in the IDE": ("", "", "monthly_active_agent_users"),
    **{
        title: (f"daily_{surface}_users", f"weekly_{surface}_users", f"monthly_{surface}_users")
        for title, surface in (
            ("Copilot CLI", "active_cli"),
            ("Copilot app", "active_copilot_app"),
            ("Copilot cloud agent", "active_copilot_cloud_agent"),
            ("Copilot code review", "active_copilot_code_review"),
            ("Copilot code review, automatic only", "passive_copilot_code_review"),
            ("VS Code Agents window", "active_vscode_agent"),
        )
    },
}
_PR_COUNT_TITLES = {"total_created": "Pull requests created", "total_merged": "Pull requests merged"}
_REVIEW_STAGES = {
    "median_minutes_ready_to_first_review": "Ready for review to first review",
    "median_minutes_first_to_final_review": "First to final review",
    "median_minutes_final_review_to_merge": "Final review to merge",
}


def markdown(record: RunRecord, contents: Sequence[Sequence[str]], limit: int = LIMIT) -> str:
    """The job summary of a run: each report's window, files and `contents` (in the order of
    record.reports), then the team figures and the trends; trimmed with a note to `limit` bytes."""
    several = record.settings.several
    blocks = [_title(record)]
    for run, lines in zip(record.reports, contents, strict=True):
        blocks.append([*_report_header(run, record.settings.path, several), *lines])
    if record.extra_files:
        blocks.append(_files(record.extra_files, record.settings.path))
    blocks.append(team_section(record.team_rows, record.settings.min_group_size))
    if record.trends is not None:
        blocks.append(trend_section(record.trends))
    return fit(blocks, limit)


def report_contents(report: Report | str, files: Iterable[DownloadedFile]) -> list[str]:
    """The summary lines of what the report files hold (CSV conversions are not read)."""
    reports = [file.path for file in files if not is_derived_name(file.path.name)]
    return contents_of(figures_of(report, reports)) if reports else []


def contents_of(found: Figures) -> list[str]:
    """The Markdown of one report's figures, with a note of lines and files that could not be read."""
    if isinstance(found, AggregateFigures):
        lines = _aggregate_sections(found)
    elif isinstance(found, UsersFigures):
        lines = _users_sections(found)
    else:
        lines = _repos_sections(found)
    reading = found.reading
    if reading.malformed:
        lines.append(f"_{reading.malformed:,} of {reading.lines:,} lines were malformed and skipped._  ")
    if reading.unreadable:
        lines.append(f"_Could not read: {_text(', '.join(reading.unreadable))}._  ")
    if reading.malformed or reading.unreadable:
        lines.append("")
    return lines


def fit(blocks: Sequence[Sequence[str]], limit: int = LIMIT) -> str:
    """The blocks' lines as one Markdown text of at most `limit` UTF-8 bytes: whole blocks while
    they fit, then a note of what was left out. A block too long alone is cut at a line."""
    note = "\n_The summary was trimmed to stay under GitHub's 1 MiB limit; everything is in the artifact's files._\n"
    budget = limit - len(note.encode())
    kept: list[str] = []
    used = 0
    for block in blocks:
        for line in block:
            size = len(line.encode()) + 1
            if used + size > budget:
                return "\n".join(kept) + "\n" + note
            kept.append(line)
            used += size
    return "\n".join(kept) + "\n"


def _title(record: RunRecord) -> list[str]:
    settings = record.settings
    scope = "enterprise" if settings.scope == "enterprise" else "organization"
    if settings.several:
        names = ", ".join(f"`{report}`" for report in settings.reports)
        lines = [f"## Copilot usage metrics: {len(settings.reports)} reports for {scope} `{settings.owner}`", ""]
        lines.append(f"**Reports:** {names}  ")
    else:
        lines = [f"## Copilot usage metrics: `{settings.report}` for {scope} `{settings.owner}`", ""]
    if record.artifact:
        artifact = record.artifact
        link = f"[{_code(artifact.name)}]({artifact.url})"
        lines.append(f"**Artifact:** {link} ({_size(artifact.size)}, sha256 `{artifact.digest[:12]}…`)  ")
    for report, why in record.failed.items():
        lines.append(f"**Failed:** `{report}`: {_text(why)}  ")
    return [*lines, ""] if settings.several else lines


def _report_header(run: ReportRun, root: Path, several: bool) -> list[str]:
    links = run.links
    lines = [f"### Report `{run.settings.report}`", ""] if several else []
    if links.start and links.end:
        window = links.start.isoformat() if links.start == links.end else f"{links.start} to {links.end}"
        lines.append(f"**Report window:** {window}  ")
    else:
        lines.append("**No report was available** for what was asked.  ")
    asked = len(links.parts) + len(links.missing_days)
    if run.settings.report.daily and asked > 1:
        lines.append(f"**Days with a report:** {len(links.parts)} of {asked}  ")
    if links.missing_days:
        days = ", ".join(day.isoformat() for day in links.missing_days)
        lines.append(f"**Days without a report:** {days}  ")
    lines.append("")
    return lines + _files(run.files, root)


def _files(files: Sequence[DownloadedFile], root: Path) -> list[str]:
    if not files:
        return []
    lines = ["| File | Size |", "| --- | ---: |"]
    lines += [f"| `{_cell(_relative(f.path, root))}` | {_size(f.size)} |" for f in files[:FILE_ROWS]]
    if len(files) > FILE_ROWS:
        lines.append(f"\n_and {len(files) - FILE_ROWS:,} more files (the `files` output lists them all)_")
    return [*lines, ""]


def _aggregate_sections(found: AggregateFigures) -> list[str]:
    if not found.days:
        return ["No day of activity was found in the report files.", ""]
    window = _Window(found.days)
    latest = found.days[window.latest]
    lines = ["### Activity", "", *window.head()]
    for field, title in _ACTIVE_USER_TITLES.items():
        if field in latest:
            average = f"{_number(window.average(field))} per day on average" if field == "daily_active_users" else ""
            lines.append(window.row(title, _number(latest[field]), average or NOT_APPLICABLE))
    lines += [*window.code_rows(), ""]
    if found.repeated:
        lines += [f"_{found.repeated:,} day records repeated across files were counted once._", ""]
    lines += _adoption(latest, window.latest)
    lines += _credits(window)
    lines += _pull_request_totals(window)
    for title, by_key in found.by.items():
        lines += _top_table(title, by_key, window.label)
    return lines + _chart(
        "Daily active users", {day: totals.get("daily_active_users", 0) for day, totals in found.days.items()}
    )


def _users_sections(found: UsersFigures) -> list[str]:
    if not found.days:
        return ["No user activity was found in the report files.", ""]
    window = _Window(found.days)
    latest = found.days[window.latest]
    lines = [
        "### Activity",
        "",
        *window.head(),
        window.row("Active users", _number(latest["users"]), _number(found.users)),
    ]
    for flag, title in _USER_FLAGS.items():
        if flag in found.flag_users:
            lines.append(window.row(title, _number(latest.get(flag, 0)), _number(found.flag_users[flag])))
    lines += [*window.code_rows(), ""]
    lines += _credits(window)
    for title, per_key in found.by.items():
        lines += _users_per_key(title, per_key, window.latest, len(found.days))
    return lines + _chart("Active users per day", {day: totals["users"] for day, totals in found.days.items()})


def _repos_sections(found: ReposFigures) -> list[str]:
    if not found.repos:
        return ["No repository was found in the report files.", ""]
    lines = ["### Repositories", "", f"**Repositories in the report:** {len(found.repos):,}  ", ""]
    lines += ["| Total over all repositories | |", "| --- | ---: |"]
    lines += [f"| {title} | {_number(found.totals.get(PR + field, 0))} |" for field, title in _PR_COUNT_TITLES.items()]
    lines += [
        f"| Created by Copilot | {_share(found.totals, 'total_created_by_copilot', 'total_created')} |",
        f"| Reviewed by Copilot | {_share(found.totals, 'total_reviewed_by_copilot', 'total_reviewed')} |",
        f"| Median minutes to merge | {_minutes(found.median_to_merge)} |",
        "",
    ]
    if found.stages:
        lines += ["### Pull request review stages (human reviews)", "", "| Stage | Median minutes |", "| --- | ---: |"]
        lines += [f"| {title} | {_minutes(found.stages.get(field))} |" for field, title in _REVIEW_STAGES.items()]
        lines.append("")
    ranked = found.repos[:TOP]
    head = ["Repository", "PRs created", "PRs merged", "Created by Copilot", "Reviewed by Copilot"]
    head.append("Median minutes to merge")
    lines += [f"### Top {len(ranked)} repositories by pull requests", "", _row(head), _rule(len(head))]
    for repo in ranked:
        cells = [
            _number(repo.totals.get(f"{PR}total_created", 0)),
            _number(repo.totals.get(f"{PR}total_merged", 0)),
            _share(repo.totals, "total_created_by_copilot", "total_created"),
            _share(repo.totals, "total_reviewed_by_copilot", "total_reviewed"),
            _minutes(repo.median_to_merge),
        ]
        lines.append(_row([_text(repo.name), *cells]))
    if len(found.repos) > len(ranked):
        lines.append(f"\n_and {len(found.repos) - len(ranked):,} more_")
    return [*lines, ""]


class _Window:
    """The two columns of the activity table: the latest day, and the whole window when it is longer."""

    def __init__(self, days: Mapping[str, Totals]) -> None:
        self.days = days
        self.latest = max(days)
        self.label = f"{len(days)} days" if len(days) > 1 else self.latest

    def head(self) -> list[str]:
        if len(self.days) == 1:
            return [f"| | {self.latest} |", "| --- | ---: |"]
        return [f"| | {self.latest} | {len(self.days)} days |", "| --- | ---: | ---: |"]

    def row(self, title: str, latest: str, window: str) -> str:
        return f"| {title} | {latest} |" if len(self.days) == 1 else f"| {title} | {latest} | {window} |"

    def average(self, field: str) -> float:
        return self.total(field) / len(self.days)

    def total(self, field: str) -> float:
        return sum(totals.get(field, 0) for totals in self.days.values())

    def whole(self, fields: Iterable[str]) -> Totals:
        """The fields any day had, added up over the window."""
        return {field: self.total(field) for field in fields if any(field in totals for totals in self.days.values())}

    def code_rows(self) -> list[str]:
        whole = self.whole(COUNTERS)
        latest = self.days[self.latest]
        rows = [
            self.row(title, _number(latest.get(field, 0)), _number(whole.get(field, 0)))
            for field, title in list(_CODE_ROWS.items())[:3]
        ]
        rows.append(self.row("Acceptance rate", _rate(latest), _rate(whole)))
        return rows + [
            self.row(title, _number(latest.get(field, 0)), _number(whole.get(field, 0)))
            for field, title in list(_CODE_ROWS.items())[3:]
        ]


def _ranked(by_key: Mapping[str, float]) -> list[str]:
    """The keys, the highest score first, ties in the order of the key."""
    return sorted(by_key, key=lambda key: (-by_key[key], key))


def _top_table(title: str, by_key: Mapping[str, Totals], window: str) -> list[str]:
    if not by_key:
        return []
    plural = "IDEs" if title == "IDE" else f"{title.lower()}s"
    ranked = _ranked({key: _activity(totals) for key, totals in by_key.items()})[:TOP]
    head = [title, "Interactions", "Code generations", "Code acceptances", "Acceptance rate", "Lines added"]
    lines = [f"### Top {plural} ({window})", "", _row(head), _rule(len(head))]
    for key in ranked:
        totals = by_key[key]
        counts = [_number(totals.get(field, 0)) for field in COUNTERS[:3]]
        lines.append(_row([_text(key), *counts, _rate(totals), _number(totals.get("loc_added_sum", 0))]))
    if len(by_key) > len(ranked):
        lines.append(f"\n_and {len(by_key) - len(ranked):,} more_")
    return [*lines, ""]


def _users_per_key(title: str, per_key: Mapping[str, Mapping[str, int]], latest: str, days: int) -> list[str]:
    if not per_key:
        return []
    ranked = _ranked({key: per_day.get(latest, 0) for key, per_day in per_key.items()})[:TOP]
    head = [title, f"Users on {latest}"] + (["Users per day on average", "User-days"] if days > 1 else [])
    plural = "IDE" if title == "IDE" else title.lower()
    lines = [f"### Users per {plural}", "", _row(head), _rule(len(head))]
    for key in ranked:
        per_day = per_key[key]
        cells = [_number(per_day.get(latest, 0))]
        if days > 1:
            cells += [_number(sum(per_day.values()) / days), _number(sum(per_day.values()))]
        lines.append(_row([_text(key), *cells]))
    if len(per_key) > len(ranked):
        lines.append(f"\n_and {len(per_key) - len(ranked):,} more_")
    return [*lines, ""]


def _chart(title: str, per_day: Mapping[str, float]) -> list[str]:
    """A Mermaid bar chart, which GitHub draws in the job summary; one day is not worth a chart."""
    if len(per_day) < 2:
        return []
    days = sorted(per_day)
    # Mermaid writes every label: beyond two weeks the month is left out so that they stay legible.
    labels = ", ".join(f'"{day[8:] if len(days) > CHART_DATES else day[5:]}"' for day in days)
    values = ", ".join(_plain(per_day[day]) for day in days)
    top = max(1, math.ceil(max(per_day.values())))
    return [
        f"### {title}",
        "",
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        f"    x-axis [{labels}]",
        f'    y-axis "Users" 0 --> {top}',
        f"    bar [{values}]",
        "```",
        "",
    ]


def _activity(totals: Totals) -> float:
    return totals.get("code_generation_activity_count", 0) + totals.get("user_initiated_interaction_count", 0)


def _rate(totals: Totals) -> str:
    generated = totals.get("code_generation_activity_count", 0)
    if not generated:
        return NOT_APPLICABLE
    return f"{100 * totals.get('code_acceptance_activity_count', 0) / generated:.1f}%"


def _share(totals: Totals, part: str, whole: str) -> str:
    denominator = totals.get(PR + whole, 0)
    if not denominator:
        return NOT_APPLICABLE
    return f"{100 * totals.get(PR + part, 0) / denominator:.0f}%"


def _minutes(value: float | None) -> str:
    return NOT_APPLICABLE if value is None else _number(value)


def _credits(window: _Window) -> list[str]:
    """AI credits used: on the latest day, in the window and per day."""
    if not any(CREDITS in totals for totals in window.days.values()):
        return []
    lines = [
        "### AI credits",
        "",
        *window.head(),
        window.row(
            "AI credits used", _number(window.days[window.latest].get(CREDITS, 0)), _number(window.total(CREDITS))
        ),
    ]
    if len(window.days) > 1:
        lines.append(window.row("Per day on average", NOT_APPLICABLE, _number(window.average(CREDITS))))
    return [*lines, ""]


def _adoption(latest: Totals, day: str) -> list[str]:
    """Active users of each surface on the latest day; a surface the report does not have is left out."""
    shown = {title: fields for title, fields in _ADOPTION.items() if any(field in latest for field in fields if field)}
    if not shown:
        return []
    lines = [
        f"### Adoption ({day})",
        "",
        "| Active users of | Daily | Weekly | Monthly |",
        "| --- | ---: | ---: | ---: |",
    ]
    for title, fields in shown.items():
        cells = [_number(latest[field]) if field in latest else NOT_APPLICABLE for field in fields]
        lines.append(_row([title, *cells]))
    return [*lines, ""]


def _pull_request_totals(window: _Window) -> list[str]:
    whole = window.whole([PR + field for field in PR_COUNTS])
    if not whole:
        return []
    lines = ["### Pull requests", "", *window.head()]
    latest = window.days[window.latest]
    for field, title in _PR_COUNT_TITLES.items():
        lines.append(window.row(title, _number(latest.get(PR + field, 0)), _number(whole.get(PR + field, 0))))
    lines.append(
        window.row(
            "Created by Copilot",
            _share(latest, "total_created_by_copilot", "total_created"),
            _share(whole, "total_created_by_copilot", "total_created"),
        )
    )
    lines.append(
        window.row(
            "Reviewed by Copilot",
            _share(latest, "total_reviewed_by_copilot", "total_reviewed"),
            _share(whole, "total_reviewed_by_copilot", "total_reviewed"),
        )
    )
    return [*lines, ""]


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(count: int) -> str:
    return "| --- |" + " ---: |" * (count - 1)


def _text(text: str) -> str:
    """Text from the report as plain Markdown text: no markup, links, autolinks or HTML come through."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split())[:100])
    return _AUTOLINK_STARTS.sub(lambda found: found.group(0) + _WORD_JOINER, escaped)


def _code(text: str) -> str:
    """Text as a Markdown code span: shown as it is, with no markup, link or autolink taking effect.

    The fence is one backtick longer than any run of backticks in the text, so none can close it."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}"


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{count:,} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{count:,} bytes"


def team_section(rows: Sequence[TeamRow], min_group_size: int) -> list[str]:
    """The team figures of the latest day that has them: only rows people may read (teams.shown)."""
    if not rows:
        return []
    latest = max(row.day for row in rows)
    days = len({row.day for row in rows})
    shown = [row for row in rows if row.day == latest]
    head = [
        "Team",
        "Active users",
        "Interactions",
        "Code generations",
        "Code acceptances",
        "Acceptance rate",
        "Lines added",
        "Lines deleted",
        "AI credits",
        "Chat",
        "Agent",
        "CLI",
        "Code review",
    ]
    lines = [f"### Teams on {latest}", ""]
    if days > 1:
        lines += [
            f"Team figures of {days} days are in `{CSV_NAME}` (with `csv: true`) and the history's `team_daily`.",
            "",
        ]
    lines += [_row(head), _rule(len(head))]
    for row in shown[:TEAM_ROWS]:
        sums = row.sums
        lines.append(
            _row(
                [
                    _text(row.team),
                    _number(row.active_users),
                    *(_number(sums[name]) for name in SUMS[:3]),
                    _percent(row.acceptance_rate),
                    *(_number(sums[name]) for name in SUMS[3:]),
                    *(_number(count) for count in row.users_of.values()),
                ]
            )
        )
    if len(shown) > TEAM_ROWS:
        lines.append(f"\n_and {len(shown) - TEAM_ROWS:,} more teams in `{CSV_NAME}`_")
    lines += [
        "",
        f'_Teams with fewer than {min_group_size} active users are added up in "other teams"; '
        "a user in several teams counts in each._",
        "",
    ]
    return lines


def trend_section(found: Trends) -> list[str]:
    """Weekly activity, the last 28 days against the 28 before, distinct users, and the teams that moved most."""
    lines = ["### Trends from the history", ""]
    if found.days < MIN_DAYS:
        return [
            *lines,
            f"The history holds {found.days} day(s) of `users-1-day` reports; trends start at {MIN_DAYS}.",
            "",
        ]
    lines += [f"The history holds {found.days} day(s) of `users-1-day` reports up to {found.latest}.", ""]
    lines += _weekly(found.weeks)
    lines += _distinct_users(found)
    lines += _change(found)
    if found.movers:
        lines += [
            "#### Teams that moved most (average daily active users)",
            "",
            _row(["Team", "Previous 28 days", "Last 28 days", "Change"]),
            _rule(4),
        ]
        for mover in found.movers:
            lines.append(
                _row(
                    [
                        _text(mover.team),
                        _number(round(mover.before, 1)),
                        _number(round(mover.after, 1)),
                        _signed(mover.after - mover.before),
                    ]
                )
            )
        lines.append("")
    return lines


def _weekly(weeks: Sequence[Week]) -> list[str]:
    head = ["Week of", "Days", "Active users", "Interactions", "Acceptance rate", "AI credits"]
    lines = ["#### By week", "", _row(head), _rule(len(head))]
    for week in weeks:
        f = week.figures
        lines.append(
            _row(
                [
                    week.start.isoformat(),
                    str(week.days),
                    _number(f.active_users),
                    _number(f.interactions),
                    _percent(f.acceptance_rate),
                    _number(round(f.ai_credits, 1)),
                ]
            )
        )
    lines.append("")
    return lines + _chart("Active users by week", {week.start.isoformat(): week.figures.active_users for week in weeks})


def _distinct_users(found: Trends) -> list[str]:
    lines = ["#### Distinct active users", "", _row(["Last 7 days", "Last 28 days", "Last 90 days"]), _rule(3)]
    cells = [NOT_APPLICABLE if count is None else _number(count) for count in found.distinct.values()]
    return [*lines, _row(cells), ""]


def _change(found: Trends) -> list[str]:
    if found.last is None or found.previous is None:
        return [f"_The change against the previous 28 days needs 56 days of history; it holds {found.days}._", ""]
    last, previous = found.last, found.previous
    head = ["", "Previous 28 days", "Last 28 days", "Change"]
    lines = ["#### Last 28 days against the 28 before", "", _row(head), _rule(4)]
    for title, before, after in (
        ("Active users", previous.active_users, last.active_users),
        ("Interactions", previous.interactions, last.interactions),
        ("AI credits", previous.ai_credits, last.ai_credits),
    ):
        lines.append(_row([title, _number(round(before, 1)), _number(round(after, 1)), _percent_change(before, after)]))
    rate_before, rate_after = previous.acceptance_rate, last.acceptance_rate
    points = (
        NOT_APPLICABLE
        if rate_before is None or rate_after is None
        else f"{100 * (rate_after - rate_before):+.1f} points"
    )
    lines.append(_row(["Acceptance rate", _percent(rate_before), _percent(rate_after), points]))
    return [*lines, ""]


def _percent(rate: float | None) -> str:
    return NOT_APPLICABLE if rate is None else f"{100 * rate:.1f}%"


def _signed(value: float) -> str:
    return f"{value:+,.1f}"


def _percent_change(before: float, after: float) -> str:
    return NOT_APPLICABLE if not before else f"{100 * (after - before) / before:+.1f}%"


def membership_section(found: Memberships, min_group_size: int) -> list[str]:
    """The user-teams report: how many teams and members, per team on its latest day (small teams added up)."""
    if not found.rows:
        return ["No team was found in the report files.", ""]
    latest = max(row.day for row in found.rows)
    lines = [
        "### Teams",
        "",
        f"**Teams:** {found.teams:,}  ",
        f"**Users in at least one team:** {found.users:,}  ",
        "",
        f"### Members per team on {latest}",
        "",
        _row(["Team", "Members"]),
        _rule(2),
    ]
    shown = [row for row in found.rows if row.day == latest]
    lines += [_row([_text(row.team), _number(row.members)]) for row in shown[:TEAM_ROWS]]
    if len(shown) > TEAM_ROWS:
        lines.append(f"\n_and {len(shown) - TEAM_ROWS:,} more_")
    return [*lines, "", f'_Teams with fewer than {min_group_size} members are added up in "other teams"._', ""]
