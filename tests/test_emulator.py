"""The emulator behaves like GitHub and Azure, driven over real loopback sockets."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, ContentSettings

from emulator import Emulator, Fault, make_users_shard

VERSION = "2026-03-10"
ORG_28 = "/orgs/octo/copilot/metrics/reports/organization-28-day/latest"
TWIRP = "twirp/github.actions.results.api.v1.ArtifactService/"


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path) as emulator:
        yield emulator


def api(emu: Emulator, path: str, token: str | None = None, **headers: str) -> requests.Response:
    sent = {"Authorization": f"Bearer {token or emu.token}", "X-GitHub-Api-Version": VERSION} | headers
    return requests.get(emu.api_url + path, headers=sent, timeout=10)


def one_day_path(scope: str, owner: str, report: str, day: date) -> str:
    prefix = "orgs" if scope == "org" else "enterprises"
    return f"/{prefix}/{owner}/copilot/metrics/reports/{report}?day={day.isoformat()}"


def twirp(emu: Emulator, method: str, body: dict[str, Any], token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or emu.runtime_token}", "Content-Type": "application/json"}
    return requests.post(emu.results_url + TWIRP + method, json=body, headers=headers, timeout=10)


def backend_ids(emu: Emulator) -> dict[str, str]:
    payload = emu.runtime_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    scope = next(s for s in claims["scp"].split() if s.startswith("Actions.Results:"))
    _, run, job = scope.split(":")
    return {"workflow_run_backend_id": run, "workflow_job_run_backend_id": job}


def tamper(url: str) -> str:
    head, _, sig = url.partition("sig=")
    return head + "sig=" + ("A" if not sig.startswith("A") else "B") + sig[1:]


# --- REST API -------------------------------------------------------------------------------


def test_28_day_report_links_serve_the_expected_files(emu: Emulator) -> None:
    answer = api(emu, ORG_28.replace("octo", "OcTo"))
    assert answer.status_code == 200
    body = answer.json()
    start, end = emu.window("org", "octo")
    assert (body["report_start_day"], body["report_end_day"]) == (start.isoformat(), end.isoformat())
    assert end == emu.today - timedelta(days=2)
    assert (end - start).days == 27
    expected = emu.expected_files("org", "octo", "organization-28-day")
    assert len(expected) == len(body["download_links"]) == 2
    for link, (name, content) in zip(body["download_links"], expected, strict=True):
        assert urlsplit(link).path.endswith("/" + name)
        assert name == f"organization-28-day_{start}_{end}_part-{expected.index((name, content)) + 1}.ndjson"
        got = requests.get(link, timeout=10)
        assert got.status_code == 200
        assert got.content == content
        assert got.headers["Content-Length"] == str(len(content))
    assert int(answer.headers["x-ratelimit-remaining"]) < 5000
    assert int(answer.headers["x-ratelimit-reset"]) > 0


def test_28_day_lines_carry_window_owner_and_day_totals(emu: Emulator) -> None:
    (_, first), (_, second) = emu.expected_files("org", "octo", "organization-28-day")
    lines = [json.loads(line) for line in (first + second).splitlines()]
    days = [d for line in lines for d in line["day_totals"]]
    assert len(days) == 28
    assert all("organization_id" in line for line in lines)
    for key in ("daily_active_users", "totals_by_ide", "totals_by_language_model", "totals_by_cli", "pull_requests"):
        assert key in days[0]


@pytest.mark.parametrize(
    ("scope", "owner", "report"),
    [
        ("org", "octo", "organization-1-day"),
        ("org", "octo", "users-1-day"),
        ("org", "octo", "user-teams-1-day"),
        ("org", "octo", "repos-1-day"),
        ("enterprise", "octo-ent", "enterprise-1-day"),
        ("enterprise", "octo-ent", "users-1-day"),
    ],
)
def test_1_day_reports_serve_their_shards(emu: Emulator, scope: str, owner: str, report: str) -> None:
    day = emu.today - timedelta(days=5)
    answer = api(emu, one_day_path(scope, owner, report, day))
    assert answer.status_code == 200
    assert answer.json()["report_day"] == day.isoformat()
    expected = emu.expected_files(scope, owner, report, day)
    assert 1 <= len(expected) <= 2
    got = [requests.get(link, timeout=10).content for link in answer.json()["download_links"]]
    assert got == [content for _, content in expected]
    assert all(json.loads(line)["day"] == day.isoformat() for content in got for line in content.splitlines())


def test_users_lines_have_logins(emu: Emulator) -> None:
    files = emu.expected_files("org", "octo", "users-28-day")
    line = json.loads(files[0][1].splitlines()[0])
    assert line["user_login"].startswith("user-")
    assert "organization_id" in line
    assert "used_chat" in line


def test_enterprise_scope_and_its_own_report_names(emu: Emulator) -> None:
    path = "/enterprises/octo-ent/copilot/metrics/reports/enterprise-28-day/latest"
    assert api(emu, path).status_code == 200
    assert api(emu, path.replace("enterprise-28-day", "organization-28-day")).status_code == 404


def test_missing_recent_and_switched_off_days_answer_204(emu: Emulator) -> None:
    report = "organization-1-day"
    for day in (emu.today, emu.today - timedelta(days=1), emu.today - timedelta(days=90)):
        answer = api(emu, one_day_path("org", "octo", report, day))
        assert answer.status_code == 204
        assert answer.content == b""
    gone = emu.today - timedelta(days=4)
    emu.no_report_days.add(gone)
    assert api(emu, one_day_path("org", "octo", "users-1-day", gone)).status_code == 204
    emptied = emu.today - timedelta(days=6)
    emu.set_shards("org", "octo", report, emptied, [])
    assert api(emu, one_day_path("org", "octo", report, emptied)).status_code == 204


def test_1_day_report_needs_a_valid_day(emu: Emulator) -> None:
    base = "/orgs/octo/copilot/metrics/reports/organization-1-day"
    for query in ("", "?day=yesterday", "?day=2026-02-30"):
        answer = api(emu, base + query)
        assert answer.status_code == 422
        assert "message" in answer.json()


def test_authentication_and_permission(emu: Emulator) -> None:
    missing = requests.get(emu.api_url + ORG_28, timeout=10)
    assert missing.status_code == 401
    wrong = api(emu, ORG_28, token="ghp_nope")
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Bad credentials"
    classic = requests.get(emu.api_url + ORG_28, headers={"Authorization": f"token {emu.token}"}, timeout=10)
    assert classic.status_code == 200
    emu.forbidden_tokens.add("ghp_member")
    denied = api(emu, ORG_28, token="ghp_member")
    assert denied.status_code == 403
    assert "not accessible" in denied.json()["message"]


def test_unknown_owner_disabled_metrics_and_unknown_paths_are_404(emu: Emulator) -> None:
    emu.add_org("acme", metrics_enabled=False)
    emu.add_org("beta")
    assert api(emu, ORG_28.replace("octo", "beta")).status_code == 200
    for path in (
        ORG_28.replace("octo", "nobody"),
        ORG_28.replace("octo", "acme"),
        "/orgs/octo/copilot/metrics/reports/bogus-28-day/latest",
        "/orgs/octo/copilot/metrics/reports/organization-28-day",
        "/orgs/octo/copilot/metrics",
        "/enterprises/nobody/copilot/metrics/reports/enterprise-28-day/latest",
    ):
        answer = api(emu, path)
        assert answer.status_code == 404, path
        assert answer.json()["message"] == "Not Found"


def test_api_versions(emu: Emulator) -> None:
    assert api(emu, ORG_28, **{"X-GitHub-Api-Version": "2022-11-28"}).status_code == 200
    assert api(emu, ORG_28, **{"X-GitHub-Api-Version": "2021-01-01"}).status_code == 410


def test_links_are_fresh_each_call(emu: Emulator) -> None:
    first = api(emu, ORG_28).json()["download_links"]
    second = api(emu, ORG_28).json()["download_links"]
    assert first != second


def test_shard_overrides_from_bytes_and_files(emu: Emulator, tmp_path: Path) -> None:
    big = tmp_path / "big.ndjson"
    make_users_shard(big, 3 << 20)
    emu.set_shards("org", "octo", "users-28-day", None, [b'{"a":1}\n', big])
    expected = emu.expected_files("org", "octo", "users-28-day")
    assert expected[1][1] == big.read_bytes()
    links = api(emu, "/orgs/octo/copilot/metrics/reports/users-28-day/latest").json()["download_links"]
    assert [requests.get(link, timeout=10).content for link in links] == [content for _, content in expected]


def test_data_is_deterministic(tmp_path: Path) -> None:
    with Emulator(tmp_path / "a") as one, Emulator(tmp_path / "b") as two:
        two.today = one.today
        for report in ("organization-28-day", "users-28-day"):
            assert one.expected_files("org", "octo", report) == two.expected_files("org", "octo", report)


# --- signed download host -------------------------------------------------------------------


def first_link(emu: Emulator) -> str:
    link: str = api(emu, ORG_28).json()["download_links"][0]
    return link


def test_download_rejects_any_authorization_header_and_records_the_leak(emu: Emulator) -> None:
    answer = requests.get(first_link(emu), headers={"Authorization": f"Bearer {emu.token}"}, timeout=10)
    assert answer.status_code in (400, 403)
    assert len(emu.leaks) == 1
    assert "download" in emu.leaks[0]


def test_download_rejects_bad_and_expired_signatures(emu: Emulator) -> None:
    bad = requests.get(tamper(first_link(emu)), timeout=10)
    assert bad.status_code == 403
    assert b"<Code>AuthenticationFailed</Code>" in bad.content
    assert bad.headers["x-ms-error-code"] == "AuthenticationFailed"
    emu.link_ttl = 0
    expired = requests.get(first_link(emu), timeout=10)
    assert expired.status_code == 403
    assert b"AuthenticationFailed" in expired.content


def test_download_range_head_and_unknown_file(emu: Emulator) -> None:
    link = first_link(emu)
    content = emu.expected_files("org", "octo", "organization-28-day")[0][1]
    part = requests.get(link, headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206
    assert part.content == content[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(content) - 1}/{len(content)}"
    head = requests.head(link, timeout=10)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(content))
    assert head.content == b""
    second = api(emu, ORG_28).json()["download_links"][1]
    emu.set_shards("org", "octo", "organization-28-day", None, [b"only\n"])
    assert requests.get(second, timeout=10).status_code == 404


# --- faults ---------------------------------------------------------------------------------


def test_status_faults_are_consumed_in_order(emu: Emulator) -> None:
    emu.inject(
        Fault(host="api", path_contains="organization-28-day", status=503, times=2, headers={"Retry-After": "0"})
    )
    emu.inject(Fault(host="api", path_contains="organization-28-day", body=b'"not ready"'))
    statuses = [api(emu, ORG_28) for _ in range(4)]
    assert [r.status_code for r in statuses] == [503, 503, 200, 200]
    assert statuses[0].headers["Retry-After"] == "0"
    assert statuses[2].json() == "not ready"
    assert "download_links" in statuses[3].json()


def test_status_faults_look_like_each_host(emu: Emulator) -> None:
    emu.inject(Fault(host="results", status=503))
    emu.inject(Fault(host="blob", status=503))
    emu.inject(Fault(host="api", status=502, body=b"<html>bad gateway</html>"))
    busy = create(emu, "busy")
    assert busy.status_code == 503
    assert busy.json()["code"] == "unavailable"
    url = create(emu, "busy").json()["signed_upload_url"]
    blob = requests.put(url, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert blob.status_code == 503
    assert blob.headers["x-ms-error-code"] == "ServerBusy"
    gateway = api(emu, ORG_28)
    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"].startswith("text/plain")


def test_a_204_fault_keeps_the_connection_usable(emu: Emulator) -> None:
    emu.inject(Fault(host="api", status=204))
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {emu.token}"
        assert session.get(emu.api_url + ORG_28, timeout=10).status_code == 204
        assert session.get(emu.api_url + ORG_28, timeout=10).status_code == 200


def test_fault_filters_on_method_and_path(emu: Emulator) -> None:
    emu.inject(Fault(host="api", path_contains="users-28-day", method="POST", status=500))
    emu.inject(Fault(host="api", path_contains="users-28-day", status=502))
    assert api(emu, ORG_28).status_code == 200
    assert api(emu, "/orgs/octo/copilot/metrics/reports/users-28-day/latest").status_code == 502


def test_reset_fault_closes_without_answer(emu: Emulator) -> None:
    emu.inject(Fault(host="api", reset=True))
    with pytest.raises(requests.ConnectionError):
        api(emu, ORG_28)
    assert emu.requests[-1].status == 0
    assert api(emu, ORG_28).status_code == 200


def test_stall_fault_triggers_read_timeouts(emu: Emulator) -> None:
    emu.inject(Fault(host="api", stall=0.5))
    with pytest.raises(requests.ReadTimeout):
        requests.get(emu.api_url + ORG_28, headers={"Authorization": f"Bearer {emu.token}"}, timeout=0.1)


def test_truncate_fault_cuts_the_body(emu: Emulator) -> None:
    link = first_link(emu)
    emu.inject(Fault(host="download", truncate_at=10))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(link, timeout=10)
    assert len(requests.get(link, timeout=10).content) > 10


def test_expire_links_fault(emu: Emulator) -> None:
    link = first_link(emu)
    emu.inject(Fault(host="download", expire_links=True))
    expired = requests.get(link, timeout=10)
    assert expired.status_code == 403
    assert b"<Code>AuthenticationFailed</Code>" in expired.content
    assert requests.get(link, timeout=10).status_code == 200


def test_fault_needs_exactly_one_action() -> None:
    with pytest.raises(ValueError, match="exactly one action"):
        Fault(host="api", reset=True, stall=1.0)
    with pytest.raises(ValueError, match="exactly one action"):
        Fault(host="api")
    with pytest.raises(ValueError, match="host must be"):
        Fault(host="nowhere", reset=True)


def test_requests_are_recorded(emu: Emulator) -> None:
    api(emu, ORG_28, Accept="application/vnd.github+json")
    seen = emu.requests[-1]
    assert (seen.host, seen.method, seen.path, seen.status) == ("api", "GET", ORG_28, 200)
    assert seen.headers["accept"] == "application/vnd.github+json"


# --- results service and blob store ----------------------------------------------------------


def create(emu: Emulator, name: str, **extra: Any) -> requests.Response:
    return twirp(emu, "CreateArtifact", backend_ids(emu) | {"name": name, "version": 7} | extra)


def put_blocks(url: str, blocks: list[tuple[str, bytes]], content_type: str = "application/zip") -> requests.Response:
    for block_id, content in blocks:
        staged = requests.put(f"{url}&comp=block&blockid={block_id}", data=content, timeout=10)
        assert staged.status_code == 201, staged.text
    listing = "".join(f"<Latest>{block_id}</Latest>" for block_id, _ in blocks)
    body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{listing}</BlockList>'
    return requests.put(
        f"{url}&comp=blocklist", data=body, headers={"x-ms-blob-content-type": content_type}, timeout=10
    )


def block_id(n: int) -> str:
    return base64.b64encode(f"{n:08d}".encode()).decode()


def test_artifact_round_trip(emu: Emulator) -> None:
    upload_url = create(emu, "metrics").json()["signed_upload_url"]
    content = [b"PK" + os.urandom(1000), os.urandom(500)]
    committed = put_blocks(upload_url, [(block_id(n), part) for n, part in enumerate(content)])
    assert committed.status_code == 201
    assert committed.headers["ETag"]
    assert committed.headers["Last-Modified"]
    blob = b"".join(content)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    final = twirp(
        emu, "FinalizeArtifact", backend_ids(emu) | {"name": "metrics", "size": str(len(blob)), "hash": digest}
    )
    assert final.json()["ok"] is True
    artifact_id = final.json()["artifact_id"]
    stored = emu.artifacts["metrics"]
    assert (str(stored.id), stored.size, stored.hash, stored.finalized) == (artifact_id, len(blob), digest, True)
    assert stored.blob == blob
    assert stored.content_type == "application/zip"
    listed = twirp(emu, "ListArtifacts", backend_ids(emu) | {"id_filter": artifact_id}).json()["artifacts"]
    assert [(a["name"], a["size"], a["digest"], a["database_id"]) for a in listed] == [
        ("metrics", str(len(blob)), digest, artifact_id)
    ]
    assert "T" in listed[0]["created_at"]
    signed = twirp(emu, "GetSignedArtifactURL", backend_ids(emu) | {"name": "metrics"}).json()["signed_url"]
    fetched = requests.get(signed, timeout=10)
    assert fetched.content == blob
    assert fetched.headers["Content-Type"] == "application/zip"
    deleted = twirp(emu, "DeleteArtifact", backend_ids(emu) | {"name": "metrics"})
    assert deleted.json() == {"ok": True, "artifact_id": artifact_id}
    assert emu.artifacts["metrics"].deleted
    assert twirp(emu, "ListArtifacts", backend_ids(emu) | {"name_filter": "metrics"}).json() == {"artifacts": []}
    assert create(emu, "metrics").status_code == 200


def test_duplicate_create_is_409(emu: Emulator) -> None:
    assert create(emu, "dup").status_code == 200
    again = create(emu, "dup", expires_at="2099-01-01T00:00:00Z")
    assert again.status_code == 409
    assert again.json() == {
        "code": "already_exists",
        "msg": "an artifact with this name already exists on the workflow run",
    }


def test_twirp_errors(emu: Emulator) -> None:
    assert create(emu, "x", version=3).status_code == 400
    assert create(emu, "bad:name").status_code == 400
    assert create(emu, "old", expires_at="2001-01-01T00:00:00Z").status_code == 400
    unauth = twirp(emu, "CreateArtifact", backend_ids(emu) | {"name": "x", "version": 7}, token="nope")
    assert unauth.status_code == 401
    assert unauth.json()["code"] == "unauthenticated"
    other = twirp(
        emu,
        "CreateArtifact",
        {"workflow_run_backend_id": "a", "workflow_job_run_backend_id": "b", "name": "x", "version": 7},
    )
    assert other.status_code == 403
    missing = twirp(emu, "FinalizeArtifact", backend_ids(emu) | {"name": "ghost", "size": "1", "hash": "sha256:00"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert twirp(emu, "NoSuchMethod", {}).json()["code"] == "bad_route"
    text = requests.post(
        emu.results_url + TWIRP + "ListArtifacts",
        data="{}",
        headers={"Authorization": f"Bearer {emu.runtime_token}", "Content-Type": "text/plain"},
        timeout=10,
    )
    assert text.status_code == 404
    broken = requests.post(
        emu.results_url + TWIRP + "ListArtifacts",
        data="{",
        headers={"Authorization": f"Bearer {emu.runtime_token}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "malformed"


def test_camel_case_requests_are_accepted(emu: Emulator) -> None:
    ids = backend_ids(emu)
    body = {
        "workflowRunBackendId": ids["workflow_run_backend_id"],
        "workflowJobRunBackendId": ids["workflow_job_run_backend_id"],
    }
    assert twirp(emu, "ListArtifacts", body).status_code == 200


@pytest.mark.parametrize("size", [0, 3000, 3 << 20])
def test_azure_sdk_upload_and_download(emu: Emulator, size: int) -> None:
    upload_url = create(emu, f"sdk-{size}").json()["signed_upload_url"]
    content = os.urandom(size)
    client = BlobClient.from_blob_url(upload_url, max_single_put_size=1 << 20, max_block_size=256 << 10)
    result = client.upload_blob(
        io.BytesIO(content),
        blob_type="BlockBlob",
        content_settings=ContentSettings(content_type="application/zip"),
        max_concurrency=4,
    )
    assert result["etag"]
    assert result["last_modified"]
    stored = emu.artifacts[f"sdk-{size}"]
    assert stored.blob == content
    assert stored.content_type == "application/zip"
    blob_puts = [r for r in emu.requests if r.host == "blob" and r.method == "PUT"]
    assert all(r.status == 201 for r in blob_puts)
    assert len(blob_puts) == (1 if size <= 1 << 20 else 13)
    final = twirp(
        emu, "FinalizeArtifact", backend_ids(emu) | {"name": f"sdk-{size}", "size": str(size), "hash": "sha256:x"}
    )
    assert final.status_code == 200
    signed = twirp(emu, "GetSignedArtifactURL", backend_ids(emu) | {"name": f"sdk-{size}"}).json()["signed_url"]
    assert BlobClient.from_blob_url(signed).download_blob(max_concurrency=2).readall() == content


def test_blob_store_enforces_azure_rules(emu: Emulator) -> None:
    url = create(emu, "rules").json()["signed_upload_url"]
    assert requests.put(f"{url}&comp=block&blockid={block_id(1)}", data=b"a", timeout=10).status_code == 201
    longer = base64.b64encode(b"0123456789").decode()
    mismatch = requests.put(f"{url}&comp=block&blockid={longer}", data=b"b", timeout=10)
    assert mismatch.status_code == 400
    assert mismatch.headers["x-ms-error-code"] == "InvalidBlobOrBlock"
    unstaged = put_blocks(url, [])
    assert unstaged.status_code == 201
    bad_list = requests.put(
        f"{url}&comp=blocklist", data=f"<BlockList><Latest>{block_id(9)}</Latest></BlockList>", timeout=10
    )
    assert bad_list.status_code == 400
    assert bad_list.headers["x-ms-error-code"] == "InvalidBlockList"
    assert requests.put(f"{url}&comp=block&blockid=abc", data=b"x", timeout=10).status_code == 400
    no_type = requests.put(url, data=b"x", timeout=10)
    assert no_type.status_code == 400
    assert no_type.headers["x-ms-error-code"] == "MissingRequiredHeader"
    forged = requests.put(tamper(url), data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert forged.status_code == 403
    assert forged.headers["x-ms-error-code"] == "AuthenticationFailed"
    leak = requests.put(
        url, data=b"x", headers={"x-ms-blob-type": "BlockBlob", "Authorization": "Bearer t"}, timeout=10
    )
    assert leak.status_code == 400
    assert emu.leaks
    assert "blob" in emu.leaks[-1]


def test_blob_committed_blocks_reuse_and_ranges(emu: Emulator) -> None:
    url = create(emu, "reuse").json()["signed_upload_url"]
    assert put_blocks(url, [(block_id(1), b"hello "), (block_id(2), b"world")]).status_code == 201
    body = f"<BlockList><Committed>{block_id(2)}</Committed><Committed>{block_id(1)}</Committed></BlockList>"
    assert requests.put(f"{url}&comp=blocklist", data=body, timeout=10).status_code == 201
    read_url = url.replace("sp=cw", "sp=r")
    assert requests.get(read_url, timeout=10).status_code == 403
    assert emu.artifacts["reuse"].blob == b"worldhello "
    assert emu.artifacts["reuse"].content_type == "application/octet-stream"
    twirp(emu, "FinalizeArtifact", backend_ids(emu) | {"name": "reuse", "size": "11", "hash": "sha256:x"})
    signed = twirp(emu, "GetSignedArtifactURL", backend_ids(emu) | {"name": "reuse"}).json()["signed_url"]
    part = requests.get(signed, headers={"x-ms-range": "bytes=5-7"}, timeout=10)
    assert part.status_code == 206
    assert part.content == b"hel"
    assert part.headers["Content-Range"] == "bytes 5-7/11"
    assert requests.put(signed, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10).status_code == 403
    assert parse_qs(urlsplit(signed).query)["sp"] == ["r"]


# --- environment, data helpers, command line ----------------------------------------------------


def test_env_describes_the_runner(emu: Emulator) -> None:
    env = emu.env()
    assert env["GITHUB_API_URL"] == emu.api_url
    assert env["ACTIONS_RESULTS_URL"] == emu.results_url
    assert emu.results_url.endswith("/")
    assert not emu.api_url.endswith("/")
    assert env["GITHUB_REPOSITORY"] == "octo/metrics"
    assert env["GITHUB_RETENTION_DAYS"] == "90"
    assert env["ACTIONS_RUNTIME_TOKEN"] == emu.runtime_token
    assert env["GITHUB_ACTIONS"] == env["CI"] == "true"
    assert all(backend_ids(emu).values())


def test_make_users_shard(tmp_path: Path) -> None:
    target = tmp_path / "users.ndjson"
    written = make_users_shard(target, 5 << 20)
    assert written == target.stat().st_size
    assert (5 << 20) - 10_000 < written <= 5 << 20
    lines = target.read_bytes().splitlines()
    assert json.loads(lines[-1])["user_login"].startswith("user-")


def test_command_line_prints_env_and_stops_on_sigterm() -> None:
    tests_dir = Path(__file__).parent
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator"],
        cwd=tests_dir,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(tests_dir)},
    )
    try:
        assert process.stdout is not None
        settings = json.loads(process.stdout.readline())
        headers = {"Authorization": f"Bearer {settings['INPUT_TOKEN']}"}
        answer = requests.get(settings["INPUT_API-URL"] + ORG_28, headers=headers, timeout=10)
        assert answer.status_code == 200
        assert settings["INPUT_ORG"] == "octo"
        assert settings["ACTIONS_RUNTIME_TOKEN"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_sdk_errors_are_parsed(emu: Emulator) -> None:
    url = create(emu, "errs").json()["signed_upload_url"]
    with pytest.raises(HttpResponseError) as failure:
        BlobClient.from_blob_url(tamper(url)).upload_blob(b"x", blob_type="BlockBlob")
    assert "AuthenticationFailed" in str(failure.value)
