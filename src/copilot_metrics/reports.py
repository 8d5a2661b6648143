"""GitHub's Copilot usage metrics report API: which endpoint to ask, how to ask it, and what its
answers mean. Returns the report window and the signed links to the report files."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from .errors import ApiError
from .settings import LATEST, DayRange, DaySelection, Settings
from .transport import (
    RedirectRefused,
    Retry,
    RetryPolicy,
    WaitTooLong,
    body_bytes,
    error_message,
    is_loopback,
    new_session,
    parse_json,
    retry_after_seconds,
    timeout,
    with_retries,
)
from .workflow import Log, SecretSink

API_VERSION = "2026-03-10"
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_LINKS = 2000
LATEST_PROBE_DAYS = 7
# Days this recent may still be in the making: GitHub answers them "not ready" in several ways.
FRESH_DAYS = 3

# Query parameters of signed links that carry the credential itself (Azure SAS `sig`, CDN and S3
# style signatures, keys and tokens). Masking every parameter would hide innocent values such as
# dates all over the log.
_SECRET_PARAM = re.compile(r"sig|signature|token|key|credential|policy|security", re.IGNORECASE)


@dataclass(frozen=True)
class ReportPart:
    """The signed links of one report: the 28-day report, or one day of a 1-day report."""

    day: dt.date | None
    links: tuple[str, ...]


@dataclass(frozen=True)
class ReportLinks:
    start: dt.date | None  # None when no day asked for had a report
    end: dt.date | None
    parts: tuple[ReportPart, ...]
    missing_days: tuple[dt.date, ...]  # days asked for that GitHub has no report for


class _NotReady(Exception):
    """GitHub answered, in one of its ways, that there is no report (yet)."""


class ReportsApi:
    def __init__(
        self,
        settings: Settings,
        log: Log,
        on_secret: SecretSink,
        policy: RetryPolicy | None = None,
        today: dt.date | None = None,
    ) -> None:
        self._settings = settings
        self._log = log
        self._on_secret = on_secret
        self._policy = policy or RetryPolicy()
        # Checked here, before the first request: a bad value must not reach any call.
        self._timeout = timeout()
        # Whether GitHub answered any request with a report or a "no report" (200 or 204), and
        # the last 404 a fresh day got: together they tell "not ready" from "no such owner".
        self._answered = False
        self._not_found: ApiError | None = None
        self._today = today or dt.datetime.now(dt.UTC).date()
        self._session = new_session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            }
        )
        self._base = (
            f"{settings.api_url}/{'enterprises' if settings.scope == 'enterprise' else 'orgs'}/"
            f"{settings.owner}/copilot/metrics/reports/{settings.report}"
        )

    def report_links(self) -> ReportLinks:
        """Ask for the report the settings select and return its window and links."""
        days = self._settings.days
        if days is None:
            return self._window_report()
        return self._daily_reports(days)

    def fresh_links(self, part: ReportPart) -> ReportPart:
        """The same report asked for again, for new links when the first ones expired."""
        try:
            body = self._get(part.day)
        except _NotReady:
            raise ApiError("GitHub no longer offers the report it linked to a moment ago: re-run the job.") from None
        fresh = self._part(body, part.day)
        if len(fresh.links) != len(part.links):
            raise ApiError("GitHub's report changed while it was being downloaded: re-run the job.")
        return fresh

    def _window_report(self) -> ReportLinks:
        try:
            body = self._get(None)
        except _NotReady:
            return ReportLinks(None, None, (), ())
        start = _day_field(body, "report_start_day")
        end = _day_field(body, "report_end_day")
        part = self._part(body, None)
        if not part.links:
            return ReportLinks(None, None, (), ())
        return ReportLinks(start, end, (part,), ())

    def _daily_reports(self, days: DaySelection) -> ReportLinks:
        if days == LATEST:
            return self._latest_day()
        assert isinstance(days, DayRange)
        return self.day_links(days.days())

    def day_links(self, wanted: Sequence[dt.date], workers: int = 1) -> ReportLinks:
        """The links of each day in `wanted`, asked `workers` at a time (GitHub allows a few at once)."""

        def ask(numbered: tuple[int, dt.date]) -> ReportPart | None:
            number, day = numbered
            if len(wanted) > 1:
                self._log(f"Day {number} of {len(wanted)}: {day.isoformat()}")
            return self._day_part(day)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report") as pool:
            answers = list(pool.map(ask, enumerate(wanted, start=1)))
        parts = [part for part in answers if part is not None]
        missing = [day for day, part in zip(wanted, answers, strict=True) if part is None]
        return _links_of(parts, missing)

    def _latest_day(self) -> ReportLinks:
        yesterday = self._today - dt.timedelta(days=1)
        for back in range(LATEST_PROBE_DAYS):
            day = yesterday - dt.timedelta(days=back)
            self._log(f"Looking for the newest report: {day.isoformat()}")
            part = self._day_part(day)
            if part is not None:
                return _links_of([part], [])
        self._raise_unknown_owner()
        oldest = yesterday - dt.timedelta(days=LATEST_PROBE_DAYS - 1)
        return ReportLinks(None, None, (), tuple(oldest + dt.timedelta(days=n) for n in range(LATEST_PROBE_DAYS)))

    def _raise_unknown_owner(self) -> None:
        """A 404 for every day asked, none answered otherwise: the owner, not the day, is missing."""
        if self._not_found is not None and not self._answered:
            raise self._not_found

    def _day_part(self, day: dt.date) -> ReportPart | None:
        try:
            part = self._part(self._get(day), day)
        except _NotReady:
            return None
        return part if part.links else None

    def _part(self, body: dict[str, Any], day: dt.date | None) -> ReportPart:
        links = body.get("download_links")
        if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
            raise ApiError(
                "GitHub's answer has no list of download_links: re-run the job; "
                "if it repeats, GitHub's API has changed."
            )
        if len(links) > MAX_LINKS:
            raise ApiError(f"GitHub's answer lists {len(links)} files, more than the {MAX_LINKS} this action accepts.")
        for link in links:
            _check_link(link)
        for link in links:
            self._mask_signature(link)
        if day is not None and "report_day" in body and _day_field(body, "report_day") != day:
            raise ApiError(
                f"GitHub answered the request for {day.isoformat()} with another day's report: re-run the job."
            )
        return ReportPart(day, tuple(links))

    def _mask_signature(self, link: str) -> None:
        query = urlsplit(link).query
        if not query:
            return
        self._on_secret(query)
        self._on_secret(unquote(query))
        for name, value in parse_qsl(query):
            if _SECRET_PARAM.search(name):
                self._on_secret(value)

    def _get(self, day: dt.date | None) -> dict[str, Any]:
        """The JSON object GitHub answers for the report (of `day`), or _NotReady."""
        url = self._base if day else f"{self._base}/latest"
        params = {"day": day.isoformat()} if day else None
        may_be_unready = day is not None and day >= self._today - dt.timedelta(days=FRESH_DAYS)
        try:
            outcome = with_retries(self._policy, lambda _: self._ask(url, params, may_be_unready), self._log)
        except WaitTooLong as wait:
            resume = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait.seconds)
            raise ApiError(
                f"GitHub's API asked to wait until {resume:%H:%M} UTC before trying again (rate limit or "
                "Retry-After), longer than this action waits: re-run the job after that, or use a token "
                "that other jobs do not share."
            ) from None
        except requests.RequestException as failure:
            raise ApiError(
                f"The request to GitHub's API at {self._settings.api_url} failed "
                f"({failure if isinstance(failure, RedirectRefused) else type(failure).__name__}): "
                "check 'api-url' and the runner's network, then re-run the job."
            ) from None
        if not isinstance(outcome, Retry):
            self._answered = True
            return outcome
        if may_be_unready:
            self._log(f"No report for {day} yet ({outcome.problem}).")
            raise _NotReady()
        advice = (
            "use a token that other jobs do not share, or re-run the job later"
            if outcome.rate_limited
            else "check https://www.githubstatus.com and re-run the job later"
        )
        raise ApiError(
            f"GitHub's Copilot metrics API kept failing ({outcome.problem}) after {self._policy.attempts} "
            f"attempts: {advice}."
        )

    def _ask(self, url: str, params: dict[str, str] | None, may_be_unready: bool) -> dict[str, Any] | Retry:
        """One request: the answer, or what went wrong and how long to wait before the next."""
        with self._session.get(url, params=params, timeout=self._timeout, stream=True) as response:
            status = response.status_code
            if status == 204:
                self._answered = True
                raise _NotReady()
            if status == 200:
                data = body_bytes(response, MAX_BODY_BYTES, self._policy.patience)
                if data is None:
                    raise ApiError(
                        f"GitHub's answer is larger than {MAX_BODY_BYTES // 1024**2} MiB: refusing to read it."
                    )
                body = parse_json(data)
                if isinstance(body, dict):
                    return body
                if isinstance(body, str):
                    return Retry("GitHub answered that the report is not ready")
                return Retry("the answer was not a JSON object")
            message = error_message(response, patience=self._policy.patience)
            if _is_rate_limited(response, message):
                return Retry(f"HTTP {status}", retry_after_seconds(response), rate_limited=True)
            if status >= 500:
                return Retry(f"HTTP {status}", retry_after_seconds(response))
            refusal = self._refusal(status, message)
            if status == 404 and may_be_unready:
                # Some 1-day endpoints document no 204; a day still in the making may answer 404.
                # Whether the owner itself is unknown shows once every day has answered.
                self._not_found = refusal
                raise _NotReady()
            raise refusal

    def _refusal(self, status: int, message: str) -> ApiError:
        scope = self._settings.scope
        if status == 401:
            return ApiError(
                "GitHub rejected the token (HTTP 401): it is invalid, expired or revoked. Create a new "
                "token and update the secret passed as 'token'."
            )
        if status == 403:
            if scope == "enterprise":
                need = (
                    "an enterprise owner's or billing manager's token: a classic PAT with the "
                    "'manage_billing:copilot' or 'read:enterprise' scope, or a fine-grained PAT / GitHub App "
                    'token with the enterprise permission "Enterprise Copilot metrics: read"'
                )
            else:
                need = (
                    'a token of an organization owner (or a member with "View Organization Copilot '
                    "Metrics\"): a classic PAT with the 'read:org' scope, or a fine-grained PAT / GitHub App "
                    'token with the organization permission "Organization Copilot metrics: read"'
                )
            return ApiError(
                f"GitHub refused the token (HTTP 403): it lacks permission to read Copilot metrics of "
                f"{self._settings.owner}. Use {need}. The workflow's GITHUB_TOKEN can never read these endpoints."
            )
        if status == 404:
            what = "enterprise" if scope == "enterprise" else "organization"
            return ApiError(
                f"GitHub found no Copilot metrics for {what} {self._settings.owner!r} (HTTP 404): check the "
                f'name, that Copilot is enabled for the {what}, and that the "Copilot usage metrics" '
                "policy is enabled (enterprise or organization settings > Copilot > Policies)."
            )
        return ApiError(f"GitHub refused the request (HTTP {status}{': ' + message if message else ''}).")


def _links_of(parts: list[ReportPart], missing: list[dt.date]) -> ReportLinks:
    days = [part.day for part in parts if part.day is not None]
    return ReportLinks(min(days, default=None), max(days, default=None), tuple(parts), tuple(missing))


def _check_link(link: str) -> None:
    try:
        parts = urlsplit(link)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise ApiError("GitHub's answer holds a download link that is not a valid URL: re-run the job.") from None
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and is_loopback(host):
        return
    raise ApiError(
        f"GitHub's answer holds a download link to {parts.scheme or 'no'}://{host} that is not https: "
        "refusing to fetch a report over an insecure connection."
    )


def _is_rate_limited(response: requests.Response, message: str) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if response.headers.get("x-ratelimit-remaining") == "0" or "Retry-After" in response.headers:
        return True
    return "rate limit" in message.lower()


def _day_field(body: dict[str, Any], name: str) -> dt.date:
    value = body.get(name)
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else _missing(name)
    except ValueError:
        return _missing(name)


def _missing(name: str) -> dt.date:
    raise ApiError(f"GitHub's answer has no valid {name}: re-run the job; if it repeats, GitHub's API has changed.")
