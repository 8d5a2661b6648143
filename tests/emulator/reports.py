"""The Copilot usage metrics reports: catalogue, REST API host and signed-download host."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

from . import azure, data
from .server import FileSlice, Piece, Request, Response, Traffic, parse_range, pieces_length, slice_pieces

API_VERSIONS = ("2026-03-10", "2022-11-28")
DOCS = "https://docs.github.com/rest/copilot/copilot-usage-metrics"
HISTORY_DAYS = 60
RATE_LIMIT = 5000
SCOPES = {
    "org": ("orgs", "organization", "organization_id"),
    "enterprise": ("enterprises", "enterprise", "enterprise_id"),
}
Shard = bytes | Path


@dataclass
class Owner:
    login: str
    id: int
    metrics_enabled: bool


@dataclass(frozen=True)
class ReportKey:
    scope: str
    owner: str
    report: str
    day: date | None


def report_names(scope: str) -> tuple[str, ...]:
    aggregate = SCOPES[scope][1]
    return (
        f"{aggregate}-28-day",
        "users-28-day",
        f"{aggregate}-1-day",
        "users-1-day",
        "user-teams-1-day",
        "repos-1-day",
    )


def is_28_day(report: str) -> bool:
    return report.endswith("-28-day")


class Catalog:
    """Which owners exist and what every report serves on which day."""

    def __init__(self, today: Callable[[], date]) -> None:
        self._today = today
        self._lock = threading.Lock()
        self.owners: dict[str, dict[str, Owner]] = {"org": {}, "enterprise": {}}
        self.no_report_days: set[date] = set()
        self._overrides: dict[ReportKey, list[Shard]] = {}
        self._generated: dict[tuple[ReportKey, date], list[Shard]] = {}

    def add_owner(self, scope: str, login: str, metrics_enabled: bool) -> None:
        owner_id = 1000 + zlib.crc32(f"{scope}/{login.lower()}".encode()) % 9_000_000
        self.owners[scope][login.lower()] = Owner(login, owner_id, metrics_enabled)

    def owner(self, scope: str, login: str) -> Owner | None:
        return self.owners[scope].get(login.lower())

    def window(self) -> tuple[date, date]:
        end = self._today() - timedelta(days=2)
        return end - timedelta(days=27), end

    def set_shards(self, key: ReportKey, shards: list[Shard]) -> None:
        with self._lock:
            self._overrides[key] = list(shards)

    def shards(self, key: ReportKey) -> list[Shard] | None:
        """What the report serves; None means "no report" (204)."""
        with self._lock:
            if key in self._overrides:
                found = self._overrides[key]
                return found if found or key.day is None else None
        if key.day is not None and not self._has_day(key.day):
            return None
        return self._synthetic(key)

    def file_names(self, key: ReportKey, count: int) -> list[str]:
        return [f"{key.report}_{self.period(key)}_part-{n}.ndjson" for n in range(1, count + 1)]

    def period(self, key: ReportKey) -> str:
        if key.day is not None:
            return key.day.isoformat()
        start, end = self.window()
        return f"{start.isoformat()}_{end.isoformat()}"

    def _has_day(self, day: date) -> bool:
        newest = self._today() - timedelta(days=2)
        oldest = self._today() - timedelta(days=HISTORY_DAYS)
        return oldest <= day <= newest and day not in self.no_report_days

    def _synthetic(self, key: ReportKey) -> list[Shard]:
        anchor = key.day or self.window()[1]
        with self._lock:
            cached = self._generated.get((key, anchor))
        if cached is not None:
            return cached
        made: list[Shard] = list(self._generate(key))
        with self._lock:
            self._generated[(key, anchor)] = made
        return made

    def _generate(self, key: ReportKey) -> list[bytes]:
        owner = self.owners[key.scope][key.owner]
        owner_key = SCOPES[key.scope][2]
        seed = f"{key.scope}/{key.owner}/{key.report}/{self.period(key)}"
        shard_count = 1 + zlib.crc32(seed.encode()) % 2
        start, end = self.window()
        if key.day is None:
            if key.report == "users-28-day":
                return data.users(seed, owner_key, owner.id, [start + timedelta(days=n) for n in range(28)], 2)
            return data.aggregate_28_day(seed, owner_key, owner.id, start, end)
        if key.report == "users-1-day":
            return data.users(seed, owner_key, owner.id, [key.day], shard_count)
        if key.report == "user-teams-1-day":
            return data.user_teams(seed, owner_key, owner.id, key.day, shard_count)
        if key.report == "repos-1-day":
            return data.repos(seed, owner_key, owner.id, owner.login, key.day, shard_count)
        return data.aggregate_1_day(seed, owner_key, owner.id, key.day)


def shard_pieces(shard: Shard) -> list[Piece]:
    if isinstance(shard, bytes):
        return [shard]
    return [FileSlice(shard, 0, shard.stat().st_size)]


def shard_bytes(shard: Shard) -> bytes:
    return shard if isinstance(shard, bytes) else shard.read_bytes()


class RateLimits:
    """Per-token primary rate limit bookkeeping, for the x-ratelimit-* headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, int] = {}
        self.reset_at = int(time.time()) + 3600

    def spend(self, token: str) -> dict[str, str]:
        with self._lock:
            used = self._used[token] = self._used.get(token, 0) + 1
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }


_ROUTE = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/metrics/reports/([a-z0-9-]+)(/latest)?/?$")


def github_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"message": message, "documentation_url": DOCS, "status": str(status)}, headers)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    base = {"Content-Type": "application/json; charset=utf-8", "x-github-request-id": uuid.uuid4().hex[:20].upper()}
    return Response(status, base | (headers or {}), [json.dumps(body).encode()])


