"""What every HTTP call of the action shares: sessions, timeouts, the one retry loop, bounded
bodies and the redirect rule.

No session ever reads ~/.netrc: requests would otherwise put a netrc entry's credentials in place
of the token (or add them to a signed link), and send them wherever a redirect leads."""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import json
import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from . import __version__
from .errors import InputError
from .workflow import Log, one_line

if TYPE_CHECKING:
    from requests.sessions import _Settings

USER_AGENT = f"copilot-metrics-report/{__version__} (+https://github.com/features/copilot)"

# Failures worth another try: resets, refused connections, timeouts, bodies cut short or mangled
# on the way (a body that cannot be decoded is as broken as one that stopped half-way).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
DEFAULT_READ_TIMEOUT = 60.0
MAX_READ_TIMEOUT = 3600.0
# An error body is read only this far: enough for any JSON error GitHub or Azure sends.
MAX_ERROR_BYTES = 64 * 1024
# JSON answers are small: one that arrives slower than this is as good as lost.
JSON_MIN_RATE = 1024.0
# How much of a server's own words an error message quotes.
QUOTE_CHARS = 300
# All the waiting the server may ask for (Retry-After, rate limit resets) in one run; beyond it a
# clear failure is kinder than a job that sits until the runner's six-hour limit.
RUN_WAIT_BUDGET = 15 * 60.0

T = TypeVar("T")


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, the only hosts plain http may reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def timeout() -> tuple[float, float]:
    """(connect, read) seconds for one request; COPILOT_METRICS_TIMEOUT overrides the read part,
    for networks slower than GitHub's usual answer times."""
    value = os.environ.get("COPILOT_METRICS_TIMEOUT", "").strip()
    if not value:
        return (10.0, DEFAULT_READ_TIMEOUT)
    try:
        read = float(value)
    except ValueError:
        read = math.nan
    if not 1 <= read <= MAX_READ_TIMEOUT:  # also false for nan
        raise InputError(
            f"COPILOT_METRICS_TIMEOUT is {value[:20]!r}: use a number of seconds from 1 to {MAX_READ_TIMEOUT:.0f}, "
            "or leave it unset for the default of 60."
        )
    return (min(10.0, read), read)


class _RunClock:
    """What is left of the run's wait budget, shared by every retry loop of the process."""

    def __init__(self, budget: float) -> None:
        self.waited = 0.0
        self.budget = budget

    def left(self) -> float:
        return max(0.0, self.budget - self.waited)


RUN_CLOCK = _RunClock(RUN_WAIT_BUDGET)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed call is tried again."""

    attempts: int = 5
    first_delay: float = 1.5
    multiplier: float = 2.0
    max_delay: float = 120.0
    # The server's own Retry-After or rate-limit reset may ask for longer than our backoff would
    # ever wait; it knows best, up to a point where failing with a clear message is kinder.
    max_retry_after: float = 10 * 60.0
    # Secondary rate limits answer without a reset time; GitHub asks to wait at least a minute.
    rate_limit_delay: float = 60.0
    # Seconds an answer may arrive slower than its minimum pace before it is given up (Pace).
    patience: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None, rate_limited: bool = False) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        if rate_limited:
            return min(self.rate_limit_delay * 2.0 ** (attempt - 1), self.max_delay)
        base = self.first_delay * self.multiplier ** (attempt - 1)
        return min(base * random.uniform(0.8, 1.2), self.max_delay)


@dataclass(frozen=True)
class Retry:
    """An attempt that failed in a way worth trying again."""

    problem: str
    retry_after: float | None = None
    rate_limited: bool = False


class WaitTooLong(Exception):
    """The server asked to wait longer than the policy or the run's budget allows."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:.0f} s")
        self.seconds = seconds


def with_retries(policy: RetryPolicy, attempt: Callable[[int], T | Retry], log: Log | None = None) -> T | Retry:
    """Call `attempt(number)` until it returns a result or the attempts run out (then: the last
    Retry). Connection failures count as a Retry; waits follow the policy and the server's word.
    Raises WaitTooLong when the server asks for more than the policy or the run has left."""
    outcome: T | Retry = Retry("not tried")
    for number in range(1, policy.attempts + 1):
        try:
            outcome = attempt(number)
        except TRANSIENT_ERRORS as failure:
            outcome = Retry(f"connection failed: {type(failure).__name__}")
        if not isinstance(outcome, Retry) or number == policy.attempts:
            return outcome
        _wait(policy, number, outcome, log)
    return outcome


def _wait(policy: RetryPolicy, number: int, retry: Retry, log: Log | None) -> None:
    asked = retry.retry_after
    if asked is not None and asked > policy.max_retry_after:
        raise WaitTooLong(asked)
    seconds = policy.delay(number, asked, retry.rate_limited)
    if seconds > RUN_CLOCK.left():
        raise WaitTooLong(seconds)
    if log is not None and retry.rate_limited:
        resume = time.strftime("%H:%M:%S", time.gmtime(time.time() + seconds))
        log(f"GitHub's API rate limit was reached ({retry.problem}): waiting {seconds:.0f} s, until {resume} UTC.")
    RUN_CLOCK.waited += seconds
    time.sleep(seconds)


