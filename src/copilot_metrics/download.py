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

from .errors import DownloadError, InputError, LinkExpiredError
from .reports import ReportLinks, ReportPart
from .tabular import is_derived_name
from .transport import (
    TRANSIENT_ERRORS,
    Pace,
    RedirectRefused,
    Retry,
    RetryPolicy,
    WaitTooLong,
    error_message,
    new_session,
    retry_after_seconds,
    timeout,
    with_retries,
)
from .workflow import Log

WORKERS = 4
CHUNK = 1024 * 1024
STAGING_PREFIX = ".copilot-metrics-staging-"

# No documented bound exists for a report file. A users report of a large enterprise runs to a
# few GB; 64 GiB is far beyond any real one, yet stops an endless body before it fills the disk.
MAX_FILE_BYTES = 64 * 1024**3
# Below this average pace (after Pace's grace period) an answer is given up and tried again: a
# server trickling one byte just inside each read timeout would otherwise never time out.
MIN_RATE = 16 * 1024

Refresh = Callable[[ReportPart], ReportPart]


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
    warn: Log | None = None,
) -> list[DownloadedFile]:
    """Download every link of every part into `folder`; 1-day reports go in one folder per day.
    `warn` gets what the user should act on (default: `log`)."""
    jobs = _jobs(links.parts)
    refuse_links(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_leftover_staging(folder, log)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    fetcher = _Fetcher(list(links.parts), refresh, policy or RetryPolicy(), workers)
    try:
        results = fetcher.run(jobs, staging, log)
        pairs = zip(jobs, results, strict=True)
        return [_move_into_place(folder, job.relative, result, warn or log) for job, result in pairs]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_leftover_staging(folder: Path, log: Log) -> None:
    """Remove the staging folders of runs that were cancelled before they could clean up (a
    cancelled job's container is killed): they hold only partial downloads of this action."""
    for leftover in folder.glob(f"{STAGING_PREFIX}*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)
            log(f"Removed {leftover.name}, left behind by an earlier run that was cancelled.")


def refuse_links(folder: Path) -> None:
    """Raise InputError when anything under `folder` is a symbolic link (`folder` itself is a
    resolved path: the settings resolve 'path' and keep it inside the workspace).

    The workspace may hold what earlier steps (or a checked-out repository) put there: a link
    named like a day folder or a file this action writes would send the report elsewhere."""
    for root, directories, files in os.walk(folder):
        for name in (*directories, *files):
            if (Path(root) / name).is_symlink():
                raise InputError(_link_message(Path(root) / name))


def _link_message(path: Path) -> str:
    return (
        f"Input 'path' leads through a symbolic link ({path}): the action writes only into real "
        "folders, so that no link can send the report elsewhere. Remove the link or choose another 'path'."
    )


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
    """A safe local file name from the last segment of the link's path; never a name the CSV
    conversion may write, so a conversion can never replace a downloaded file."""
    last = unquote(PurePosixPath(urlsplit(link).path).name)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", last).lstrip(".") or f"part-{index + 1}.ndjson"
    return f"{safe}.ndjson" if is_derived_name(safe) else safe


def _unique(path: PurePosixPath, taken: set[str]) -> PurePosixPath:
    candidate, number = path, 1
    while str(candidate).lower() in taken:
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    taken.add(str(candidate).lower())
    return candidate


def _move_into_place(folder: Path, relative: PurePosixPath, result: DownloadedFile, log: Log) -> DownloadedFile:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.parent.is_symlink() or target.is_symlink():
        raise InputError(_link_message(target))
    if target.exists():
        # Link names carry no owner: another step writing into the same 'path' loses its file here.
        log(
            f"Replacing {relative} that was already in 'path' (from an earlier run or step). Give each "
            "step its own 'path' when several steps download reports in one job."
        )
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
        self._timeout = timeout()
        # Signed links may be redirected to another https host; they carry no credentials.
        self._session = new_session(pool_size=workers, same_origin_redirects=False)
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
            target.unlink()  # our own file in the private staging folder: created afresh below
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
        with _create(target) as out:
            progress = _Progress(out)
            try:
                outcome = with_retries(self._policy, lambda _: self._attempt(link, progress))
            except WaitTooLong as wait:
                raise DownloadError(
                    f"The report file host asked to wait {wait} before trying again, longer than this action "
                    "waits: re-run the job later."
                ) from None
            except requests.RequestException as failure:
                what = str(failure) if isinstance(failure, RedirectRefused) else type(failure).__name__
                raise DownloadError(
                    f"A report link could not be fetched ({what}): re-run the job; if it repeats, GitHub's "
                    "answer holds a malformed link."
                ) from None
            if not isinstance(outcome, Retry):
                return DownloadedFile(target, out.tell())
        raise DownloadError(
            f"A report file could not be downloaded intact ({outcome.problem}) after {self._policy.attempts} "
            "attempts: check the runner's network, then re-run the job."
        )

    def _attempt(self, link: str, progress: _Progress) -> bool | Retry:
        """One request for the rest of the file (all of it when nothing has arrived yet)."""
        headers = progress.resume_headers()
        with self._session.get(link, headers=headers, stream=True, timeout=self._timeout, auth=_NoAuth()) as response:
            status = response.status_code
            if status in (200, 206):
                return _receive(response, progress, self._policy.patience)
            if status == 403 and "AuthenticationFailed" in error_message(response, patience=self._policy.patience):
                raise LinkExpiredError(
                    "A report link was refused as expired even after asking GitHub for fresh links: re-run the job."
                )
            if status == 429 or status >= 500:
                return Retry(f"HTTP {status}", retry_after_seconds(response))
            raise DownloadError(
                f"The report file host refused a download (HTTP {status}). If the runner sits behind a "
                "firewall, allow copilot-reports.github.com (or your GHE.com copilot-reports host); then "
                "re-run the job."
            )


def _create(target: Path) -> BinaryIO:
    """A new file at `target`; an existing file or link there is an error, never followed."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    return os.fdopen(descriptor, "wb")


class _Progress:
    """The file so far, and what the first answer said about it: the validator that a resumed
    request must match (If-Range), and the total size that every later answer must agree on."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.validator = ""
        self.total: int | None = None

    def resume_headers(self) -> dict[str, str]:
        # Without a validator a resumed request could splice two versions of the file: start over.
        if not self.out.tell() or not self.validator:
            self.restart()
            return {}
        return {"Range": f"bytes={self.out.tell()}-", "If-Range": self.validator}

    def restart(self) -> None:
        self.out.seek(0)
        self.out.truncate()
        self.validator = ""
        self.total = None


def _receive(response: requests.Response, progress: _Progress, patience: float) -> bool | Retry:
    """Append the body to the file (or start over when the server sent the whole file again)."""
    out = progress.out
    if not _continues(response, progress):
        progress.restart()
        if response.status_code == 206:
            # A part of another version of the file (or of another range): ask for all of it.
            return Retry("the file changed while it was being downloaded", retry_after=0.0)
    if not out.tell():
        # An encoded body (sent despite our Accept-Encoding: identity) is stored decoded: its
        # Content-Length counts other bytes (urllib3 checks those), and its offsets cannot resume.
        encoded = _encoded(response)
        progress.validator = "" if encoded else _validator(response)
        progress.total = None if encoded else _expected_end(response, 0)
    expected = progress.total
    if expected is not None and expected > MAX_FILE_BYTES:
        raise DownloadError(_too_large())
    with Pace(response, MIN_RATE, patience) as pace:
        try:
            _copy_body(response, out, pace)
        except TRANSIENT_ERRORS:
            if not pace.too_slow:
                raise
    if pace.too_slow:
        return Retry(f"the file arrived slower than {MIN_RATE // 1024} KiB/s")
    if expected is None or out.tell() == expected:
        return True
    return Retry(f"the body ended after {out.tell():,} of {expected:,} bytes")


def _encoded(response: requests.Response) -> bool:
    return response.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")


def _validator(response: requests.Response) -> str:
    """What If-Range may send back: a strong ETag, else Last-Modified ("" when neither)."""
    etag = response.headers.get("ETag", "").strip()
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("Last-Modified", "").strip()


def _too_large() -> str:
    return (
        f"A report file is larger than {MAX_FILE_BYTES // 1024**3} GiB, far beyond any report GitHub sends: "
        "refusing to fill the runner's disk. Re-run the job; if it repeats, report it."
    )


def _copy_body(response: requests.Response, out: BinaryIO, pace: Pace) -> None:
    """Write the body to `out`, within MAX_FILE_BYTES and at a pace no slower than MIN_RATE.

    An unencoded body (what the report hosts send, as we ask for identity) is read from the
    connection straight into one reused buffer, sparing a fresh 1 MiB bytes object and its page
    faults per chunk, as iter_content makes them (bench/RESULTS.md has the measurements).
    urllib3 exposes no public way to read into a buffer without a copy, hence its `_fp`.
    A body encoded against our wish is decoded chunk by chunk, under the same size bound."""
    readinto = getattr(getattr(response.raw, "_fp", None), "readinto", None)
    if _encoded(response) or readinto is None:
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)
            _check(out, pace)
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
        _check(out, pace)


def _check(out: BinaryIO, pace: Pace) -> None:
    if out.tell() > MAX_FILE_BYTES:
        raise DownloadError(_too_large())
    pace.update(out.tell())


def _continues(response: requests.Response, progress: _Progress) -> bool:
    """Whether this answer continues the file where it stands (False: it starts the file over).

    A 206 must start at our offset and agree on the total size; anything else (a 200, another
    total: the file changed since the first answer) starts over."""
    offset = progress.out.tell()
    if offset == 0:
        return True
    if response.status_code != 206:
        return False
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", response.headers.get("Content-Range", "").strip())
    return match is not None and int(match.group(1)) == offset and int(match.group(3)) == progress.total


def _expected_end(response: requests.Response, offset: int) -> int | None:
    """The file size this answer promises, or None when it does not say."""
    length = response.headers.get("Content-Length", "")
    if not length.isdigit() or len(length) > 18:
        return None
    return (offset if response.status_code == 206 else 0) + int(length)
