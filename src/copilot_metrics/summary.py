"""The job summary: what was fetched, where it is kept, and what is in it.

The report files are read line by line and only counters are kept: per day, per key (IDE,
feature, language, model, team, repository; at most MAX_KEYS keys each) and counts of distinct
users, so a users report of several GB costs no more memory than a small one.

Shards are parts of one report, never copies, so their lines are added up. The one exception is
an organization or enterprise report's day: a day object whose owner id and day were already
seen is a repeat of data already counted, and is counted once (the first copy); the same day
under a different owner id is another owner's share and is added. Users, user-teams and repos
lines are each one user-day, membership or repository-day and are all added up.

Logins never appear in the summary: users reports are summarised as counts only. Text from the
report (IDE, model, team, repository names) and the artifact's name are rendered inert: no
Markdown, HTML or autolink in them can take effect.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .download import DownloadedFile
from .ndjson import Record, entries, number, records, rows, value_at
from .schema import CODE_COUNTERS as COUNTERS
from .schema import Report, ReportKind, report_named
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
MAX_KEYS = 1000
OTHER = "(others)"
UNKNOWN = "(unknown)"
NOT_APPLICABLE = "n/a"
# Exact counting of distinct users is kept up to this many; beyond, a HyperLogLog estimate.
EXACT_DISTINCT = 20_000
_HLL_BITS = 14
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~!&])")
# GFM turns www., scheme:// and user@host into links on its own; a word joiner breaks each pattern.
_AUTOLINK_STARTS = re.compile(r"(?i)(www(?=\.)|:(?=//)|@)")
_WORD_JOINER = "\u2060"
CREDITS = "ai_credits_used"
_OWNER_IDS = ("organization_id", "enterprise_id")
_ACTIVE_USERS = {
    "daily_active_users": "Daily active users",
    "weekly_active_users": "Weekly active users",
    "monthly_active_users": "Monthly active users",
    "monthly_active_chat_users": "Monthly active chat users",
    "monthly_active_agent_users": "Monthly active agent users",
}
_CODE_ROWS = {
    "user_initiated_interaction_count": "User-initiated interactions",
    "code_generation_activity_count": "Code generations",
    "code_acceptance_activity_count": "Code acceptances",
    "loc_suggested_to_add_sum": "Lines suggested to add",
    "loc_added_sum": "Lines added",
    "loc_suggested_to_delete_sum": "Lines suggested to delete",
    "loc_deleted_sum": "Lines deleted",
}
# Title -> (breakdown list, field naming the key). Each breakdown splits the same day's totals,
# so each one alone gives the share of its key.
_DIMENSIONS = {
    "IDE": ("totals_by_ide", "ide"),
    "Feature": ("totals_by_feature", "feature"),
    "Language": ("totals_by_language_feature", "language"),
    "Model": ("totals_by_model_feature", "model"),
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
_DAY_FIELDS = tuple(
    dict.fromkeys([*_ACTIVE_USERS, *COUNTERS, *(field for fields in _ADOPTION.values() for field in fields if field)])
)
# Breakdowns that may carry AI credits: title -> (breakdown list, field naming the key).
_CREDIT_DIMENSIONS = {"Model": ("totals_by_model_feature", "model"), "IDE": ("totals_by_ide", "ide")}
_USER_FIELDS = (*COUNTERS, CREDITS)
_ABSENT = object()
_PR = "pull_requests."
_PR_COUNTS = (
    "total_created",
    "total_merged",
    "total_reviewed",
    "total_created_by_copilot",
    "total_reviewed_by_copilot",
)
_PR_COUNT_TITLES = {"total_created": "Pull requests created", "total_merged": "Pull requests merged"}
_REVIEW_STAGES = {
    "median_minutes_ready_to_first_review": "Ready for review to first review",
    "median_minutes_first_to_final_review": "First to final review",
    "median_minutes_final_review_to_merge": "Final review to merge",
}

Totals = dict[str, float]


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
    return summarize_files(report, reports).markdown() if reports else []


def summarize_files(report: Report | str, paths: Iterable[Path]) -> ReportStats:
    """Read the files of one report (all its shards and days) into the counters of its kind."""
    stats = _STATS[report_named(report).kind]()
    for path in paths:
        stats.read(path)
    return stats


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


class Distinct:
    """How many different values were added: exact up to `exact` of them, then a HyperLogLog
    estimate (about 1% off) in 16 KiB, so that memory stays bounded however many users there are."""

    def __init__(self, exact: int = EXACT_DISTINCT) -> None:
        self._exact = exact
        self._values: set[Hashable] = set()
        self._registers: bytearray | None = None

    @property
    def estimated(self) -> bool:
        return self._registers is not None

    def add(self, value: Hashable) -> None:
        if self._registers is not None:
            self._register(value)
            return
        self._values.add(value)
        if len(self._values) > self._exact:
            self._registers = bytearray(1 << _HLL_BITS)
            for seen in self._values:
                self._register(seen)
            self._values = set()

    def count(self) -> int:
        if self._registers is None:
            return len(self._values)
        size = len(self._registers)
        zeros = self._registers.count(0)
        raw = 0.7213 / (1 + 1.079 / size) * size * size / sum(2.0**-rank for rank in self._registers)
        # Linear counting is the better estimate while many registers are still empty.
        return round(size * math.log(size / zeros)) if raw <= 2.5 * size and zeros else round(raw)

    def _register(self, value: Hashable) -> None:
        assert self._registers is not None
        digest = hashlib.blake2b(repr(value).encode(), digest_size=8).digest()
        hashed = int.from_bytes(digest, "big")
        index = hashed >> (64 - _HLL_BITS)
        rest = hashed & ((1 << (64 - _HLL_BITS)) - 1)
        rank = (64 - _HLL_BITS) - rest.bit_length() + 1
        self._registers[index] = max(self._registers[index], rank)


class Tally:
    """Counters per key, for at most MAX_KEYS keys; further keys are added up under OTHER."""

    def __init__(self, limit: int = MAX_KEYS) -> None:
        self._limit = limit
        self.by_key: dict[str, Totals] = {}

    def totals(self, key: str) -> Totals:
        if key not in self.by_key and len(self.by_key) >= self._limit:
            key = OTHER
        return self.by_key.setdefault(key, {})

    def ranked(self, score: Callable[[Totals], float]) -> list[tuple[str, Totals]]:
        return sorted(self.by_key.items(), key=lambda item: (-score(item[1]), item[0]))


class ReportStats(ABC):
    """The counters of one report, filled line by line."""

    def __init__(self) -> None:
        self.lines = 0
        self.malformed = 0
        self.unreadable: list[str] = []

    def read(self, path: Path) -> None:
        try:
            for record in records(path):
                self.lines += 1
                if record is None or not self.add(record):
                    self.malformed += 1
        except OSError as failure:
            self.unreadable.append(f"{path.name} ({failure.strerror or type(failure).__name__})")

    @abstractmethod
    def add(self, record: Record) -> bool:
        """Count one line; False when it holds nothing usable."""

    @abstractmethod
    def sections(self) -> list[str]:
        """The Markdown of what the counters show."""

    def markdown(self) -> list[str]:
        lines = self.sections()
        if self.malformed:
            lines.append(f"_{self.malformed:,} of {self.lines:,} lines were malformed and skipped._  ")
        if self.unreadable:
            lines.append(f"_Could not read: {_text(', '.join(self.unreadable))}._  ")
        if self.malformed or self.unreadable:
            lines.append("")
        return lines


class AggregateStats(ReportStats):
    """Organization and enterprise reports: one object per owner and day."""

    def __init__(self) -> None:
        super().__init__()
        self.days: dict[str, Totals] = {}
        self.repeated = 0
        self._seen: set[tuple[Hashable, ...]] = set()
        self.by = {title: Tally() for title in _DIMENSIONS}
        self.credits_by = {title: Tally() for title in _CREDIT_DIMENSIONS}

    def add(self, record: Record) -> bool:
        usable = False
        for row in rows(record, "aggregate"):
            usable = self._add_day(row) or usable
        return usable

    def _add_day(self, row: Record) -> bool:
        day = _day(row.get("day"))
        if day is None:
            return False
        key = (day, *(_hashable(row.get(name)) for name in _OWNER_IDS))
        if key in self._seen:
            self.repeated += 1
            return True
        self._seen.add(key)
        totals = self.days.setdefault(day, {})
        _add(totals, row, (*_DAY_FIELDS, CREDITS))
        _add_pull_requests(totals, row)
        for title, (name, field) in _DIMENSIONS.items():
            for entry in entries(row, name):
                _add(self.by[title].totals(_label(entry.get(field))), entry, COUNTERS)
        _add_credits_by(self.credits_by, row)
        return True

    def sections(self) -> list[str]:
        if not self.days:
            return ["No day of activity was found in the report files.", ""]
        latest = max(self.days)
        window = _Window(self.days)
        lines = ["### Activity", "", *window.head()]
        for field, title in _ACTIVE_USERS.items():
            if field in self.days[latest]:
                average = (
                    f"{_number(window.average(field))} per day on average" if field == "daily_active_users" else ""
                )
                lines.append(window.row(title, _number(self.days[latest][field]), average or NOT_APPLICABLE))
        lines += [*window.code_rows(), ""]
        if self.repeated:
            lines += [f"_{self.repeated:,} day records repeated across files were counted once._", ""]
        lines += _adoption(self.days[latest], latest)
        lines += _credits(window, self.credits_by)
        lines += _pull_request_totals(window)
        for title, tally in self.by.items():
            lines += _top_table(title, tally, window.label)
        return lines + _chart(
            "Daily active users", {day: totals.get("daily_active_users", 0) for day, totals in self.days.items()}
        )


class UsersStats(ReportStats):
    """Users reports: one line per user and day. Only counts are kept, never a login."""

    def __init__(self) -> None:
        super().__init__()
        self.days: dict[str, Totals] = {}
        self.users = Distinct()
        self.flag_users = {flag: Distinct() for flag in _USER_FLAGS}
        self.flags_seen: set[str] = set()
        self.by = {title: Tally() for title in ("IDE", "Feature")}
        self.credits_by = {title: Tally() for title in _CREDIT_DIMENSIONS}

    def add(self, record: Record) -> bool:
        day = _day(record.get("day"))
        user = _hashable(record.get("user_id", record.get("user_login")))
        if day is None or user is None:
            return False
        totals = self.days.setdefault(day, {})
        totals["users"] = totals.get("users", 0) + 1
        _add(totals, record, _USER_FIELDS)
        self.users.add(user)
        for flag, distinct in self.flag_users.items():
            used = record.get(flag, _ABSENT)
            if used is _ABSENT:
                continue
            self.flags_seen.add(flag)
            if used is True:
                totals[flag] = totals.get(flag, 0) + 1
                distinct.add(user)
        for title in self.by:
            name, field = _DIMENSIONS[title]
            for key in {_label(entry.get(field)) for entry in entries(record, name)}:
                per_day = self.by[title].totals(key)
                per_day[day] = per_day.get(day, 0) + 1
        _add_credits_by(self.credits_by, record)
        return True

    def sections(self) -> list[str]:
        if not self.days:
            return ["No user activity was found in the report files.", ""]
        latest = max(self.days)
        window = _Window(self.days)
        lines = [
            "### Activity",
            "",
            *window.head(),
            window.row("Active users", _number(self.days[latest]["users"]), _distinct(self.users)),
        ]
        for flag, title in _USER_FLAGS.items():
            if flag in self.flags_seen:
                latest_users = _number(self.days[latest].get(flag, 0))
                lines.append(window.row(title, latest_users, _distinct(self.flag_users[flag])))
        lines += [*window.code_rows(), ""]
        lines += _credits(window, self.credits_by)
        for title, tally in self.by.items():
            lines += _users_per_key(title, tally, latest, len(self.days))
        return lines + _chart("Active users per day", {day: totals["users"] for day, totals in self.days.items()})


class ReposStats(ReportStats):
    """Repos reports: one line per repository and day, named owner/name, ranked by pull requests."""

    def __init__(self) -> None:
        super().__init__()
        self.repos = Tally()
        self.distinct = Distinct()
        self.totals: Totals = {}
        self.merge_times = _Medians()
        self.stage_times = {field: _Medians() for field in _REVIEW_STAGES}

    def add(self, record: Record) -> bool:
        name = _repo_name(record)
        if name is None:
            return False
        totals = self.repos.totals(name)
        _add_pull_requests(totals, record)
        _add_pull_requests(self.totals, record)
        merged = number(value_at(record, f"{_PR}total_merged")) or 0
        median = number(value_at(record, f"{_PR}median_minutes_to_merge"))
        if median is not None and merged > 0:
            self.merge_times.add(median, merged, name)
        for entry in entries(record, "pull_request_review_times"):
            weight = number(entry.get("total_merged")) or 0
            for field, medians in self.stage_times.items():
                value = number(entry.get(field))
                if value is not None and weight > 0:
                    medians.add(value, weight)
        self.distinct.add(name)
        return True

    def sections(self) -> list[str]:
        if not self.repos.by_key:
            return ["No repository was found in the report files.", ""]
        lines = ["### Repositories", "", f"**Repositories in the report:** {_distinct(self.distinct)}  ", ""]
        lines += ["| Total over all repositories | |", "| --- | ---: |"]
        lines += [
            f"| {title} | {_number(self.totals.get(_PR + field, 0))} |" for field, title in _PR_COUNT_TITLES.items()
        ]
        lines += [
            f"| Created by Copilot | {_share(self.totals, 'total_created_by_copilot', 'total_created')} |",
            f"| Reviewed by Copilot | {_share(self.totals, 'total_reviewed_by_copilot', 'total_reviewed')} |",
            f"| Median minutes to merge | {_minutes(self.merge_times.median())} |",
            "",
        ]
        lines += self._stages()
        ranked = self.repos.ranked(_pull_request_activity)[:TOP]
        head = [
            "Repository",
            "PRs created",
            "PRs merged",
            "Created by Copilot",
            "Reviewed by Copilot",
            "Median minutes to merge",
        ]
        lines += [f"### Top {len(ranked)} repositories by pull requests", "", _row(head), _rule(len(head))]
        for name, totals in ranked:
            cells = [
                _number(totals.get(f"{_PR}total_created", 0)),
                _number(totals.get(f"{_PR}total_merged", 0)),
                _share(totals, "total_created_by_copilot", "total_created"),
                _share(totals, "total_reviewed_by_copilot", "total_reviewed"),
                _minutes(self.merge_times.median(name)),
            ]
            lines.append(_row([_text(name), *cells]))
        if len(self.repos.by_key) > len(ranked):
            lines.append(f"\n_and {len(self.repos.by_key) - len(ranked):,} more_")
        return [*lines, ""]

    def _stages(self) -> list[str]:
        if not any(medians.overall for medians in self.stage_times.values()):
            return []
        lines = ["### Pull request review stages (human reviews)", "", "| Stage | Median minutes |", "| --- | ---: |"]
        for field, title in _REVIEW_STAGES.items():
            lines.append(f"| {title} | {_minutes(self.stage_times[field].median())} |")
        return [*lines, ""]


class _Medians:
    """Weighted medians of daily medians, overall and per key.

    Values are kept rounded to three significant digits with the weight of each, so memory grows
    with the spread of the values (a few thousand at most), never with the number of lines."""

    def __init__(self) -> None:
        self.overall: dict[float, float] = {}
        self.by_key: dict[str, dict[float, float]] = {}

    def add(self, value: float, weight: float, key: str | None = None) -> None:
        bucket = float(f"{value:.3g}")
        self.overall[bucket] = self.overall.get(bucket, 0) + weight
        if key is not None and (key in self.by_key or len(self.by_key) < MAX_KEYS):
            per_key = self.by_key.setdefault(key, {})
            per_key[bucket] = per_key.get(bucket, 0) + weight

    def median(self, key: str | None = None) -> float | None:
        histogram = self.overall if key is None else self.by_key.get(key, {})
        half = sum(histogram.values()) / 2
        running = 0.0
        for value in sorted(histogram):
            running += histogram[value]
            if running >= half and running > 0:
                return value
        return None


_STATS: Mapping[ReportKind, Callable[[], ReportStats]] = {
    "aggregate": AggregateStats,
    "users": UsersStats,
    "repos": ReposStats,
}


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
        return sum(totals.get(field, 0) for totals in self.days.values()) / len(self.days)

    def code_rows(self) -> list[str]:
        whole: Totals = {}
        for totals in self.days.values():
            _add(whole, totals, COUNTERS)
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


def _top_table(title: str, tally: Tally, window: str) -> list[str]:
    if not tally.by_key:
        return []
    plural = "IDEs" if title == "IDE" else f"{title.lower()}s"
    ranked = tally.ranked(_activity)[:TOP]
    head = [title, "Interactions", "Code generations", "Code acceptances", "Acceptance rate", "Lines added"]
    lines = [f"### Top {plural} ({window})", "", _row(head), _rule(len(head))]
    for key, totals in ranked:
        counts = [_number(totals.get(field, 0)) for field in COUNTERS[:3]]
        lines.append(_row([_text(key), *counts, _rate(totals), _number(totals.get("loc_added_sum", 0))]))
    if len(tally.by_key) > len(ranked):
        lines.append(f"\n_and {len(tally.by_key) - len(ranked):,} more_")
    return [*lines, ""]


def _users_per_key(title: str, tally: Tally, latest: str, days: int, limit: int = TOP) -> list[str]:
    if not tally.by_key:
        return []
    ranked = tally.ranked(lambda per_day: per_day.get(latest, 0))[:limit]
    head = [title, f"Users on {latest}"] + (["Users per day on average", "User-days"] if days > 1 else [])
    plural = "IDE" if title == "IDE" else title.lower()
    lines = [f"### Users per {plural}", "", _row(head), _rule(len(head))]
    for key, per_day in ranked:
        cells = [_number(per_day.get(latest, 0))]
        if days > 1:
            cells += [_number(sum(per_day.values()) / days), _number(sum(per_day.values()))]
        lines.append(_row([_text(key), *cells]))
    if len(tally.by_key) > len(ranked):
        lines.append(f"\n_and {len(tally.by_key) - len(ranked):,} more_")
    return [*lines, ""]


def _chart(title: str, per_day: Mapping[str, float]) -> list[str]:
    """A Mermaid bar chart, which GitHub draws in the job summary; one day is not worth a chart."""
    if len(per_day) < 2:
        return []
    days = sorted(per_day)
    labels = ", ".join(f'"{day[5:]}"' for day in days)
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


def _add(totals: Totals, source: Mapping[str, Any], fields: Iterable[str]) -> None:
    for field in fields:
        value = number(source.get(field))
        if value is not None:
            totals[field] = totals.get(field, 0) + value


def _activity(totals: Totals) -> float:
    return totals.get("code_generation_activity_count", 0) + totals.get("user_initiated_interaction_count", 0)


def _rate(totals: Totals) -> str:
    generated = totals.get("code_generation_activity_count", 0)
    if not generated:
        return NOT_APPLICABLE
    return f"{100 * totals.get('code_acceptance_activity_count', 0) / generated:.1f}%"


def _day(value: Any) -> str | None:
    """An ISO day as written in the report, or None: a day is what places a record in time."""
    return _iso_day(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=1024)
def _iso_day(text: str) -> str | None:
    # A report holds few distinct days and many lines: each day is parsed once.
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _hashable(value: Any) -> Hashable:
    if value is None or isinstance(value, str | int | float):
        return value
    return repr(value)


def _label(value: Any) -> str:
    return value if isinstance(value, str) and value.strip() else UNKNOWN


def _repo_name(record: Record) -> str | None:
    """owner/name of a repository row, or #id when the row has no name; None for no repository."""
    owner, name = record.get("repo_owner_name"), record.get("repo_name")
    if isinstance(owner, str) and isinstance(name, str) and owner.strip() and name.strip():
        return f"{owner}/{name}"
    repo_id = record.get("repo_id")
    if isinstance(repo_id, int | str) and not isinstance(repo_id, bool):
        return f"#{repo_id}"
    return None


