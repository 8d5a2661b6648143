"""The action's inputs, checked once and turned into one immutable Settings.

Every rule about what an input may hold lives here, so that nothing downstream ever sends a
request built from an unchecked value.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from .artifacts import ArtifactRuntime, validate_artifact_name
from .errors import InputError
from .history.location import parse_location
from .schema import Report, Scope, reports_of
from .transport import is_loopback

IfNoReport = Literal["warn", "error", "ignore"]

# The defaults action.yml declares; outside Actions (the command line, tests) the same apply.
DEFAULTS: Mapping[str, str] = {
    "org": "",
    "enterprise": "",
    "token": "",
    "report": "",
    "day": "",
    "api-url": "",
    "artifact-name": "",
    "retention-days": "0",
    "compression-level": "6",
    "overwrite": "true",
    "path": "copilot-metrics",
    "upload": "true",
    "summary": "true",
    "csv": "false",
    "if-no-report": "warn",
    "history": "",
    "github-token": "",
    "min-group-size": "5",
    "show-users": "false",
}

# The report names each scope offers, its default first (the command line lists them).
REPORTS: Mapping[Scope, tuple[str, ...]] = {
    scope: tuple(report.name for report in reports_of(scope)) for scope in ("organization", "enterprise")
}

# GitHub keeps data from these days on; asking for earlier days is allowed but pointless.
DATA_STARTS: Mapping[Scope, dt.date] = {
    "organization": dt.date(2025, 12, 12),
    "enterprise": dt.date(2025, 10, 10),
}

MAX_RANGE_DAYS = 366
# `report: all` asks for every report of the scope; a list names several, comma or newline separated.
ALL_REPORTS = "all"
# A group this small or larger may be shown; larger bounds would hide every team of most organizations.
MIN_GROUP_SIZES = (1, 1000)
# GitHub keeps artifacts of private and internal repositories up to 400 days, of public ones 90;
# the runner says which applies (GITHUB_RETENTION_DAYS) and the lower figure wins.
MAX_RETENTION_DAYS = 400
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*")
_MAX_LOGIN = {"organization": 39, "enterprise": 60}
# A DNS name or an IPv4 address (letters, digits, dots, hyphens), or the inside of an IPv6 literal.
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of UTC days; a single day is a range of one."""

    first: dt.date
    last: dt.date

    def days(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=n) for n in range(count)]


LATEST = "latest"
MISSING = "missing"
DaySelection = DayRange | Literal["latest", "missing"] | None
# `day: missing` asks again for the newest days, which GitHub may still revise.
REVISED_DAYS = 3
KEPT_DAYS = 365


@dataclass(frozen=True)
class Settings:
    scope: Scope
    owner: str
    token: str
    report: Report
    days: DaySelection
    api_url: str
    artifact_name: str  # empty: derived from the report window once it is known
    retention_days: int
    compression_level: int
    overwrite: bool
    path: Path
    upload: bool
    summary: bool
    csv: bool
    if_no_report: IfNoReport
    runtime: ArtifactRuntime | None
    warnings: tuple[str, ...] = ()
    history: str = ""  # a validated history location; "" keeps none
    github_token: str = ""
    # Every report asked for, in the scope's order; `report` and `days` are those of the first one
    # until for_report() narrows the settings to another.
    reports: tuple[Report, ...] = ()
    daily_days: DaySelection = None  # what `day` selects for the 1-day reports among them
    min_group_size: int = 5
    show_users: bool = False

    @property
    def several(self) -> bool:
        """Several reports were asked for: each gets a folder of its own under `path`."""
        return len(self.reports) > 1

    def for_report(self, report: Report) -> Settings:
        """The settings of one of the reports asked for: `day` applies to 1-day reports only."""
        return replace(self, report=report, days=self.daily_days if report.daily else None)


def parse_settings(inputs: Mapping[str, str], env: Mapping[str, str], today: dt.date | None = None) -> Settings:
    """Check every input and return the Settings, or raise InputError naming the first bad one."""
    raw = {name: inputs.get(name, default).strip() for name, default in DEFAULTS.items()}
    warnings: list[str] = []
    scope, owner = _scope_and_owner(raw["org"], raw["enterprise"], env)
    reports = _reports(raw["report"], scope)
    days = _days_of(raw["day"], reports, scope, today or _utc_today(), warnings)
    history = _history(raw["history"], days, env)
    upload = _boolean("upload", raw["upload"])
    retention_days = _retention_days(raw["retention-days"], env, warnings)
    return Settings(
        scope=scope,
        owner=owner,
        token=_token(raw["token"]),
        report=reports[0],
        days=days if reports[0].daily else None,
        api_url=_api_url(raw["api-url"] or env.get("GITHUB_API_URL", "") or "https://api.github.com"),
        artifact_name=_artifact_name(raw["artifact-name"]),
        retention_days=retention_days,
        compression_level=_integer_in("compression-level", raw["compression-level"], 0, 9),
        overwrite=_boolean("overwrite", raw["overwrite"]),
        path=_path(raw["path"], env),
        upload=upload,
        summary=_boolean("summary", raw["summary"]),
        csv=_boolean("csv", raw["csv"]),
        if_no_report=_if_no_report(raw["if-no-report"]),
        runtime=ArtifactRuntime.from_env(env) if upload else None,
        warnings=tuple(warnings),
        history=history,
        github_token=raw["github-token"],
        reports=reports,
        daily_days=days,
        min_group_size=_integer_in("min-group-size", raw["min-group-size"], *MIN_GROUP_SIZES),
        show_users=_boolean("show-users", raw["show-users"]),
    )