class ApiHost:
    """The REST API: the metrics report family for organizations and enterprises."""

    def __init__(
        self,
        catalog: Catalog,
        token: str,
        forbidden: Callable[[], set[str]],
        links: LinkSigner,
        not_ready_status: Callable[[], int] = lambda: 204,
    ) -> None:
        self.catalog = catalog
        self.token = token
        self.forbidden = forbidden
        self.links = links
        self.not_ready_status = not_ready_status
        self.rates = RateLimits()

    def handle(self, request: Request) -> Response:
        version = request.headers.get("X-GitHub-Api-Version", API_VERSIONS[1])
        if version not in API_VERSIONS:
            return github_error(410, f"The requested API version '{version}' is not supported.")
        token = _bearer(request.headers.get("Authorization", ""))
        if token is None:
            return github_error(401, "Requires authentication")
        if token != self.token and token not in self.forbidden():
            return github_error(401, "Bad credentials")
        limits = self.rates.spend(token) | {"x-github-api-version-selected": version}
        response = self._route(request, token)
        response.headers |= limits
        return response

    def _route(self, request: Request, token: str) -> Response:
        found = _ROUTE.match(request.path)
        if request.method not in ("GET", "HEAD") or found is None:
            return github_error(404, "Not Found")
        scope = "org" if found[1] == "orgs" else "enterprise"
        owner = self.catalog.owner(scope, found[2])
        report, latest = found[3], found[4] is not None
        if owner is None or not owner.metrics_enabled or report not in report_names(scope):
            return github_error(404, "Not Found")
        if latest != is_28_day(report):
            return github_error(404, "Not Found")
        if token in self.forbidden():
            return github_error(403, "Resource not accessible by personal access token")
        return self._report(scope, owner.login.lower(), report, request.params())

    def _report(self, scope: str, owner: str, report: str, params: dict[str, str]) -> Response:
        day = None
        if not is_28_day(report):
            day = _parse_day(params.get("day", ""))
            if day is None:
                return github_error(422, "Invalid request.\n\n'day' must be a date in the format YYYY-MM-DD.")
        key = ReportKey(scope, owner, report, day)
        shards = self.catalog.shards(key)
        if shards is None and self.not_ready_status() == 404:
            return github_error(404, "Not Found")
        if shards is None:
            return Response(HTTPStatus.NO_CONTENT)
        names = self.catalog.file_names(key, len(shards))
        body: dict[str, Any] = {"download_links": [self.links.link(key, self.catalog.period(key), n) for n in names]}
        if day is None:
            start, end = self.catalog.window()
            body |= {"report_start_day": start.isoformat(), "report_end_day": end.isoformat()}
        else:
            body["report_day"] = day.isoformat()
        return json_response(200, body)


class LinkSigner:
    """Pre-signed report links, valid for ttl() seconds from issue."""

    def __init__(self, ttl: Callable[[], float]) -> None:
        self.signer = azure.Signer()
        self.origin = ""
        self._ttl = ttl

    def link(self, key: ReportKey, period: str, name: str) -> str:
        path = f"/{key.scope}/{key.owner}/{key.report}/{period}/{name}"
        return f"{self.origin}{path}?{self.signer.sign(path, 'r', self._ttl())}"


class DownloadHost:
    """The signed-download host (copilot-reports.github.com): Azure-fronted static files."""

    def __init__(self, catalog: Catalog, links: LinkSigner, traffic: Traffic) -> None:
        self.catalog = catalog
        self.links = links
        self.traffic = traffic

    def handle(self, request: Request) -> Response:
        if "Authorization" in request.headers:
            self.traffic.leak(f"download {request.method} {request.path}: Authorization header sent")
            return azure.error(400, "InvalidAuthenticationInfo")
        if request.method not in ("GET", "HEAD"):
            return azure.error(405, "UnsupportedHttpVerb")
        denied = self.links.signer.check(request.path, request.params(), "r")
        if denied is not None:
            return denied
        shard = self._find(request.path)
        if shard is None:
            return azure.error(404, "BlobNotFound")
        return _serve_file(shard_pieces(shard), request.headers.get("Range"))

    def _find(self, path: str) -> Shard | None:
        parts = path.strip("/").split("/")
        if len(parts) != 5 or parts[0] not in SCOPES:
            return None
        scope, owner, report, period, name = parts
        day = None if "_" in period else _parse_day(period)
        key = ReportKey(scope, owner, report, day)
        if self.catalog.owner(scope, owner) is None or report not in report_names(scope):
            return None
        shards = self.catalog.shards(key) or []
        names = self.catalog.file_names(key, len(shards))
        return shards[names.index(name)] if name in names else None


def _serve_file(pieces: list[Piece], wanted: str | None) -> Response:
    total = pieces_length(pieces)
    headers = azure.common_headers() | {
        "Content-Type": "application/x-ndjson",
        "Accept-Ranges": "bytes",
        "ETag": f'"0x{zlib.crc32(str(total).encode()):08X}"',
        "x-ms-blob-type": "BlockBlob",
    }
    if wanted is None:
        return Response(200, headers, pieces)
    span = parse_range(wanted, total)
    if span is None:
        return azure.error(416, "InvalidRange") if total else Response(200, headers, pieces)
    headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{total}"
    return Response(206, headers, slice_pieces(pieces, *span))


def _bearer(value: str) -> str | None:
    kind, _, token = value.strip().partition(" ")
    if kind.lower() not in ("bearer", "token") or not token.strip():
        return None
    return token.strip()


def _parse_day(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