def _add_pull_requests(totals: Totals, row: Mapping[str, Any]) -> None:
    pulls = row.get("pull_requests")
    if isinstance(pulls, dict):
        _add(totals, {_PR + field: pulls.get(field) for field in _PR_COUNTS}, [_PR + field for field in _PR_COUNTS])


def _pull_request_activity(totals: Totals) -> float:
    return totals.get(f"{_PR}total_created", 0) + totals.get(f"{_PR}total_merged", 0)


def _share(totals: Totals, part: str, whole: str) -> str:
    denominator = totals.get(_PR + whole, 0)
    if not denominator:
        return NOT_APPLICABLE
    return f"{100 * totals.get(_PR + part, 0) / denominator:.0f}%"


def _minutes(value: float | None) -> str:
    return NOT_APPLICABLE if value is None else _number(value)


def _add_credits_by(tallies: Mapping[str, Tally], row: Mapping[str, Any]) -> None:
    """AI credits per model and per IDE, where the report's breakdown entries carry them."""
    for title, (name, field) in _CREDIT_DIMENSIONS.items():
        for entry in entries(row, name):
            if number(entry.get(CREDITS)) is not None:
                _add(tallies[title].totals(_label(entry.get(field))), entry, (CREDITS,))


def _credits(window: _Window, by: Mapping[str, Tally]) -> list[str]:
    """AI credits used: in the window, per day, and per model or IDE where the report has them."""
    if not any(CREDITS in totals for totals in window.days.values()):
        return []
    total = sum(totals.get(CREDITS, 0) for totals in window.days.values())
    lines = [
        "### AI credits",
        "",
        *window.head(),
        window.row("AI credits used", _number(window.days[window.latest].get(CREDITS, 0)), _number(total)),
    ]
    if len(window.days) > 1:
        lines.append(window.row("Per day on average", NOT_APPLICABLE, _number(window.average(CREDITS))))
    lines.append("")
    for title, tally in by.items():
        if tally.by_key:
            ranked = tally.ranked(lambda totals: totals.get(CREDITS, 0))[:TOP]
            lines += [f"| {title} | AI credits ({window.label}) |", "| --- | ---: |"]
            lines += [f"| {_text(key)} | {_number(totals.get(CREDITS, 0))} |" for key, totals in ranked]
            lines.append("")
    return lines


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
    whole: Totals = {}
    for totals in window.days.values():
        _add(whole, totals, [_PR + field for field in _PR_COUNTS])
    if not whole:
        return []
    lines = ["### Pull requests", "", *window.head()]
    latest = window.days[window.latest]
    for field, title in _PR_COUNT_TITLES.items():
        lines.append(window.row(title, _number(latest.get(_PR + field, 0)), _number(whole.get(_PR + field, 0))))
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


def _distinct(distinct: Distinct) -> str:
    return f"≈ {distinct.count():,}" if distinct.estimated else f"{distinct.count():,}"


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