def _history(value: str, days: DaySelection, env: Mapping[str, str]) -> str:
    if days == MISSING and not value:
        raise InputError(
            "Input 'day' is 'missing', which needs 'history': set 'history' to where the history is kept "
            "(a folder, s3://, az://, gs:// or branch:NAME), or ask for a day or a range."
        )
    if value:
        parse_location(value, Path(env.get("GITHUB_WORKSPACE") or os.getcwd()))
    return value


def missing_window(scope: Scope, today: dt.date) -> DayRange:
    """The days `day: missing` may fill: what GitHub still keeps, up to yesterday (UTC)."""
    yesterday = today - dt.timedelta(days=1)
    return DayRange(max(yesterday - dt.timedelta(days=KEPT_DAYS - 1), DATA_STARTS[scope]), yesterday)


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _scope_and_owner(org: str, enterprise: str, env: Mapping[str, str]) -> tuple[Scope, str]:
    if enterprise:
        return "enterprise", _login("enterprise", enterprise)
    org = org or env.get("GITHUB_REPOSITORY_OWNER", "")
    if not org:
        raise InputError(
            "Input 'org' is empty: set it to the organization's login, or set 'enterprise' to an enterprise slug."
        )
    return "organization", _login("org", org)


def _login(name: str, value: str) -> str:
    scope: Scope = "enterprise" if name == "enterprise" else "organization"
    limit = _MAX_LOGIN[scope]
    if len(value) > limit or not _LOGIN.fullmatch(value):
        raise InputError(
            f"Input '{name}' is not a valid GitHub {'enterprise slug' if name == 'enterprise' else 'login'}: "
            f"{value!r}. Use 1-{limit} ASCII letters, digits and single hyphens, not starting or "
            "ending with a hyphen."
        )
    return value


def _token(value: str) -> str:
    if not value:
        raise InputError(
            "Input 'token' is empty: pass a personal access token or GitHub App token that can read "
            "Copilot metrics (e.g. token: ${{ secrets.COPILOT_METRICS_TOKEN }}). "
            "The workflow's GITHUB_TOKEN can never read these endpoints."
        )
    if not value.isascii() or any(ch.isspace() for ch in value) or not value.isprintable():
        raise InputError(
            "Input 'token' contains spaces, control characters or non-ASCII characters: paste the token alone."
        )
    return value


def _reports(value: str, scope: Scope) -> tuple[Report, ...]:
    """The reports a list names (comma or newline separated), or every report of the scope for `all`."""
    names = [name.strip() for name in re.split(r"[,\n]", value) if name.strip()]
    if names == [ALL_REPORTS]:
        return reports_of(scope)
    if ALL_REPORTS in names:
        raise InputError(
            f"Input 'report' mixes '{ALL_REPORTS}' with report names: use '{ALL_REPORTS}' alone, or list the reports."
        )
    chosen = {_report(name, scope) for name in names} if names else {_report("", scope)}
    return tuple(report for report in reports_of(scope) if report in chosen)


def _days_of(
    value: str, reports: tuple[Report, ...], scope: Scope, today: dt.date, warnings: list[str]
) -> DaySelection:
    """The day selection of the 1-day reports asked for; with none, the same checks as a lone 28-day report."""
    daily = next((report for report in reports if report.daily), reports[0])
    return _days(value, daily, scope, today, warnings)


def _report(value: str, scope: Scope) -> Report:
    offered = reports_of(scope)
    chosen = next((report for report in offered if report.name == value), None) if value else offered[0]
    if chosen is None:
        where = "an enterprise" if scope == "enterprise" else "an organization"
        raise InputError(
            f"Input 'report' is {value!r}, which is not a report of {where}. Use one of: {', '.join(REPORTS[scope])}; "
            f"several of them, comma separated; or '{ALL_REPORTS}'."
        )
    return chosen


