"""What every HTTP call of the action shares: sessions, timeouts and the retry schedule."""

from __future__ import annotations

import email.utils
import os
import random
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from . import __version__

USER_AGENT = f"copilot-metrics-report/{__version__} (+https://github.com/features/copilot)"

# Failures worth another try: resets, refused connections, timeouts, bodies cut short or mangled
# on the way (a body that cannot be decoded is as broken as one that stopped half-way).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def timeout() -> tuple[float, float]:
    """(connect, read) seconds for one request; COPILOT_METRICS_TIMEOUT overrides the read part,
    for networks slower than GitHub's usual answer times."""
    read = os.environ.get("COPILOT_METRICS_TIMEOUT", "")
    try:
        read_seconds = float(read) if read else 60.0
    except ValueError:
        read_seconds = 60.0
    return (min(10.0, read_seconds), read_seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed call is tried again."""

    attempts: int = 5
    first_delay: float = 1.5
    multiplier: float = 2.0
    max_delay: float = 120.0
    # The server's own Retry-After or rate-limit reset may ask for longer than our backoff would
    # ever wait; it knows best, up to a point where failing with a clear message is kinder.
    max_retry_after: float = 15 * 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = self.first_delay * self.multiplier ** (attempt - 1)
        return min(base * random.uniform(0.8, 1.2), self.max_delay)

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        time.sleep(self.delay(attempt, retry_after))


def retry_after_seconds(response: requests.Response) -> float | None:
    """The server's own answer to "when may I try again?", from Retry-After or the rate limit reset."""
    header = response.headers.get("Retry-After", "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            return max(0.0, email.utils.parsedate_to_datetime(header).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            return max(0.0, int(reset) - time.time())
    return None


def new_session(pool_size: int = 10) -> requests.Session:
    """A session with our User-Agent and a connection pool sized for `pool_size` threads.

    Retries are ours, not urllib3's, so that every retry is visible and honours the server's
    Retry-After."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
