"""The Emulator: four fake GitHub hosts on loopback, wired together."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from datetime import UTC, date, datetime
from http.client import responses
from pathlib import Path
from types import TracebackType

from . import azure
from .blobstore import BlobBackend, BlobStore, LocalBlobBackend
from .reports import ApiHost, Catalog, DownloadHost, LinkSigner, ReportKey, Shard, github_error, is_28_day, shard_bytes
from .results import ResultsService, StoredArtifact, twirp_error
from .server import Fault, HostServer, Recorded, Response, Traffic

_BANNERS = {
    "api": "github.com",
    "download": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
    "results": "GitHub.com",
    "blob": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
}
_TWIRP_CODES = {429: "resource_exhausted", 503: "unavailable", 504: "deadline_exceeded"}


def _fault_answer(host: str, fault: Fault) -> Response:
    """The answer an injected status/body/expire_links fault gives, shaped like that host's errors."""
    if fault.expire_links:
        return azure.error(403, "AuthenticationFailed", "Signed expiry time has to be after the current time")
    status = fault.status if fault.status is not None else 200
    if fault.body is not None:
        response = Response(status, {"Content-Type": _content_type(fault.body)}, [fault.body])
    elif host == "api":
        response = github_error(status, responses.get(status, "Error"))
    elif host == "results":
        response = twirp_error(_TWIRP_CODES.get(status, "internal"), "injected fault", status)
    else:
        response = azure.error(status, azure.code_for_status(status))
    response.headers |= fault.headers or {}
    return response


def _content_type(body: bytes) -> str:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return "text/plain; charset=utf-8"
    return "application/json; charset=utf-8"


def _runtime_token(run_id: str, job_id: str) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {
        "scp": f"Actions.ExampleScope Actions.Results:{run_id}:{job_id}",
        "exp": int(time.time()) + 6 * 3600,
        "iss": "vstoken.actions.githubusercontent.com",
    }
    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


class Emulator:
    """A fake GitHub: REST API, signed downloads, results service and blob store.

    Servers start on construction; use it as a context manager so they stop.
    """

    def __init__(self, workdir: Path, seed: str = "octo") -> None:
        self.workdir = Path(workdir)
        self.token = "ghp_" + secrets.token_hex(18)
        self.today: date = datetime.now(UTC).date()
        self.forbidden_tokens: set[str] = set()
        self.link_ttl = 3600.0
        # How a 1-day endpoint answers a day without a report: 204 where GitHub documents it;
        # 404 is the other answer that endpoints without a documented 204 may give.
        self.not_ready_status = 204
        self.run_id = str(10_000_000_000 + uuid.uuid5(uuid.NAMESPACE_URL, seed).int % 10**9)
        run_backend_id, job_backend_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.runtime_token = _runtime_token(run_backend_id, job_backend_id)
        self._traffic = Traffic()
        self._catalog = Catalog(lambda: self.today)
        self._catalog.add_owner("org", "octo", True)
        self._catalog.add_owner("enterprise", "octo-ent", True)
        self._store = BlobStore(self.workdir / "blobs", self._traffic)
        self.blob_backend: BlobBackend = LocalBlobBackend(self._store)
        self._links = LinkSigner(lambda: self.link_ttl)
        self._results = ResultsService(self.runtime_token, run_backend_id, job_backend_id, lambda: self.blob_backend)
        self._servers = self._start_servers()

    def _start_servers(self) -> dict[str, HostServer]:
        handlers = {
            "api": ApiHost(
                self._catalog, self.token, lambda: self.forbidden_tokens, self._links, lambda: self.not_ready_status
            ).handle,
            "download": DownloadHost(self._catalog, self._links, self._traffic).handle,
            "results": self._results.handle,
            "blob": self._store.handle,
        }
        servers = {
            name: HostServer(name, _BANNERS[name], handler, self._traffic, _fault_answer)
            for name, handler in handlers.items()
        }
        self._links.origin = servers["download"].origin
        self._store.origin = servers["blob"].origin
        for server in servers.values():
            server.start()
        return servers

    def close(self) -> None:
        # In parallel: each server only notices the stop request at its next poll.
        stoppers = [threading.Thread(target=server.stop) for server in self._servers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def api_url(self) -> str:
        return self._servers["api"].origin

    @property
    def download_url(self) -> str:
        return self._servers["download"].origin

    @property
    def results_url(self) -> str:
        return self._servers["results"].origin + "/"

    @property
    def blob_url(self) -> str:
        return self._servers["blob"].origin

    @property
    def requests(self) -> list[Recorded]:
        return self._traffic.requests

    @property
    def leaks(self) -> list[str]:
        return self._traffic.leaks

    @property
    def artifacts(self) -> dict[str, StoredArtifact]:
        return self._results.artifacts

    @property
    def no_report_days(self) -> set[date]:
        return self._catalog.no_report_days

    @no_report_days.setter
    def no_report_days(self, days: set[date]) -> None:
        self._catalog.no_report_days = set(days)

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "octo/metrics",
            "GITHUB_REPOSITORY_OWNER": "octo",
            "GITHUB_RUN_ID": self.run_id,
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_RETENTION_DAYS": "90",
            "ACTIONS_RUNTIME_TOKEN": self.runtime_token,
            "ACTIONS_RESULTS_URL": self.results_url,
            "GITHUB_ACTIONS": "true",
            "CI": "true",
        }

    def inject(self, fault: Fault) -> None:
        with self._traffic.lock:
            self._traffic.faults.append(fault)

    def add_org(self, login: str, metrics_enabled: bool = True) -> None:
        self._catalog.add_owner("org", login, metrics_enabled)

    def add_enterprise(self, slug: str, metrics_enabled: bool = True) -> None:
        self._catalog.add_owner("enterprise", slug, metrics_enabled)

    def window(self, scope: str = "org", owner: str = "octo") -> tuple[date, date]:
        """The 28-day report window; the same for every owner, like GitHub's daily batch."""
        return self._catalog.window()

    def set_shards(self, scope: str, owner: str, report: str, day: date | None, shards: list[bytes | Path]) -> None:
        self._catalog.set_shards(self._key(scope, owner, report, day), shards)

    def expected_files(self, scope: str, owner: str, report: str, day: date | None = None) -> list[tuple[str, bytes]]:
        key = self._key(scope, owner, report, day)
        shards: list[Shard] = self._catalog.shards(key) or []
        names = self._catalog.file_names(key, len(shards))
        return [(name, shard_bytes(shard)) for name, shard in zip(names, shards, strict=True)]

    def _key(self, scope: str, owner: str, report: str, day: date | None) -> ReportKey:
        report = report.removesuffix("/latest")
        if is_28_day(report) != (day is None):
            raise ValueError("28-day reports take day=None; 1-day reports need a day")
        if self._catalog.owner(scope, owner) is None:
            raise ValueError(f"unknown {scope} {owner!r}: add it first")
        return ReportKey(scope, owner.lower(), report, day)