def _days(value: str, report: Report, scope: Scope, today: dt.date, warnings: list[str]) -> DaySelection:
    if not report.daily:
        if value:
            raise InputError(
                f"Input 'day' is set, but report '{report}' always covers the latest 28 days. "
                "Leave 'day' empty, or choose a 1-day report."
            )
        return None
    if not value:
        raise InputError(
            f"Input 'day' is required for report '{report}': use YYYY-MM-DD, a range "
            "YYYY-MM-DD..YYYY-MM-DD, 'latest', or 'missing' (with 'history')."
        )
    if value == "latest":
        return "latest"
    if value == MISSING:
        return "missing"
    first_text, sep, last_text = value.partition("..")
    first = _date(first_text)
    last = _date(last_text) if sep else first
    if last < first:
        raise InputError(f"Input 'day' is a reversed range ({value}): put the earlier day first.")
    if last > today:
        raise InputError(
            f"Input 'day' reaches {last.isoformat()}, after today ({today.isoformat()} UTC): "
            "GitHub has no reports for future days."
        )
    span = (last - first).days + 1
    if span > MAX_RANGE_DAYS:
        raise InputError(
            f"Input 'day' covers {span} days; at most {MAX_RANGE_DAYS} are allowed in one run "
            "(GitHub keeps one year of reports)."
        )
    start = DATA_STARTS[scope]
    if first < start:
        warnings.append(
            f"Input 'day' starts on {first.isoformat()}, but GitHub's {scope} data starts on "
            f"{start.isoformat()}: earlier days will have no report."
        )
    return DayRange(first, last)


def _date(text: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise InputError(
            f"Input 'day' has {text!r}, which is not a date: use YYYY-MM-DD, a range "
            "YYYY-MM-DD..YYYY-MM-DD, or 'latest'."
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"Input 'day' has {text!r}, which is not a day of the calendar.") from None


def _api_url(value: str) -> str:
    problem = _api_url_problem(value)
    if problem:
        shown = re.sub(r"//[^/@]*@", "//***@", value)  # a password in the URL must not reach the log
        raise InputError(
            f"Input 'api-url' is {shown!r}: {problem}. Use https://api.github.com, or "
            "https://api.SUBDOMAIN.ghe.com for GHE.com data residency."
        )
    return value.rstrip("/")


def _api_url_problem(value: str) -> str:
    """Why `value` may not be the API base, or "" when it may."""
    if not value.isascii() or not value.isprintable() or " " in value:
        return "it holds spaces, control characters or non-ASCII characters"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return "it is not a valid URL"
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not _HOST.fullmatch(host):
        return "it is not an absolute https URL"
    if parts.scheme == "http" and not is_loopback(host):
        return "plain http is only allowed for a loopback test server"
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return "it must not hold credentials, a query or a fragment"
    return ""


def _artifact_name(value: str) -> str:
    if value:
        try:
            validate_artifact_name(value)
        except ValueError as problem:
            raise InputError(f"Input 'artifact-name' {problem}") from None
    return value


def _retention_days(value: str, env: Mapping[str, str], warnings: list[str]) -> int:
    days = _integer_in("retention-days", value, 0, MAX_RETENTION_DAYS)
    cap_text = env.get("GITHUB_RETENTION_DAYS", "")
    cap = int(cap_text) if re.fullmatch(r"[0-9]+", cap_text) and int(cap_text) > 0 else None
    if cap is not None and days > cap:
        warnings.append(
            f"Input 'retention-days' is {days}, more than this repository allows ({cap}): "
            f"the artifact is kept {cap} days."
        )
        return cap
    return days


def _integer_in(name: str, value: str, low: int, high: int) -> int:
    if re.fullmatch(r"[0-9]+", value) and low <= int(value) <= high:
        return int(value)
    raise InputError(f"Input '{name}' is {value!r}: use a whole number from {low} to {high}.")


def _boolean(name: str, value: str) -> bool:
    if value in _BOOLEANS:
        return _BOOLEANS[value]
    raise InputError(f"Input '{name}' is {value!r}: use true or false.")


def _if_no_report(value: str) -> IfNoReport:
    if value == "warn":
        return "warn"
    if value == "error":
        return "error"
    if value == "ignore":
        return "ignore"
    raise InputError(f"Input 'if-no-report' is {value!r}: use warn, error or ignore.")


def _path(value: str, env: Mapping[str, str]) -> Path:
    if not value or "\0" in value:
        raise InputError(
            "Input 'path' is empty or holds a NUL character: name a folder inside the workspace, e.g. copilot-metrics."
        )
    try:
        workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
        target = (workspace / value).resolve()
        blocker = next((p for p in (target, *target.parents) if p.exists() and not p.is_dir()), None)
    except (OSError, RuntimeError):
        # RuntimeError: a symlink loop (Python 3.11); OSError: a name the file system refuses.
        raise InputError(
            f"Input 'path' is {value!r}, which cannot be resolved to a folder: name a plain folder."
        ) from None
    if target != workspace and workspace not in target.parents:
        raise InputError(
            f"Input 'path' is {value!r}, which points outside the workspace ({workspace}): "
            "use a folder inside it, e.g. copilot-metrics."
        )
    if blocker is not None:
        raise InputError(
            f"Input 'path' is {value!r}, but {blocker} is a file, not a folder: name another folder for the reports."
        )
    return target
