"""Bad answers from GitHub's API: each one a clear error or a handled case, never a traceback.

Most run end to end with the answer injected into the emulator. Answers the action retries
until its patience runs out are driven in-process with a short RetryPolicy, against the same
emulator."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from action_run import ActionRun, expected_entries, run_action
from copilot_metrics.download import file_name
from copilot_metrics.errors import ApiError
from copilot_metrics.reports import ReportsApi
from copilot_metrics.settings import parse_settings
from copilot_metrics.transport import RetryPolicy
from emulator import Emulator, Fault
from reliability import Record, check_leaks, checked_in_process, failed_cleanly, kept_files, survived

REPORT_28 = "organization-28-day"
TODAY = dt.datetime.now(dt.UTC).date()


def answer_once(emu: Emulator, body: Any) -> None:
    """The next API call gets `body` (JSON-encoded unless already bytes) with status 200."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    emu.inject(Fault(host="api", status=200, body=raw))


def real_answer(emu: Emulator, path: str = f"{REPORT_28}/latest", day: dt.date | None = None) -> dict[str, Any]:
    """What the emulator's API answers for `path` now: real, signed links to build bad answers from."""
    response = requests.get(
        f"{emu.api_url}/orgs/octo/copilot/metrics/reports/{path}",
        params={"day": day.isoformat()} if day else None,
        headers={"Authorization": f"Bearer {emu.token}"},
        timeout=10,
    )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    emu.requests.clear()
    return answer


def refused(run: ActionRun, emu: Emulator, record: Record, what: str, *phrases: str) -> None:
    failed_cleanly(run, emu, record, what, *phrases, check="bad-answer")


def handled(run: ActionRun, emu: Emulator, record: Record, what: str, expected: dict[str, bytes]) -> None:
    survived(run, emu, record, what, expected, check="bad-answer")


def handled_as_no_report(run: ActionRun, emu: Emulator, record: Record, what: str) -> None:
    """Exit 0 with a warning, empty window and artifact outputs, nothing downloaded or uploaded."""
    record("check", "bad-answer")
    record("what", what)
    record("outcome", "handled")
    assert run.code == 0, run.stdout + run.stderr
    assert run.errors == [] and len(run.warnings) == 1, run.stdout
    assert "no " in run.warnings[0].lower()
    assert run.outputs["report_start_day"] == run.outputs["artifact-id"] == ""
    assert kept_files(run) == {}
    assert not [r for r in emu.requests if r.host in ("download", "results", "blob")]
    check_leaks(run, emu, record)


def in_process_api(emu: Emulator, tmp_path: Path, inputs: dict[str, str] | None = None) -> ReportsApi:
    settings = parse_settings(
        {"org": "octo", "token": emu.token, "api-url": emu.api_url, "upload": "false", **(inputs or {})},
        {"GITHUB_WORKSPACE": str(tmp_path)},
    )
    return ReportsApi(settings, log=lambda _: None, on_secret=lambda _: None, policy=RetryPolicy(first_delay=0.01))


# Answers the action retries -------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"<html>Unicorn!</html>", b'"report not ready"'], ids=["html", "bare-string"])
def test_a_passing_bad_answer_is_retried(emu: Emulator, tmp_path: Path, record_property: Record, body: bytes) -> None:
    answer_once(emu, body)

    run = run_action(emu, tmp_path / "step")

    handled(run, emu, record_property, f"200 {body!r} once", expected_entries(emu, "org", "octo", REPORT_28))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>Unicorn!</html>", "not a JSON object"),
        (b"[]", "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'"report not ready"', "not ready"),
    ],
)
def test_a_bad_answer_that_persists_is_an_error(
    emu: Emulator, tmp_path: Path, record_property: Record, body: bytes, problem: str
) -> None:
    checked_in_process(record_property, "bad-answer", f"200 {body!r} every time", "error")
    emu.inject(Fault(host="api", status=200, body=body, times=5))

    with pytest.raises(ApiError, match="5 attempts") as failure:
        in_process_api(emu, tmp_path).report_links()

    assert problem in str(failure.value)


