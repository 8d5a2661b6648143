"""Signed report links to files on disk: concurrent, streamed, resumed, verified, atomic; large
files in parallel Range segments written into place.

Report files are fetched without any credentials: the links are pre-signed, and their host
(e.g. copilot-reports.github.com) must never see the GitHub token. Files are written into a
staging folder and moved into place only when every one of them arrived intact, so a failed run
leaves nothing half-written behind.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
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
# A file this large is fetched as SEGMENTS byte ranges at once: one stream, in Python, on a shared
# machine, runs at half of curl's pace on a 1 GiB file (bench/RESULTS.md); a few streams set the
# pace together, and a stalled one no longer holds up the rest.
SEGMENTED_FROM = 64 * 1024 * 1024
SEGMENTS = 4

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
    segmented_from: int = SEGMENTED_FROM,
) -> list[DownloadedFile]:
    """Download every link of every part into `folder`; 1-day reports go in one folder per day.
    `warn` gets what the user should act on (default: `log`). At most `workers` connections are
    open at a time, shared by whole files and the segments of files of `segmented_from` bytes or more."""
    jobs = _jobs(links.parts)
    refuse_links(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_leftover_staging(folder, log)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    fetcher = _Fetcher(list(links.parts), refresh, policy or RetryPolicy(), workers, segmented_from)
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

    def __init__(
        self, parts: list[ReportPart], refresh: Refresh, policy: RetryPolicy, workers: int, segmented_from: int
    ) -> None:
        self._parts = parts
        self._refresh = refresh
        self._refreshed: set[int] = set()
        self._lock = threading.Lock()
        self._policy = policy
        self._workers = workers
        self._segmented_from = segmented_from
        # Every request holds one of `workers` connections, whether for a whole file or a segment:
        # a report of many large files opens no more connections than one of small files.
        self._connections = threading.BoundedSemaphore(workers)
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
        """Fetch one link into `target`: in segments when the file is large and its host serves
        ranges, else as one stream; either way resumed with Range after a broken or short body."""
        descriptor = _create(target)
        try:
            progress = _Progress(descriptor)
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
                return DownloadedFile(target, os.fstat(descriptor).st_size)
        finally:
            os.close(descriptor)
        raise DownloadError(_not_intact(outcome.problem, self._policy.attempts))

    def _attempt(self, link: str, progress: _Progress) -> bool | Retry:
        """One request for the rest of the file (all of it when nothing has arrived yet). When its
        answer shows a large file on a host that serves ranges, the file is fetched in segments
        instead, and this answer is closed unread: segment 0 is one more request, but every
        segment then takes the same path (resume, checks, the connection bound)."""
        with self._connections, self._get(link, progress.resume_headers()) as response:
            if response.status_code not in (200, 206):
                return _refused(response, self._policy.patience)
            changed = _take_answer(response, progress)
            if changed is not None:
                return changed
            if not _splittable(response, progress, self._segmented_from):
                return _receive(response, progress, self._policy.patience)
        return self._segments(link, progress)

    def _get(self, link: str, headers: dict[str, str]) -> requests.Response:
        return self._session.get(link, headers=headers, stream=True, timeout=self._timeout, auth=_NoAuth())

    def _segments(self, link: str, progress: _Progress) -> bool | Retry:
        """The whole file as SEGMENTS ranges fetched at once, each written into place and complete
        only when it filled its span, so the file has the first answer's length. A segment
        that finds the file changed, or its host ignoring ranges, stops the others and starts the
        file over (as one stream when ranges were ignored): two versions are never spliced."""
        spans = progress.segments(SEGMENTS)
        with ThreadPoolExecutor(max_workers=len(spans), thread_name_prefix="segment") as pool:
            futures = [pool.submit(self._segment, link, span, progress) for span in spans]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            first = next((failure for future in done if (failure := future.exception()) is not None), None)
            if first is not None:
                progress.stop.set()
        if isinstance(first, _StartOver):
            progress.restart(ranges_refused=first.ranges_refused)
            return Retry(str(first), retry_after=0.0)
        if first is not None:
            raise first
        return True

    def _segment(self, link: str, span: _Span, progress: _Progress) -> None:
        outcome = with_retries(self._policy, lambda _: self._segment_attempt(link, span, progress))
        if isinstance(outcome, Retry):
            raise DownloadError(_not_intact(outcome.problem, self._policy.attempts))

    def _segment_attempt(self, link: str, span: _Span, progress: _Progress) -> bool | Retry:
        """One request for the rest of a segment, valid only for the version the first answer
        described (If-Range): another version comes back whole (200), and starts the file over."""
        headers = {"Range": span.range(), "If-Range": progress.validator}
        with self._connections:
            if progress.stop.is_set():
                raise _Stopped
            with self._get(link, headers) as response:
                if response.status_code not in (200, 206):
                    return _refused(response, self._policy.patience)
                _check_segment(response, span, progress)
                problem = _read_body(response, span, self._policy.patience)
        if problem is not None:
            return problem
        return True if not span.missing() else Retry(f"a segment's body ended {span.missing():,} bytes short")


def _refused(response: requests.Response, patience: float) -> Retry:
    """What an answer other than 200 or 206 means: try again later, or an error."""
    status = response.status_code
    if status == 403 and "AuthenticationFailed" in error_message(response, patience=patience):
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


def _not_intact(problem: str, attempts: int) -> str:
    return (
        f"A report file could not be downloaded intact ({problem}) after {attempts} "
        "attempts: check the runner's network, then re-run the job."
    )


def _create(target: Path) -> int:
    """A new file at `target`, open for writing; an existing file or link there is an error, never followed."""
    return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)


class _Stopped(Exception):
    """A segment gave up because another segment of its file ended the attempt."""


class _StartOver(Exception):
    """A segment's answer shows that the file must be fetched again from its start."""

    def __init__(self, problem: str, ranges_refused: bool = False) -> None:
        super().__init__(problem)
        self.ranges_refused = ranges_refused


