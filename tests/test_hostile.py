"""Hostile servers and hostile workspaces: the attacks of the security review, each driven against
the emulator or a small misbehaving server on loopback, end to end where it matters."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from action_run import expected_entries, run_action
from copilot_metrics.artifacts import ArtifactRuntime, UploadOptions, upload_artifact
from copilot_metrics.download import download_report
from copilot_metrics.errors import ApiError, ArtifactError, DownloadError
from copilot_metrics.reports import ReportLinks, ReportPart, ReportsApi
from copilot_metrics.settings import parse_settings
from copilot_metrics.transport import RetryPolicy
from emulator import Emulator, Fault
from loopback import answer, scripted
from reliability import Record, checked_in_process, failed_cleanly, rejected, survived

NOW = {"Retry-After": "0"}
QUICK = RetryPolicy(attempts=3, first_delay=0.01, patience=1.0)


def one_link(url: str) -> ReportLinks:
    return ReportLinks(None, None, (ReportPart(None, (url,)),), ())


def fetch(url: str, folder: Path, policy: RetryPolicy = QUICK) -> bytes:
    [file] = download_report(one_link(url), folder, lambda part: part, lambda _: None, policy)
    return file.path.read_bytes()


def org_28_day(emu: Emulator) -> dict[str, bytes]:
    return expected_entries(emu, "org", "octo", "organization-28-day")


# 9. A resumed download never splices two versions of a file -------------------------------------


@pytest.mark.parametrize("honours_if_range", [True, False])
def test_a_resumed_download_never_splices_two_versions(
    tmp_path: Path, record_property: Record, honours_if_range: bool
) -> None:
    checked_in_process(record_property, "fault-survived", "file replaced between a cut and its resume", "handled")
    old, new = b"a" * 200_000, b"b" * (200_000 if honours_if_range else 150_000)

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        if number == 1:  # the old version, cut off after a quarter
            answer(request, 200, {"Content-Length": str(len(old)), "ETag": '"v1"'}, old[:50_000])
            request.close_connection = True
            return
        wanted = request.headers.get("Range")
        validator = request.headers.get("If-Range")
        # A server that honours If-Range sends the whole new version when the validator is stale;
        # without If-Range any server sends the part asked for, of whatever it holds now.
        if wanted is None or (honours_if_range and validator is not None and validator != '"v2"'):
            answer(request, 200, {"Content-Length": str(len(new)), "ETag": '"v2"'}, new)
            return
        start = int(wanted.removeprefix("bytes=").rstrip("-"))
        headers = {"Content-Range": f"bytes {start}-{len(new) - 1}/{len(new)}", "ETag": '"v2"'}
        answer(request, 206, headers | {"Content-Length": str(len(new) - start)}, new[start:])

    with scripted(serve) as origin:
        assert fetch(f"{origin}/report.ndjson", tmp_path) == new


def test_a_resume_sends_the_first_answers_validator(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "resume carries If-Range", "handled")
    data, seen = b"x" * 100_000, []

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        seen.append((request.headers.get("Range"), request.headers.get("If-Range")))
        if number == 1:
            headers = {"Content-Length": str(len(data)), "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"}
            answer(request, 200, headers, data[:10_000])
            request.close_connection = True
            return
        headers = {"Content-Range": f"bytes 10000-99999/{len(data)}", "Content-Length": "90000"}
        answer(request, 206, headers, data[10_000:])

    with scripted(serve) as origin:
        assert fetch(f"{origin}/report.ndjson", tmp_path) == data
    assert seen == [(None, None), ("bytes=10000-", "Tue, 01 Dec 2026 10:00:00 GMT")]


# 6. Budgets and bounds ----------------------------------------------------------------------------


def test_a_trickling_body_is_given_up(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-failed", "a body trickling a byte at a time", "error")

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        answer(request, 200, {"Content-Length": "1000"})
        for _ in range(40):
            try:
                request.wfile.write(b"x")
                request.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    started = time.monotonic()
    with scripted(serve) as origin, pytest.raises(DownloadError, match="slower than 16 KiB/s"):
        fetch(f"{origin}/report.ndjson", tmp_path, RetryPolicy(attempts=2, first_delay=0.01, patience=1.0))
    assert time.monotonic() - started < 8
    assert list(tmp_path.rglob("*")) == []


def test_a_body_beyond_any_report_is_refused_before_it_is_read(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-failed", "a 70 GiB Content-Length", "error")

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        answer(request, 200, {"Content-Length": str(70 * 1024**3)}, b"x" * 1000)
        request.close_connection = True

    with scripted(serve) as origin, pytest.raises(DownloadError, match="larger than 64 GiB"):
        fetch(f"{origin}/report.ndjson", tmp_path)


def test_a_long_retry_after_fails_at_once_instead_of_waiting(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    emu.inject(Fault(host="api", status=503, headers={"Retry-After": "900"}))

    started = time.monotonic()
    run = run_action(emu, tmp_path / "step", timeout=60)

    failed_cleanly(run, emu, record_property, "api Retry-After: 900", "asked to wait until")
    assert time.monotonic() - started < 30


# A gzip answer despite Accept-Encoding: identity -------------------------------------------------


def test_a_compressed_answer_is_stored_decoded(tmp_path: Path, record_property: Record) -> None:
    checked_in_process(record_property, "fault-survived", "gzip despite Accept-Encoding: identity", "handled")
    data = b'{"day": "2026-01-01"}\n' * 5000
    packed = gzip.compress(data)

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        assert request.headers.get("Accept-Encoding") == "identity"
        answer(request, 200, {"Content-Length": str(len(packed)), "Content-Encoding": "gzip"}, packed)

    with scripted(serve) as origin:
        assert fetch(f"{origin}/report.ndjson", tmp_path) == data


# Redirects -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "message"),
    [("http://[::1/x", "malformed URL"), ("http://example.com/report.ndjson", "not https")],
)
def test_a_download_redirect_to_a_bad_or_insecure_place_is_refused(
    tmp_path: Path, record_property: Record, location: str, message: str
) -> None:
    checked_in_process(record_property, "bad-answer", f"download redirect to {location}", "error")

    def serve(request: BaseHTTPRequestHandler, number: int) -> None:
        answer(request, 302, {"Location": location, "Content-Length": "0"})

    with scripted(serve) as origin, pytest.raises(DownloadError, match=message):
        fetch(f"{origin}/report.ndjson", tmp_path)


def test_an_api_redirect_to_another_host_is_not_followed(emu: Emulator, record_property: Record) -> None:
    checked_in_process(record_property, "bad-answer", "API redirect to another host", "error")
    asked: list[str | None] = []

    def elsewhere(request: BaseHTTPRequestHandler, number: int) -> None:
        asked.append(request.headers.get("Authorization"))
        answer(request, 200, {"Content-Length": "2"}, b"{}")

    with scripted(elsewhere) as other:

        def serve(request: BaseHTTPRequestHandler, number: int) -> None:
            answer(request, 301, {"Location": f"{other}{request.path}", "Content-Length": "0"})

        with scripted(serve) as origin:
            settings = parse_settings(
                {"org": "octo", "token": emu.token, "api-url": origin, "upload": "false"}, {"GITHUB_WORKSPACE": "."}
            )
            api = ReportsApi(settings, log=lambda _: None, on_secret=lambda _: None, policy=QUICK)
            with pytest.raises(ApiError, match="another host"):
                api.report_links()
    assert asked == []


# 7. Answers that used to end in a traceback --------------------------------------------------------


def test_deeply_nested_json_is_a_bad_answer_not_a_crash(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", status=200, body=b"[" * 100_000 + b"]" * 100_000))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "deeply nested JSON once", org_28_day(emu), check="bad-answer")


def test_an_absurd_retry_after_is_a_clear_error(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", status=429, body=b'{"message": "slow down"}', headers={"Retry-After": "1e300"}))

    run = run_action(emu, tmp_path / "step", timeout=60)

    failed_cleanly(run, emu, record_property, "Retry-After: 1e300", "asked to wait", check="bad-answer")


def test_a_redirect_to_a_malformed_url_is_a_clear_error(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="download", status=302, headers={"Location": "http://[::1/x"}))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "download redirect to http://[::1/x", "malformed URL", check="bad-answer")


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon", "1e999"])
def test_bad_timeouts_are_rejected_before_any_request(
    emu: Emulator, tmp_path: Path, record_property: Record, value: str
) -> None:
    run = run_action(emu, tmp_path / "step", env={"COPILOT_METRICS_TIMEOUT": value})

    rejected(run, emu, record_property, "COPILOT_METRICS_TIMEOUT", "from 1 to 3600")


# 5. Error bodies are read through a capped reader and quoted short ---------------------------------


def test_a_huge_api_error_body_is_quoted_short(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    message = "Validation failed: " + "x" * (8 * 1024 * 1024)
    emu.inject(Fault(host="api", status=422, body=json.dumps({"message": message}).encode()))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "an 8 MiB API error body", "HTTP 422")
    assert len(run.errors[0]) < 1000


def test_a_huge_results_service_error_is_quoted_short(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    body = json.dumps({"code": "invalid_argument", "msg": "bad\n::warning::forged " + "y" * 8_000_000}).encode()
    emu.inject(Fault(host="results", path_contains="CreateArtifact", status=400, body=body))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "an 8 MB results error", "HTTP 400", kept=org_28_day(emu))
    assert len(run.errors[0]) < 1000
    assert not [line for line in run.stdout.splitlines() if line.startswith("::warning::")]


# 8. No HTTP client consults ~/.netrc ------------------------------------------------------------


def test_netrc_credentials_never_replace_or_accompany_the_tokens(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("default login netrc-user password netrc-secret\n", encoding="utf-8")
    netrc.chmod(0o600)

    run = run_action(emu, tmp_path / "step", env={"NETRC": str(netrc)})

    survived(run, emu, record_property, "a netrc default entry", org_28_day(emu))
    for request in emu.requests:
        assert "Basic" not in request.headers.get("Authorization", ""), request.host


# 4. Links under `path` ---------------------------------------------------------------------------


def test_a_linked_day_folder_is_refused_before_anything_is_written(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    record_property("check", "fault-failed")
    record_property("what", "day folder linked outside the workspace")
    day = emu.today - dt.timedelta(days=3)
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "step" / "workspace" / "copilot-metrics"
    folder.mkdir(parents=True)
    (folder / day.isoformat()).symlink_to(outside, target_is_directory=True)

    run = run_action(emu, tmp_path / "step", {"report": "users-1-day", "day": day.isoformat(), "csv": "true"})

    assert run.code == 1, run.stdout
    assert len(run.errors) == 1 and "symbolic link" in run.errors[0] and "'path'" in run.errors[0], run.errors
    assert list(outside.iterdir()) == []
    assert not [a for a in emu.artifacts.values() if a.finalized]


def test_a_planted_link_to_a_file_outside_is_never_written_through(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    record_property("check", "fault-failed")
    record_property("what", "predictable file name linked outside the workspace")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    folder = tmp_path / "step" / "workspace" / "copilot-metrics"
    folder.mkdir(parents=True)
    name = next(iter(org_28_day(emu)))
    (folder / f"{Path(name).stem}.csv.partial").symlink_to(victim)

    run = run_action(emu, tmp_path / "step", {"csv": "true"})

    assert run.code == 1 and len(run.errors) == 1 and "symbolic link" in run.errors[0], run.stdout
    assert victim.read_text(encoding="utf-8") == "keep me"


# 10. Two steps writing into one `path` -------------------------------------------------------------


def test_a_second_step_into_the_same_path_is_warned(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    record_property("check", "fault-survived")
    record_property("what", "two steps, one path")
    first = run_action(emu, tmp_path / "step", {"upload": "false"})
    second = run_action(emu, tmp_path / "step", {"upload": "false"})

    assert first.code == second.code == 0
    assert first.warnings == []
    assert any("already in 'path'" in line and "its own 'path'" in line for line in second.warnings), second.stdout


# 3. overwrite: the earlier artifact is deleted as late as possible, and a failure says so ----------


def _upload(emu: Emulator, root: Path) -> object:
    (root / "report.ndjson").parent.mkdir(parents=True, exist_ok=True)
    (root / "report.ndjson").write_bytes(b'{"a": 1}\n')
    return upload_artifact(
        [root / "report.ndjson"],
        root,
        UploadOptions("metrics"),
        ArtifactRuntime.from_env(emu.env()),
        on_secret=lambda _: None,
        policy=RetryPolicy(attempts=2, first_delay=0.01),
    )


def test_an_earlier_artifact_survives_a_create_that_fails(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-failed", "overwrite, then CreateArtifact fails", "error")
    _upload(emu, tmp_path / "a")
    emu.inject(Fault(host="results", path_contains="CreateArtifact", status=500, times=2))

    with pytest.raises(ArtifactError, match="kept failing CreateArtifact"):
        _upload(emu, tmp_path / "b")

    live = [a for a in emu.artifacts.values() if a.finalized and not a.deleted]
    assert len(live) == 1


def test_a_failure_after_the_delete_says_the_earlier_artifact_is_gone(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "fault-failed", "overwrite, then the blob upload fails", "error")
    _upload(emu, tmp_path / "a")
    emu.inject(Fault(host="blob", status=403, body=b"denied", times=50))

    with pytest.raises(ArtifactError, match="earlier artifact named 'metrics' was already deleted"):
        _upload(emu, tmp_path / "b")


# The not-ready answers of the 1-day endpoints ------------------------------------------------------


@pytest.mark.parametrize("status", [204, 404])
@pytest.mark.parametrize("report", ["enterprise-1-day", "users-1-day", "user-teams-1-day"])
def test_day_latest_skips_days_not_ready_however_github_says_so(
    emu: Emulator, tmp_path: Path, record_property: Record, status: int, report: str
) -> None:
    emu.not_ready_status = status
    newest = emu.today - dt.timedelta(days=2)

    run = run_action(emu, tmp_path / "step", {"enterprise": "octo-ent", "org": "", "report": report, "day": "latest"})

    expected = expected_entries(emu, "enterprise", "octo-ent", report, [newest])
    survived(run, emu, record_property, f"{report} not ready as HTTP {status}", expected, check="bad-answer")
    assert run.outputs["report_end_day"] == newest.isoformat()


def test_a_range_ending_in_days_not_ready_as_404_keeps_the_ready_days(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    emu.not_ready_status = 404
    first, last = emu.today - dt.timedelta(days=3), emu.today - dt.timedelta(days=1)

    run = run_action(
        emu,
        tmp_path / "step",
        {"enterprise": "octo-ent", "org": "", "report": "users-1-day", "day": f"{first}..{last}", "upload": "false"},
    )

    assert run.code == 0, run.stdout
    assert run.outputs["report_start_day"] == first.isoformat()
    assert run.outputs["report_end_day"] == (emu.today - dt.timedelta(days=2)).isoformat()
    assert any("no users-1-day report for" in line for line in run.warnings), run.stdout


def test_a_wrong_enterprise_still_fails_clearly_when_404_may_mean_not_ready(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    emu.not_ready_status = 404

    run = run_action(
        emu, tmp_path / "step", {"enterprise": "no-such-ent", "org": "", "report": "users-1-day", "day": "latest"}
    )

    failed_cleanly(run, emu, record_property, "wrong enterprise, 404 for every day", "HTTP 404", "'no-such-ent'")


# A cancelled job's staging folder ------------------------------------------------------------------


def test_a_cancelled_runs_staging_folder_is_removed_by_the_next_run(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    leftover = tmp_path / "step" / "workspace" / "copilot-metrics" / ".copilot-metrics-staging-x1y2z3"
    leftover.mkdir(parents=True)
    (leftover / "0.part").write_bytes(b"half a report")

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "a cancelled run's staging folder", org_28_day(emu))
    assert "left behind by an earlier run that was cancelled" in run.stdout