def test_a_fresh_day_that_keeps_answering_not_ready_has_no_report(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    checked_in_process(record_property, "bad-answer", "1-day report answers a bare string every time", "handled")
    day = TODAY - dt.timedelta(days=2)
    emu.inject(Fault(host="api", status=200, body=b'"not ready"', times=5))

    links = in_process_api(emu, tmp_path, {"report": "users-1-day", "day": day.isoformat()}).report_links()

    assert links.parts == () and links.missing_days == (day,)


# Answers that are wrong in shape --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        ({"download_links": None}, "download_links"),
        ({"download_links": "https://copilot-reports.github.com/a.ndjson"}, "download_links"),
        ({"download_links": [1, 2]}, "download_links"),
        ({"download_links": {"a": "b"}}, "download_links"),
        ({"report_start_day": None}, "report_start_day"),
        ({"report_start_day": 20260101}, "report_start_day"),
        ({"report_end_day": "soon"}, "report_end_day"),
        ({"report_end_day": "2026-02-30"}, "report_end_day"),
    ],
)
def test_missing_or_mistyped_fields_are_clear_errors(
    emu: Emulator, tmp_path: Path, record_property: Record, change: dict[str, Any], phrase: str
) -> None:
    body = {key: value for key, value in {**real_answer(emu), **change}.items() if value is not None}
    answer_once(emu, body)

    run = run_action(emu, tmp_path / "step")

    refused(run, emu, record_property, f"answer with {change}", phrase, "re-run")


