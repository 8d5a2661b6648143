"""What GitHub throws at the action, end to end: faults it must survive and faults it must end on
cleanly, each injected into the emulator while entrypoint.py runs as the runner runs it.

Injected faults carry `Retry-After: 0` where the code honours it, so that the suite stays fast;
the few waits that cannot be avoided (a reset, a stall, a short body) are taken once each."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from action_run import expected_entries, run_action
from copilot_metrics.download import download_report
from copilot_metrics.errors import DownloadError
from copilot_metrics.reports import ReportsApi
from copilot_metrics.settings import parse_settings
from copilot_metrics.transport import RetryPolicy
from emulator import Emulator, Fault, make_users_shard
from reliability import Record, checked_in_process, failed_cleanly, survived

NOW = {"Retry-After": "0"}
FAST_TIMEOUT = {"COPILOT_METRICS_TIMEOUT": "1"}
SHARD = "part-1.ndjson"


def expected(emu: Emulator) -> dict[str, bytes]:
    return expected_entries(emu, "org", "octo", "organization-28-day")


def api_calls(emu: Emulator) -> int:
    return len([r for r in emu.requests if r.host == "api"])


# The reports API -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_api_server_error_is_survived(emu: Emulator, tmp_path: Path, record_property: Record, status: int) -> None:
    emu.inject(Fault(host="api", status=status, times=2, headers=NOW))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, f"api {status}", expected(emu))
    assert api_calls(emu) == 3


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, b'{"message": "API rate limit exceeded"}'),
        (403, b'{"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}'),
    ],
)
def test_rate_limit_with_retry_after_is_survived(
    emu: Emulator, tmp_path: Path, record_property: Record, status: int, body: bytes
) -> None:
    emu.inject(Fault(host="api", status=status, body=body, headers=NOW))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, f"api {status} rate limit with Retry-After", expected(emu))
    assert "rate limit" in run.stdout


@pytest.mark.parametrize("status", [403, 429])
def test_used_up_rate_limit_waits_until_reset(
    emu: Emulator, tmp_path: Path, record_property: Record, status: int
) -> None:
    reset = int(time.time()) + 1
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-limit": "5000"}
    emu.inject(Fault(host="api", status=status, body=b'{"message": "API rate limit exceeded"}', headers=headers))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, f"api {status} x-ratelimit-remaining 0", expected(emu))
    waited = [line for line in run.stdout.splitlines() if "rate limit was reached" in line]
    assert len(waited) == 1 and "until" in waited[0], run.stdout
    second = [r for r in emu.requests if r.host == "api"][1]
    assert second.status == 200


def test_api_connection_reset_is_survived(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", reset=True))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "api connection reset", expected(emu))


def test_api_body_cut_short_is_survived(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", truncate_at=10))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "api body cut short", expected(emu))


def test_api_read_timeout_is_survived(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", stall=2.5))

    started = time.monotonic()
    run = run_action(emu, tmp_path / "step", env=FAST_TIMEOUT)

    survived(run, emu, record_property, "api read timeout", expected(emu))
    assert time.monotonic() - started < 15


def test_rate_limit_reset_far_away_fails_at_once(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)}
    emu.inject(Fault(host="api", status=403, body=b'{"message": "API rate limit exceeded"}', headers=headers))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "api rate limit reset in an hour", "rate limit", "UTC", "token")
    assert api_calls(emu) == 1


@pytest.mark.parametrize(
    ("status", "advice"), [(503, "githubstatus.com"), (500, "githubstatus.com"), (429, "do not share")]
)
def test_api_retries_exhausted_fail_cleanly(
    emu: Emulator, tmp_path: Path, record_property: Record, status: int, advice: str
) -> None:
    emu.inject(Fault(host="api", status=status, times=5, headers=NOW))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, f"api {status} retries exhausted", "5 attempts", advice)
    assert api_calls(emu) == 5


@pytest.mark.parametrize(
    ("scope", "status", "phrases"),
    [
        ("org", 401, ("401", "invalid, expired or revoked")),
        ("org", 403, ("403", "read:org", "Organization Copilot metrics: read", "GITHUB_TOKEN")),
        ("org", 404, ("404", "organization", "Copilot usage metrics", "policy")),
        ("enterprise", 401, ("401", "expired or revoked")),
        ("enterprise", 403, ("403", "read:enterprise", "Enterprise Copilot metrics: read", "GITHUB_TOKEN")),
        ("enterprise", 404, ("404", "enterprise", "policy")),
    ],
)
def test_api_refusals_fail_cleanly_and_say_what_to_do(
    emu: Emulator, tmp_path: Path, record_property: Record, scope: str, status: int, phrases: tuple[str, ...]
) -> None:
    inputs = {scope: "octo" if scope == "org" else "octo-ent"}
    if status == 401:
        inputs["token"] = "ghp_revoked0000000000000000000000000000"
    elif status == 403:
        emu.forbidden_tokens.add(emu.token)
    elif scope == "org":
        emu.add_org("dormant", metrics_enabled=False)
        inputs["org"] = "dormant"
    else:
        emu.add_enterprise("sleepy", metrics_enabled=False)
        inputs["enterprise"] = "sleepy"

    run = run_action(emu, tmp_path / "step", inputs)

    failed_cleanly(run, emu, record_property, f"api {status} ({scope})", *phrases)
    assert api_calls(emu) == 1  # refusals are not retried


def test_unsupported_api_answer_fails_cleanly(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="api", status=410, body=b'{"message": "API version no longer supported"}'))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "api 410", "410", "API version no longer supported")


# The signed download host --------------------------------------------------------------------


def test_connection_dropped_mid_body_is_resumed_with_range(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    big = tmp_path / "users.ndjson"
    make_users_shard(big, 3 * 1024 * 1024)
    emu.set_shards("org", "octo", "organization-28-day", None, [big, b'{"day": "2026-01-01"}\n'])
    emu.inject(Fault(host="download", path_contains=SHARD, truncate_at=1_500_000))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "download dropped mid-body", expected(emu))
    first, second = [r for r in emu.requests if r.host == "download" and SHARD in r.path]
    assert "Range" not in first.headers
    offset = int(second.headers["Range"].removeprefix("bytes=").removesuffix("-"))
    assert 0 < offset <= 1_500_000 and second.status == 206


def test_body_shorter_than_content_length_is_fetched_again(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, truncate_at=100))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "download body shorter than Content-Length", expected(emu))
    assert len([r for r in emu.requests if r.host == "download" and SHARD in r.path]) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_download_server_error_is_survived(emu: Emulator, tmp_path: Path, record_property: Record, status: int) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, status=status, times=2, headers=NOW))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, f"download {status}", expected(emu))


def test_download_connection_reset_is_survived(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, reset=True))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "download connection reset", expected(emu))


def test_download_body_that_cannot_be_decoded_is_fetched_again(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    emu.inject(
        Fault(
            host="download", path_contains=SHARD, status=200, body=b"\x00garbage", headers={"Content-Encoding": "gzip"}
        )
    )

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "download body mangled (bad gzip)", expected(emu))


def test_stalled_download_host_times_out_and_retries(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, stall=3))

    started = time.monotonic()
    run = run_action(emu, tmp_path / "step", env=FAST_TIMEOUT)

    survived(run, emu, record_property, "download host stalls", expected(emu))
    assert time.monotonic() - started < 15


def test_expired_link_is_renewed_once(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, expire_links=True))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "download link expired", expected(emu))
    assert api_calls(emu) == 2


def test_links_that_stay_expired_fail_cleanly(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.link_ttl = -60

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "download links always expired", "expired", "re-run")
    assert api_calls(emu) == 2


def test_download_retries_exhausted_fail_cleanly(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, status=503, times=5, headers=NOW))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, "download 503 retries exhausted", "5 attempts", "network")


@pytest.mark.parametrize("status", [404, 400])
def test_download_refusal_names_the_host_to_allow(
    emu: Emulator, tmp_path: Path, record_property: Record, status: int
) -> None:
    emu.inject(Fault(host="download", path_contains=SHARD, status=status))

    run = run_action(emu, tmp_path / "step")

    failed_cleanly(run, emu, record_property, f"download {status}", str(status), "copilot-reports.github.com")


def test_download_that_keeps_coming_back_short_fails_cleanly(
    emu: Emulator, tmp_path: Path, record_property: Record
) -> None:
    # Five short answers take half a minute of the default backoff: this one runs in-process.
    checked_in_process(record_property, "fault-failed", "download keeps coming back short", "error")
    settings = parse_settings(
        {"org": "octo", "token": emu.token, "api-url": emu.api_url, "upload": "false"},
        {"GITHUB_WORKSPACE": str(tmp_path)},
    )
    api = ReportsApi(settings, log=lambda _: None, on_secret=lambda _: None)
    emu.inject(Fault(host="download", path_contains=SHARD, truncate_at=10, times=5))

    with pytest.raises(DownloadError, match="could not be downloaded intact") as failure:
        download_report(
            api.report_links(), settings.path, api.fresh_links, lambda _: None, RetryPolicy(first_delay=0.01)
        )

    assert "5 attempts" in str(failure.value)
    assert [p for p in settings.path.rglob("*")] == []


# The results service and the blob store ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status"),
    [("ListArtifacts", 503), ("CreateArtifact", 500), ("CreateArtifact", 429), ("FinalizeArtifact", 502)],
)
def test_results_service_errors_are_survived(
    emu: Emulator, tmp_path: Path, record_property: Record, method: str, status: int
) -> None:
    emu.inject(Fault(host="results", path_contains=method, status=status, times=2, headers=NOW))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, f"results {method} {status}", expected(emu))


def test_unparsable_results_answer_is_retried(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    emu.inject(Fault(host="results", path_contains="CreateArtifact", status=200, body=b"<html>upstream</html>"))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, "results CreateArtifact unparsable body", expected(emu))


@pytest.mark.parametrize(("comp", "status"), [("comp=block&", 500), ("comp=blocklist", 503)])
def test_blob_store_errors_are_survived(
    emu: Emulator, tmp_path: Path, record_property: Record, comp: str, status: int
) -> None:
    emu.inject(Fault(host="blob", path_contains=comp, status=status))

    run = run_action(emu, tmp_path / "step")

    survived(run, emu, record_property, f"blob {comp} {status}", expected(emu))


@pytest.mark.parametrize(
    ("fault", "phrases"),
    [
        (Fault(host="results", path_contains="CreateArtifact", status=200, body=b'{"ok": false}'), ("ok: false",)),
        (
            Fault(host="results", path_contains="FinalizeArtifact", status=200, body=b'{"ok": false}'),
            ("FinalizeArtifact", "ok: false"),
        ),
        (
            Fault(
                host="results",
                path_contains="CreateArtifact",
                status=403,
                body=b'{"code": "permission_denied", "msg": "insufficient usage to create artifact"}',
            ),
            ("storage quota", "retention"),
        ),
        (
            Fault(
                host="results",
                path_contains="CreateArtifact",
                status=429,
                body=b'{"code": "resource_exhausted", "msg": "Insufficient usage: storage quota reached"}',
            ),
            ("storage quota",),
        ),
        (Fault(host="results", status=503, times=5, headers=NOW), ("kept failing", "5 attempts")),
        (Fault(host="results", status=401), ("runner's token", "401")),
        (Fault(host="results", path_contains="CreateArtifact", status=400), ("CreateArtifact", "400")),
        (Fault(host="blob", path_contains="comp=block&", status=403), ("blob storage",)),
    ],
    ids=["create-ok-false", "finalize-ok-false", "quota-403", "quota-429", "exhausted", "401", "400", "blob-403"],
)
def test_upload_failures_fail_cleanly(
    emu: Emulator, tmp_path: Path, record_property: Record, fault: Fault, phrases: tuple[str, ...]
) -> None:
    description = f"{fault.host} {fault.path_contains or 'any'} {fault.status} {fault.body!r}"
    emu.inject(dataclasses.replace(fault))

    run = run_action(emu, tmp_path / "step")

    # The files were complete before the upload began; they stay for later steps.
    failed_cleanly(run, emu, record_property, description, *phrases, kept=expected(emu))