class _Span:
    """Where a body goes: the bytes from `position` up to `end` (None: the end of the file) of
    the open file `descriptor`, written in place, so that segments can fill one file at once."""

    def __init__(self, descriptor: int, start: int, end: int | None, stop: threading.Event | None = None) -> None:
        self.descriptor = descriptor
        self.position = start
        self.end = end
        self._stop = stop

    def range(self) -> str:
        """The Range header value that asks for what is still missing."""
        return f"bytes={self.position}-{'' if self.end is None else self.end - 1}"

    def missing(self) -> int:
        return 0 if self.end is None else self.end - self.position

    def room(self, wanted: int) -> int:
        return wanted if self.end is None else min(wanted, self.end - self.position)

    def write(self, data: memoryview | bytes) -> None:
        if self._stop is not None and self._stop.is_set():
            raise _Stopped
        view = memoryview(data)[: self.room(len(data))]
        while view:
            written = os.pwrite(self.descriptor, view, self.position)
            view = view[written:]
            self.position += written
        if self.position > MAX_FILE_BYTES:
            raise DownloadError(_too_large())


class _Progress:
    """The file so far, and what the first answer said about it: the validator that a resumed
    request must match (If-Range), and the total size that every later answer must agree on."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.whole = _Span(descriptor, 0, None)
        self.validator = ""
        self.total: int | None = None
        self.ranges_refused = False
        self.stop = threading.Event()

    def resume_headers(self) -> dict[str, str]:
        # Without a validator a resumed request could splice two versions of the file: start over.
        if not self.whole.position or not self.validator:
            self.restart()
            return {}
        return {"Range": self.whole.range(), "If-Range": self.validator}

    def restart(self, ranges_refused: bool = False) -> None:
        # Only a file that holds bytes is cut: ext4 takes truncating a file to nothing as a sign
        # that it is being replaced, and then writes it all out when it is closed (0.4 s at 1 GiB).
        if os.fstat(self.descriptor).st_size:
            os.ftruncate(self.descriptor, 0)
        self.whole = _Span(self.descriptor, 0, None)
        self.validator = ""
        self.total = None
        self.ranges_refused = self.ranges_refused or ranges_refused
        self.stop = threading.Event()

    def segments(self, count: int) -> list[_Span]:
        """`count` spans that cover the file, all stopped together by `stop`."""
        total = self.total or 0
        bounds = [total * number // count for number in range(count + 1)]
        return [_Span(self.descriptor, start, end, self.stop) for start, end in itertools.pairwise(bounds)]


def _take_answer(response: requests.Response, progress: _Progress) -> Retry | None:
    """Note what the first answer says about the file (a later one must continue it, or it starts
    the file over); a Retry when a partial answer belongs to another version of the file."""
    if not _continues(response, progress):
        progress.restart()
        if response.status_code == 206:
            # A part of another version of the file (or of another range): ask for all of it.
            return Retry("the file changed while it was being downloaded", retry_after=0.0)
    if not progress.whole.position:
        # An encoded body (sent despite our Accept-Encoding: identity) is stored decoded: its
        # Content-Length counts other bytes (urllib3 checks those), and its offsets cannot resume.
        encoded = _encoded(response)
        progress.validator = "" if encoded else _validator(response)
        progress.total = None if encoded else _expected_end(response, 0)
    if progress.total is not None and progress.total > MAX_FILE_BYTES:
        raise DownloadError(_too_large())
    return None


def _splittable(response: requests.Response, progress: _Progress, segmented_from: int) -> bool:
    """Whether the file is large enough for segments, and its host says it serves byte ranges
    of it against a validator that makes every segment part of one version."""
    return (
        not progress.ranges_refused
        and not progress.whole.position
        and response.status_code == 200
        and bool(progress.validator)
        and (progress.total or 0) >= segmented_from
        and response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
    )


def _check_segment(response: requests.Response, span: _Span, progress: _Progress) -> None:
    """Raise _StartOver unless the answer is the asked-for part of the version being fetched."""
    if _encoded(response):
        # Offsets count the stored bytes, not these: only one stream, decoded, makes the file.
        raise _StartOver("the file host encoded a range it was asked for", ranges_refused=True)
    if response.status_code == 200:
        same = _validator(response) == progress.validator and _expected_end(response, 0) == progress.total
        if same:
            raise _StartOver("the file host ignored a range request", ranges_refused=True)
        raise _StartOver("the file changed while it was being downloaded")
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", response.headers.get("Content-Range", "").strip())
    validator = _validator(response)
    if (
        match is None
        or int(match.group(1)) != span.position
        or int(match.group(2)) + 1 < (span.end or 0)
        or int(match.group(3)) != progress.total
        or validator not in ("", progress.validator)
    ):
        raise _StartOver("the file changed while it was being downloaded")


def _receive(response: requests.Response, progress: _Progress, patience: float) -> bool | Retry:
    """Write the body to the file where it stands; True once the file is complete."""
    problem = _read_body(response, progress.whole, patience)
    if problem is not None:
        return problem
    expected, got = progress.total, progress.whole.position
    if expected is None or got == expected:
        return True
    return Retry(f"the body ended after {got:,} of {expected:,} bytes")


def _read_body(response: requests.Response, span: _Span, patience: float) -> Retry | None:
    """Write the body into `span`; a Retry when it arrived too slowly (then it was cut)."""
    with Pace(response, MIN_RATE, patience) as pace:
        try:
            _copy_body(response, span, pace)
        except TRANSIENT_ERRORS:
            if not pace.too_slow:
                raise
    if pace.too_slow:
        return Retry(f"the file arrived slower than {MIN_RATE // 1024} KiB/s")
    return None


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


def _copy_body(response: requests.Response, span: _Span, pace: Pace) -> None:
    """Write the body into `span` until it ends or the span is full, within MAX_FILE_BYTES and
    at a pace no slower than MIN_RATE.

    An unencoded body (what the report hosts send, as we ask for identity) is read from the
    connection straight into one reused buffer, sparing a fresh bytes object and its page
    faults per chunk, as iter_content makes them (bench/RESULTS.md has the measurements).
    urllib3 exposes no public way to read into a buffer without a copy, hence its `_fp`.
    A body encoded against our wish is decoded chunk by chunk, under the same size bound."""
    start = span.position
    readinto = getattr(getattr(response.raw, "_fp", None), "readinto", None)
    if _encoded(response) or readinto is None:
        for chunk in response.iter_content(CHUNK):
            span.write(chunk)
            pace.update(span.position - start)
        return
    buffer = memoryview(bytearray(CHUNK))
    while span.room(CHUNK):
        try:
            received = readinto(buffer[: span.room(CHUNK)])
        except (http.client.HTTPException, OSError) as failure:
            raise requests.ConnectionError(f"the body broke off ({type(failure).__name__})") from failure
        if not received:
            return
        span.write(buffer[:received])
        pace.update(span.position - start)


def _continues(response: requests.Response, progress: _Progress) -> bool:
    """Whether this answer continues the file where it stands (False: it starts the file over).

    A 206 must start at our offset and agree on the total size; anything else (a 200, another
    total: the file changed since the first answer) starts over."""
    offset = progress.whole.position
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