def test_another_days_report_is_a_clear_error(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    day = TODAY - dt.timedelta(days=5)
    body = real_answer(emu, "users-1-day", day) | {"report_day": (day - dt.timedelta(days=1)).isoformat()}
    answer_once(emu, body)

    run = run_action(emu, tmp_path / "step", {"report": "users-1-day", "day": day.isoformat()})

    refused(run, emu, record_property, "1-day answer for another day", "another day's report")


def test_unknown_fields_are_ignored(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    answer_once(emu, real_answer(emu) | {"total_shards": 2, "meta": {"new": True}})

    run = run_action(emu, tmp_path / "step")

    handled(run, emu, record_property, "answer with unknown fields", expected_entries(emu, "org", "octo", REPORT_28))


@pytest.mark.parametrize("if_no_report", ["warn", "error"])
def test_empty_download_links_mean_no_report(
    emu: Emulator, tmp_path: Path, record_property: Record, if_no_report: str
) -> None:
    answer_once(emu, real_answer(emu) | {"download_links": []})

    run = run_action(emu, tmp_path / "step", {"if-no-report": if_no_report})

    if if_no_report == "warn":
        handled_as_no_report(run, emu, record_property, "empty download_links")
    else:
        refused(run, emu, record_property, "empty download_links, if-no-report: error", "no", "if-no-report")


def test_empty_download_links_of_a_day(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    day = TODAY - dt.timedelta(days=4)
    answer_once(emu, real_answer(emu, "repos-1-day", day) | {"download_links": []})

    run = run_action(emu, tmp_path / "step", {"report": "repos-1-day", "day": day.isoformat()})

    handled_as_no_report(run, emu, record_property, "empty download_links of a 1-day report")
    assert day.isoformat() in run.warnings[0]


def test_no_content_for_the_28_day_report(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", status=204, body=b""))

    run = run_action(emu, tmp_path / "step")

    handled_as_no_report(run, emu, record_property, "204 for the 28-day report")


SIGNATURE = "sig=NOT-FOR-LOGS-0123456789"


@pytest.mark.parametrize(
    "link",
    [
        f"http://copilot-reports.github.com/r/part-1.ndjson?{SIGNATURE}",
        f"ftp://copilot-reports.github.com/part-1.ndjson?{SIGNATURE}",
        "file:///etc/passwd",
        "javascript:alert(1)",
        f"//copilot-reports.github.com/part-1.ndjson?{SIGNATURE}",
        "part-1.ndjson",
        "https:///no-host.ndjson",
    ],
)
def test_a_link_that_is_not_https_is_refused(emu: Emulator, tmp_path: Path, record_property: Record, link: str) -> None:
    answer_once(emu, real_answer(emu) | {"download_links": [real_answer(emu)["download_links"][0], link]})

    run = run_action(emu, tmp_path / "step")

    refused(run, emu, record_property, f"link {link!r}", "not https")
    assert SIGNATURE not in run.everything_written()
    assert not [r for r in emu.requests if r.host == "download"]


@pytest.mark.parametrize(
    "link",
    [f"https://[copilot-reports.github.com/part-1.ndjson?{SIGNATURE}", f"https://h:99999/part-1.ndjson?{SIGNATURE}"],
)
def test_a_link_that_is_not_a_url_is_refused(emu: Emulator, tmp_path: Path, record_property: Record, link: str) -> None:
    answer_once(emu, real_answer(emu) | {"download_links": [link]})

    run = run_action(emu, tmp_path / "step")

    refused(run, emu, record_property, f"link {link!r}", "not a valid URL")
    assert SIGNATURE not in run.everything_written()


def test_an_answer_that_cannot_be_decoded_is_retried(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", status=200, body=b"\x00not gzip", headers={"Content-Encoding": "gzip"}))

    run = run_action(emu, tmp_path / "step")

    handled(
        run,
        emu,
        record_property,
        "200 with a body that cannot be decoded",
        expected_entries(emu, "org", "octo", REPORT_28),
    )


def test_hundreds_of_shards_are_all_kept(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    shards: list[bytes | Path] = [f'{{"shard": {n}, "day": "2026-01-01"}}\n'.encode() for n in range(300)]
    emu.set_shards("org", "octo", REPORT_28, None, shards)

    run = run_action(emu, tmp_path / "step")

    expected = expected_entries(emu, "org", "octo", REPORT_28)
    assert len(expected) == 300
    handled(run, emu, record_property, "300 shards", expected)
    assert len(json.loads(run.outputs["files"])) == 300


def test_the_same_file_linked_twice_is_kept_twice(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    first = real_answer(emu)["download_links"][0]
    answer_once(emu, real_answer(emu) | {"download_links": [first, first]})

    run = run_action(emu, tmp_path / "step")

    data = dict(expected_entries(emu, "org", "octo", REPORT_28))
    name = next(iter(data))
    duplicate = name.replace(".ndjson", "-2.ndjson")
    handled(run, emu, record_property, "one link listed twice", {name: data[name], duplicate: data[name]})


def test_report_files_that_are_not_ndjson_are_kept_as_they_are(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    emu.set_shards("org", "octo", REPORT_28, None, [b"<html>oops</html>\n", b"\xff\xfe\x00garbage", b""])

    run = run_action(emu, tmp_path / "step")

    handled(
        run, emu, record_property, "report files that are not NDJSON", expected_entries(emu, "org", "octo", REPORT_28)
    )


def test_an_oversized_answer_is_refused(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    padding = "x" * (5 * 1024 * 1024)
    answer_once(emu, real_answer(emu) | {"padding": padding})

    run = run_action(emu, tmp_path / "step")

    refused(run, emu, record_property, "a 5 MiB answer", "larger than 4 MiB")


def test_too_many_links_are_refused(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    links = [f"https://copilot-reports.github.com/part-{n}.ndjson?sig={n}" for n in range(2001)]
    answer_once(emu, real_answer(emu) | {"download_links": links})

    run = run_action(emu, tmp_path / "step")

    refused(run, emu, record_property, "2001 links", "2001 files", "2000")


@pytest.mark.parametrize(
    "link",
    [
        "https://h/a/..%2F..%2Fetc%2Fpasswd?sig=1",
        "https://h/a/%2e%2e?sig=1",
        "https://h/.hidden?sig=1",
        "https://h/?sig=1",
        "https://h/a/C%3A%5Cwin.ndjson",
        "https://h/a/%00.ndjson",
    ],
)
def test_file_names_from_links_stay_in_their_folder(record_property: Record, link: str) -> None:
    checked_in_process(record_property, "bad-answer", f"link path {link!r}", "handled")

    name = file_name(link, 0)

    assert name and "/" not in name and "\\" not in name and "\0" not in name
    assert not name.startswith(".")
