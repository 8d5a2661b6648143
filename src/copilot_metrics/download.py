"""Signed report links to files on disk: concurrent, streamed, resumed, verified, atomic.

Report files are fetched without any credentials: the links are pre-signed, and their host
(e.g. copilot-reports.github.com) must never see the GitHub token. Files are written into a
staging folder and moved into place only when every one of them arrived intact, so a failed run
leaves nothing half-written behind.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import requests
from requests.auth import AuthBase

from .errors import DownloadError, LinkExpiredError
from .reports import ReportLinks, ReportPart
from .transport import TRANSIENT_ERRORS, RetryPolicy, new_session, retry_after_seconds, timeout

WORKERS = 4
CHUNK = 1024 * 1024
STAGING_PREFIX = ".copilot-metrics-staging-"

Refresh = Callable[[ReportPart], ReportPart]
Log = Callable[[str], None]


@dataclass(frozen=True)
class DownloadedFile:
    path: Path
    size: int


class _NoAuth(AuthBase):
    """Sends no Authorization header at all, and stops requests from adding one from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


@dataclass(frozen=True)
class _Job:
    part_index: int
    link_index: int
    relative: PurePosixPath


def download_report(
    links: ReportLinks,
    folder: Path,
    refresh: Refresh,
    log: Log,
    policy: RetryPolicy | None = None,
    workers: int = WORKERS,
) -> list[DownloadedFile]:
    """Download every link of every part into `folder`; 1-day reports go in one folder per day."""
    jobs = _jobs(links.parts)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    fetcher = _Fetcher(list(links.parts), refresh, policy or RetryPolicy(), workers)
    try:
        results = fetcher.run(jobs, staging, log)
        pairs = zip(jobs, results, strict=True)
        return [_move_into_place(folder, job.relative, result) for job, result in pairs]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _jobs(parts: Sequence[ReportPart]) -> list[_Job]:
    jobs = []
    taken: set[str] = set()
    for part_index, part in enumerate(parts):
        prefix = PurePosixPath(part.day.isoformat()) if part.day else PurePosixPath()
        for link_index, link in enumerate(part.links):
            name = _unique(prefix / file_name(link, link_index), taken)
            jobs.append(_Job(part_index, link_index, name))
    return jobs


def file_name(link: str, index: int) -> str:
    """A safe local file name from the last segment of the link's path."""
    last = unquote(PurePosixPath(urlsplit(link).path).name)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", last).lstrip(".")
    return safe or f"part-{index + 1}.ndjson"


def _unique(path: PurePosixPath, taken: set[str]) -> PurePosixPath:
    candidate, number = path, 1
    while str(candidate).lower() in taken:
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    taken.add(str(candidate).lower())
    return candidate


def _move_into_place(folder: Path, relative: PurePosixPath, result: DownloadedFile) -> DownloadedFile:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(result.path, target)
    return DownloadedFile(target, result.size)


