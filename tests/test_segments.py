"""Large report files arrive as parallel Range segments written into place: byte-exact, resumed
segment by segment, never spliced from two versions, and fetched as one stream from a host that
does not serve ranges. Driven against the emulator's download host and small loopback servers."""

from __future__ import annotations

import gzip
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from action_run import expected_entries, run_action
from copilot_metrics.download import SEGMENTED_FROM, SEGMENTS, DownloadedFile, download_report
from copilot_metrics.errors import DownloadError, LinkExpiredError
from copilot_metrics.reports import ReportLinks, ReportPart, ReportsApi
from copilot_metrics.settings import parse_settings
from copilot_metrics.transport import RetryPolicy
from emulator import Emulator, Fault, make_users_shard
from loopback import Serve, answer, scripted
from reliability import Record, checked_in_process, survived

NOW = {"Retry-After": "0"}
QUICK = RetryPolicy(attempts=3, first_delay=0.01, patience=2.0)
SHARD = "part-1.ndjson"
# In-process tests segment files from this size on, so that a few MiB exercise every path.
SMALL = 1024 * 1024
SIZE = 4 * 1024 * 1024


def starts(size: int) -> list[int]:
    """Where each segment of a file of `size` bytes begins."""
    return [size * number // SEGMENTS for number in range(SEGMENTS)]


def download_requests(emu: Emulator) -> list[tuple[str | None, str | None, int]]:
    return [
        (r.headers.get("Range"), r.headers.get("If-Range"), r.status)
        for r in emu.requests
        if r.host == "download" and SHARD in r.path
    ]


def api_calls(emu: Emulator) -> int:
    return len([r for r in emu.requests if r.host == "api"])


def large_report(emu: Emulator, folder: Path, size: int) -> bytes:
    """A 28-day report whose first shard is a users file of about `size` bytes; its bytes."""
    big = folder / "users.ndjson"
    make_users_shard(big, size)
    emu.set_shards("org", "octo", "organization-28-day", None, [big, b'{"day": "2026-01-01"}\n'])
    return big.read_bytes()


def download_from(emu: Emulator, workspace: Path, policy: RetryPolicy = QUICK) -> list[DownloadedFile]:
    """The report downloaded in-process, through the reports API and its link refresh."""
    settings = parse_settings(
        {"org": "octo", "token": emu.token, "api-url": emu.api_url, "upload": "false"},
        {"GITHUB_WORKSPACE": str(workspace)},
    )
    api = ReportsApi(settings, log=lambda _: None, on_secret=lambda _: None)
    return download_report(
        api.report_links(), settings.path, api.fresh_links, lambda _: None, policy, segmented_from=SMALL
    )


def file_named(files: list[DownloadedFile], name: str) -> bytes:
    [found] = [file for file in files if file.path.name.endswith(name)]
    return found.path.read_bytes()


# The emulator's download host (Azure-like: Range, ETag) ------------------------------------------


def test_a_large_file_arrives_in_segments_equal_to_the_served_bytes(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    size = len(large_report(emu, tmp_path, SEGMENTED_FROM + 3 * 1024 * 1024))

    run = run_action(emu, tmp_path / "step", {"summary": "false", "compression-level": "0"})

    survived(
        run,
        emu,
        record_property,
        "a file large enough for segments",
        expected_entries(emu, "org", "octo", "organization-28-day"),
    )
    probe, *segments = download_requests(emu)
    assert probe == (None, None, 200)
    bounds = [*starts(size), size]
    assert sorted(segments) == [
        (f"bytes={start}-{end - 1}", segments[0][1], 206) for start, end in itertools.pairwise(bounds)
    ]
    assert segments[0][1] and segments[0][1].startswith('"')  # If-Range: the first answer's ETag


def test_a_file_below_the_threshold_is_one_stream(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "a file below the segment size", "handled")
    data = large_report(emu, tmp_path, SMALL - 1000)

    files = download_from(emu, tmp_path)

    assert file_named(files, SHARD) == data
    assert download_requests(emu) == [(None, None, 200)]


def test_a_segment_cut_mid_body_resumes_where_it_stopped(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-survived", "a segment cut mid-body", "handled")
    data = large_report(emu, tmp_path, SIZE)
    third = starts(len(data))[2]
    emu.inject(Fault(host="download", path_contains=SHARD, range_from=third, truncate_at=100_000))

    files = download_from(emu, tmp_path)

    assert file_named(files, SHARD) == data
    resumed = [
        (wanted, status) for wanted, _, status in download_requests(emu) if wanted and wanted.startswith("bytes=")
    ]
    offsets = sorted(int(wanted.removeprefix("bytes=").split("-")[0]) for wanted, _ in resumed)
    assert len(offsets) == SEGMENTS + 1
    assert third < offsets[3] <= third + 100_000, offsets  # the cut segment resumed, not restarted
    assert len(download_requests(emu)) == SEGMENTS + 2  # the probe, the segments, one resume


@pytest.mark.parametrize("status", [503, 429])
def test_a_segment_refused_for_now_is_retried(
    emu: Emulator, tmp_path: Path, record_property: Record, status: int
) -> None:
    checked_in_process(record_property, "fault-survived", f"a segment answered {status}", "handled")
    data = large_report(emu, tmp_path, SIZE)
    second = starts(len(data))[1]
    emu.inject(Fault(host="download", path_contains=SHARD, range_from=second, status=status, times=2, headers=NOW))

    files = download_from(emu, tmp_path)

    assert file_named(files, SHARD) == data
    assert [
        status for wanted, _, status in download_requests(emu) if wanted and wanted.startswith(f"bytes={second}-")
    ] == [
        status,
        status,
        206,
    ]


def test_a_segment_that_keeps_failing_fails_the_download_cleanly(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-failed", "a segment that keeps answering 503", "error")
    data = large_report(emu, tmp_path, SIZE)
    emu.inject(Fault(host="download", range_from=starts(len(data))[3], status=503, times=3, headers=NOW))

    with pytest.raises(DownloadError, match=r"could not be downloaded intact \(HTTP 503\) after 3 attempts"):
        download_from(emu, tmp_path)

    assert list((tmp_path / "copilot-metrics").rglob("*")) == []


def test_an_expired_link_on_one_segment_refreshes_the_links_once(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-survived", "a segment's link expired", "handled")
    data = large_report(emu, tmp_path, SIZE)
    emu.inject(Fault(host="download", range_from=starts(len(data))[1], expire_links=True))

    files = download_from(emu, tmp_path)

    assert file_named(files, SHARD) == data
    assert api_calls(emu) == 2  # the report's links, then fresh ones once
    assert (None, None, 403) not in download_requests(emu)  # the 403 answered a segment, not the probe
    assert any(status == 403 for _, _, status in download_requests(emu))


def test_a_segment_link_that_stays_expired_fails_cleanly(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-failed", "a segment's link expired twice", "error")
    data = large_report(emu, tmp_path, SIZE)
    emu.inject(Fault(host="download", range_from=starts(len(data))[2], expire_links=True, times=2))

    with pytest.raises(LinkExpiredError, match="even after asking GitHub for fresh links"):
        download_from(emu, tmp_path)

    assert api_calls(emu) == 2
    assert list((tmp_path / "copilot-metrics").rglob("*")) == []


# Hosts that change the file or ignore ranges ------------------------------------------------------


@contextmanager
def host(serve: Serve) -> Iterator[str]:
    """A scripted loopback server (loopback.scripted); yields a link to a report file on it."""
    with scripted(serve) as origin:
        yield f"{origin}/report.ndjson"


def send_file(request: BaseHTTPRequestHandler, data: bytes, etag: str, ranges: bool = True) -> None:
    """Answer as a static file host would: the asked-for range (206) when `ranges`, else all (200)."""
    wanted = request.headers.get("Range")
    start, stop = 0, len(data)
    partial = ranges and wanted is not None
    if partial and wanted is not None:
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        start, stop = int(first), int(last) + 1 if last else len(data)
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Length": str(stop - start)}
    if partial:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    answer(request, 206 if partial else 200, headers, data[start:stop])


def version(seed: int, size: int = SIZE) -> bytes:
    """A file whose every 4 KiB block differs from its neighbours and from other versions', so a
    splice or a misplaced segment cannot go unnoticed."""
    return b"".join(f"{seed:04d}:{block:012d}\n".encode().ljust(4096, b"x") for block in range(size // 4096))


def fetch(link: str, folder: Path, policy: RetryPolicy = QUICK) -> bytes:
    links = ReportLinks(None, None, (ReportPart(None, (link,)),), ())
    [file] = download_report(links, folder, lambda part: part, lambda _: None, policy, segmented_from=SMALL)
    return file.path.read_bytes()


@pytest.mark.parametrize("honours_if_range", [True, False])
def test_a_file_replaced_between_segments_starts_over_never_spliced(
    tmp_path: Path, record_property: Record, honours_if_range: bool
) -> None:
    checked_in_process(record_property, "fault-survived", "file replaced between segments", "handled")
    # The new version is shorter: a start-over that kept the old version's tail would show.
    old, new, seen = version(1), version(2, SIZE - 3 * 4096), []

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        seen.append((request.headers.get("Range"), request.headers.get("If-Range")))
        if number == 1:  # the first answer describes the old version; then the host holds the new one
            send_file(request, old, '"v1"')
            return
        # A host that honours If-Range sends all of the new version when the validator is stale;
        # one that does not sends the range asked for, of whatever it holds now, with its ETag.
        stale = request.headers.get("If-Range") not in (None, '"v2"')
        send_file(request, new, '"v2"', ranges=not (honours_if_range and stale))

    with host(serve) as link:
        assert fetch(link, tmp_path) == new
    restart = seen.index((None, None), 1)  # the download started over with a plain request
    assert {validator for _, validator in seen[restart + 1 :]} == {'"v2"'}


def test_a_file_replaced_after_part_of_it_arrived_keeps_nothing_of_the_old_version(
    tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-survived", "file replaced after part of it arrived", "handled")
    # The new version is shorter than where the old one's last segment had got to.
    old, new, replaced = version(5), version(6, SIZE // 2), threading.Event()
    last = starts(SIZE)[-1]

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        if replaced.is_set():
            send_file(request, new, '"v2"', ranges=request.headers.get("If-Range") in (None, '"v2"'))
        elif request.headers.get("Range") == f"bytes={last}-{SIZE - 1}":
            # The last segment gets half its body before the host replaces the file.
            length = SIZE - last
            headers = {
                "ETag": '"v1"',
                "Content-Length": str(length),
                "Content-Range": f"bytes {last}-{SIZE - 1}/{SIZE}",
            }
            answer(request, 206, headers, old[last : last + length // 2])
            replaced.set()
        else:
            send_file(request, old, '"v1"')

    with host(serve) as link:
        assert fetch(link, tmp_path) == new


def test_a_host_that_ignores_ranges_is_read_as_one_stream(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "a host that ignores Range", "handled")
    data, seen = version(3), []

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        seen.append(request.headers.get("Range"))
        send_file(request, data, '"v1"', ranges=False)  # says Accept-Ranges, yet always sends all

    with host(serve) as link:
        assert fetch(link, tmp_path) == data
    assert seen[0] is None and seen[-1] is None  # the last answer is the one stream
    assert seen.count(None) == 2  # never segmented again


def test_a_host_that_encodes_its_ranges_is_read_as_one_decoded_stream(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "a host that gzips its ranges", "handled")
    data, seen = version(7), []

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        seen.append(request.headers.get("Range"))
        if request.headers.get("Range") is None:
            send_file(request, data, '"v1"')
            return
        packed = gzip.compress(data[:1000])  # a range, compressed against Accept-Encoding: identity
        headers = {"ETag": '"v1"', "Content-Encoding": "gzip", "Content-Length": str(len(packed))}
        answer(request, 206, headers | {"Content-Range": f"bytes 0-999/{len(data)}"}, packed)

    with host(serve) as link:
        assert fetch(link, tmp_path) == data
    assert seen[-1] is None and seen.count(None) == 2  # then the one stream, never segments again


def test_a_host_that_does_not_offer_ranges_is_never_asked_for_one(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "a host without Accept-Ranges", "handled")
    data, seen = version(4), []

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        seen.append(request.headers.get("Range"))
        answer(request, 200, {"ETag": '"v1"', "Content-Length": str(len(data))}, data)

    with host(serve) as link:
        assert fetch(link, tmp_path) == data
    assert seen == [None]


def test_a_segment_body_that_ends_early_without_a_length_is_resumed(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "a segment body closed early, no Content-Length", "handled")
    data, seen = version(8), []
    last = starts(len(data))[-1]

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        wanted = request.headers.get("Range")
        seen.append(wanted)
        if wanted != f"bytes={last}-{len(data) - 1}":
            send_file(request, data, '"v1"')
            return
        # No Content-Length: the body ends where the connection closes.
        headers = {"ETag": '"v1"', "Content-Range": f"bytes {last}-{len(data) - 1}/{len(data)}", "Connection": "close"}
        answer(request, 206, headers, data[last : last + 5000])
        request.close_connection = True

    with host(serve) as link:
        assert fetch(link, tmp_path) == data
    assert seen[-1] == f"bytes={last + 5000}-{len(data) - 1}"  # resumed after what had arrived


def test_a_segment_answer_for_another_range_starts_over(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "a segment answered with another range", "handled")
    data, seen = version(5), []

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        seen.append(request.headers.get("Range"))
        wanted = request.headers.get("Range")
        if number <= SEGMENTS + 1 and wanted is not None and not wanted.startswith("bytes=0-"):
            # Always the file from its start, whatever was asked.
            headers = {"ETag": '"v1"', "Content-Length": str(len(data))}
            answer(request, 206, headers | {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}, data)
            return
        send_file(request, data, '"v1"')

    with host(serve) as link:
        assert fetch(link, tmp_path) == data
    assert seen.count(None) == 2  # started over once, then the segments were answered right


def test_segments_and_files_share_the_connection_bound(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "many large files at once", "handled")
    data, lock, busy, peak = version(6), threading.Lock(), [0], [0]

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        try:
            # Counted until the last byte: the client can end a request only after that.
            threading.Event().wait(0.02)
        finally:
            with lock:
                busy[0] -= 1
        send_file(request, data, '"v1"')

    with host(serve) as link:
        links = tuple(f"{link}?n={n}" for n in range(6))
        report = ReportLinks(None, None, (ReportPart(None, links),), ())
        files = download_report(
            report, tmp_path, lambda part: part, lambda _: None, QUICK, workers=2, segmented_from=SMALL
        )
    assert [file.path.read_bytes() == data for file in files] == [True] * 6
    assert peak[0] <= 2