def retry_after_seconds(response: requests.Response) -> float | None:
    """The server's own answer to "when may I try again?", from Retry-After or the rate limit reset.

    Bounded to a day: anything later is as good as "not within this job"."""
    header = response.headers.get("Retry-After", "").strip()
    if header:
        try:
            return _bounded(float(header))
        except ValueError:
            pass
        try:
            return _bounded(email.utils.parsedate_to_datetime(header).timestamp() - time.time())
        except (TypeError, ValueError, OverflowError):
            pass
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        if reset.isdigit() and len(reset) < 16:
            return _bounded(int(reset) - time.time())
    return None


def _bounded(seconds: float) -> float | None:
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), 86400.0)


class Pace:
    """Cuts the connection of an answer that arrives slower than `min_rate` bytes a second on
    average once `patience` seconds have passed. Read timeouts alone let a server trickle a byte
    just inside each timeout for ever, and a blocked read cannot check the clock itself, so a
    watcher thread does; the cut makes the read fail as a broken connection, which is retried."""

    def __init__(self, response: requests.Response, min_rate: float, patience: float) -> None:
        self._response = response
        self._min_rate = min_rate
        self._patience = patience
        self._start = time.monotonic()
        self._received = 0
        self._done = threading.Event()
        self.too_slow = False

    def __enter__(self) -> Pace:
        threading.Thread(target=self._watch, name="pace", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()

    def update(self, received: int) -> None:
        self._received = received

    def _watch(self) -> None:
        while not self._done.wait(min(1.0, self._patience / 4)):
            elapsed = time.monotonic() - self._start
            if elapsed > self._patience and self._received < self._min_rate * elapsed:
                self.too_slow = True
                connection = getattr(self._response.raw, "connection", None)
                sock = getattr(connection, "sock", None)
                with contextlib.suppress(OSError, AttributeError):
                    sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
                return


def body_bytes(response: requests.Response, limit: int, patience: float = 60.0) -> bytes | None:
    """The (decoded) body, or None when it is longer than `limit` bytes. Reads at most one chunk
    past the limit, so a huge or endless body, or a compressed one that inflates without end,
    costs no more memory than the limit."""
    received = bytearray()
    with Pace(response, JSON_MIN_RATE, patience) as pace:
        for chunk in response.iter_content(64 * 1024):
            received += chunk
            if len(received) > limit:
                return None
            pace.update(len(received))
    return bytes(received)


def json_body(response: requests.Response, limit: int, patience: float = 60.0) -> Any:
    """The decoded JSON body (None when it is not JSON, too deep to decode, or over `limit`)."""
    data = body_bytes(response, limit, patience)
    return None if data is None else parse_json(data)


def parse_json(data: bytes) -> Any:
    """The decoded JSON (None when it is not JSON, or nested too deep for the decoder)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def error_message(response: requests.Response, key: str = "message", patience: float = 60.0) -> str:
    """The server's explanation of an error answer, read through the capped reader: the JSON
    body's `key` field, else its text, quoted on one line and cut short."""
    data = body_bytes(response, MAX_ERROR_BYTES, patience) or b""
    decoded = parse_json(data)
    if isinstance(decoded, dict) and isinstance(decoded.get(key), str):
        return quote(decoded[key])
    return quote(data.decode("utf-8", "replace"))


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Outside text as it may appear in our messages: one line, at most `limit` characters."""
    line = one_line(text.strip())
    return line if len(line) <= limit else line[:limit] + "…"


class RedirectRefused(requests.RequestException):
    """A redirect to a place this session does not follow."""


class _Session(requests.Session):
    """requests' session without its environment lookups (netrc), but with the proxy and CA
    bundle variables a self-hosted runner may need, and with a rule for where redirects may go."""

    def __init__(self, same_origin_redirects: bool) -> None:
        super().__init__()
        self.trust_env = False
        self._same_origin = same_origin_redirects

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> _Settings:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        merged["proxies"] = {**get_environ_proxies(url), **(merged["proxies"] or {})}
        if merged["verify"] is True:
            merged["verify"] = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        return merged

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        allowed_from(resp.url, target, self._same_origin)
        return target


def allowed_from(origin_url: str, location: str, same_origin: bool) -> str:
    """The absolute target of a redirect from `origin_url`, or RedirectRefused: only https (plain
    http between loopback test servers), and for API calls only the same scheme, host and port."""
    try:
        target = urlsplit(urljoin(origin_url, location))
        _ = target.port  # a port that is not a number raises ValueError
        origin = urlsplit(origin_url)
    except ValueError:
        raise RedirectRefused("a redirect to a malformed URL") from None
    host = target.hostname or ""
    secure = target.scheme == "https" or (target.scheme == "http" and is_loopback(host))
    if not host or not secure:
        raise RedirectRefused(f"a redirect to {target.scheme or 'no scheme'}://{host}, which is not https")
    if same_origin and (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
        raise RedirectRefused(f"a redirect to another host ({target.scheme}://{host})")
    return target.geturl()


def new_session(pool_size: int = 10, same_origin_redirects: bool = True) -> requests.Session:
    """A session with our User-Agent and a connection pool sized for `pool_size` threads.

    Retries are ours, not urllib3's, so that every retry is visible and honours the server's
    Retry-After."""
    session = _Session(same_origin_redirects)
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