class _Fetcher:
    """Runs the downloads on a thread pool; asks for fresh links (once per part) when they expire."""

    def __init__(self, parts: list[ReportPart], refresh: Refresh, policy: RetryPolicy, workers: int) -> None:
        self._parts = parts
        self._refresh = refresh
        self._refreshed: set[int] = set()
        self._lock = threading.Lock()
        self._policy = policy
        self._workers = workers
        self._session = new_session(pool_size=workers)
        # Byte-exact files and byte offsets for Range need the body as stored, never re-encoded.
        self._session.headers["Accept-Encoding"] = "identity"

    def run(self, jobs: list[_Job], staging: Path, log: Log) -> list[DownloadedFile]:
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="download") as pool:
            futures: list[Future[DownloadedFile]] = [
                pool.submit(self._download, job, staging / f"{number}.part") for number, job in enumerate(jobs)
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [future for future in done if future.exception() is not None]
            if failed:
                for future in futures:
                    future.cancel()
                raise failed[0].exception()  # type: ignore[misc]
        results = [future.result() for future in futures]
        for job, result in zip(jobs, results, strict=True):
            log(f"Downloaded {job.relative} ({result.size:,} bytes)")
        return results

    def _download(self, job: _Job, target: Path) -> DownloadedFile:
        try:
            return self._fetch(self._link(job), target)
        except LinkExpiredError:
            self._renew(job.part_index)
            return self._fetch(self._link(job), target)

    def _link(self, job: _Job) -> str:
        with self._lock:
            return self._parts[job.part_index].links[job.link_index]

    def _renew(self, part_index: int) -> None:
        with self._lock:
            if part_index in self._refreshed:
                return
            self._refreshed.add(part_index)
            self._parts[part_index] = self._refresh(self._parts[part_index])

    def _fetch(self, link: str, target: Path) -> DownloadedFile:
        """Stream one link to `target`, resuming with Range after a broken or short body."""
        problem = ""
        with target.open("wb") as out:
            for attempt in range(1, self._policy.attempts + 1):
                try:
                    outcome = self._attempt(link, out)
                except TRANSIENT_ERRORS as failure:
                    outcome = _Outcome(False, f"connection failed: {type(failure).__name__}")
                except requests.RequestException as failure:
                    raise DownloadError(
                        f"A report link could not be fetched ({type(failure).__name__}): re-run the job; if it "
                        "repeats, GitHub's answer holds a malformed link."
                    ) from None
                if outcome.complete:
                    return DownloadedFile(target, out.tell())
                problem = outcome.problem
                if attempt < self._policy.attempts:
                    self._policy.wait(attempt, outcome.retry_after)
        raise DownloadError(
            f"A report file could not be downloaded intact ({problem}) after {self._policy.attempts} "
            "attempts: check the runner's network, then re-run the job."
        )

    def _attempt(self, link: str, out: BinaryIO) -> _Outcome:
        """One request for the rest of the file (all of it when nothing has arrived yet)."""
        headers = {"Range": f"bytes={out.tell()}-"} if out.tell() else {}
        with self._session.get(link, headers=headers, stream=True, timeout=timeout(), auth=_NoAuth()) as response:
            status = response.status_code
            if status in (200, 206):
                return _receive(response, out)
            if status == 403 and "AuthenticationFailed" in response.text:
                raise LinkExpiredError(
                    "A report link was refused as expired even after asking GitHub for fresh links: re-run the job."
                )
            if status == 429 or status >= 500:
                return _Outcome(False, f"HTTP {status}", retry_after_seconds(response))
            raise DownloadError(
                f"The report file host refused a download (HTTP {status}). If the runner sits behind a "
                "firewall, allow copilot-reports.github.com (or your GHE.com copilot-reports host); then "
                "re-run the job."
            )


@dataclass(frozen=True)
class _Outcome:
    complete: bool
    problem: str = ""
    retry_after: float | None = None


def _receive(response: requests.Response, out: BinaryIO) -> _Outcome:
    """Append the body to `out` (or start over when the server sent the whole file again)."""
    if not _resumes_at(response, out.tell()):
        out.seek(0)
        out.truncate()
    expected = _expected_end(response, out.tell())
    _copy_body(response, out)
    if expected is None or out.tell() == expected:
        return _Outcome(True)
    return _Outcome(False, f"the body ended after {out.tell():,} of {expected:,} bytes")


def _copy_body(response: requests.Response, out: BinaryIO) -> None:
    """Write the body to `out`.

    An unencoded body (what the report hosts send, as we ask for identity) is read from the
    connection straight into one reused buffer, sparing a fresh 1 MiB bytes object and its page
    faults per chunk, as iter_content makes them (bench/RESULTS.md has the measurements).
    urllib3 exposes no public way to read into a buffer without a copy, hence its `_fp`."""
    readinto = getattr(getattr(response.raw, "_fp", None), "readinto", None)
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if encoded or readinto is None:
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)
        return
    buffer = memoryview(bytearray(CHUNK))
    while True:
        try:
            received = readinto(buffer)
        except (http.client.HTTPException, OSError) as failure:
            raise requests.ConnectionError(f"the body broke off ({type(failure).__name__})") from failure
        if not received:
            return
        out.write(buffer[:received])


def _resumes_at(response: requests.Response, offset: int) -> bool:
    """Whether this answer continues the file at `offset` (False: it starts the file over)."""
    if offset == 0:
        return True
    if response.status_code != 206:
        return False
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return match is not None and int(match.group(1)) == offset


def _expected_end(response: requests.Response, offset: int) -> int | None:
    """The file size this answer promises, or None when it does not say."""
    length = response.headers.get("Content-Length", "")
    if not length.isdigit():
        return None
    return (offset if response.status_code == 206 else 0) + int(length)
