"""OIDC for S3 and Azure: the action asks the runner's token service for the job's OIDC token,
with the cloud's audience, and hands the token to the cloud's exchange as a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from copilot_metrics.errors import HistoryError
from copilot_metrics.history import open_store
from loopback import answer, scripted

JOB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvbWV0cmljcyJ9.c2lnbmF0dXJl"
REQUEST_TOKEN = "runner-request-token-0123456789"


class TokenService:
    """The runner's ACTIONS_ID_TOKEN_REQUEST_URL: records each request, answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.url = ""

    def serve(self, request: BaseHTTPRequestHandler, number: int) -> None:
        self.seen.append((request.headers.get("Authorization", ""), dict(parse_qsl(urlsplit(request.path).query))))
        body = json.dumps({"value": JOB_TOKEN} if self.status == 200 else {"message": "no"}).encode()
        answer(request, self.status, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)


@pytest.fixture
def service() -> Iterator[TokenService]:
    running = TokenService()
    with scripted(running.serve) as origin:
        running.url = f"{origin}/token?api-version=2.0"
        yield running


CASES = [
    ("s3://bucket/prefix", {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/history"}, "sts.amazonaws.com"),
    (
        "az://container/prefix",
        {"AZURE_STORAGE_ACCOUNT_NAME": "acme", "AZURE_CLIENT_ID": "client", "AZURE_TENANT_ID": "tenant"},
        "api://AzureADTokenExchange",
    ),
]


@pytest.mark.parametrize(("location", "env", "audience"), CASES)
def test_the_job_token_is_requested_for_the_cloud_and_kept_in_a_file(
    service: TokenService, tmp_path: Path, location: str, env: dict[str, str], audience: str
) -> None:
    runner = {"ACTIONS_ID_TOKEN_REQUEST_URL": service.url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN}
    store = open_store(location, env | runner | {"RUNNER_TEMP": str(tmp_path)}, tmp_path)

    assert store.url == location
    assert service.seen == [(f"Bearer {REQUEST_TOKEN}", {"api-version": "2.0", "audience": audience})]
    (written,) = tmp_path.glob("github-oidc-*")
    assert written.read_text() == JOB_TOKEN


@pytest.mark.parametrize(("location", "env", "audience"), CASES)
def test_without_id_token_permission_the_error_says_so(
    tmp_path: Path, location: str, env: dict[str, str], audience: str
) -> None:
    with pytest.raises(HistoryError, match="permissions: id-token: write"):
        open_store(location, env, tmp_path)


def test_a_refused_token_request_is_one_clear_error(service: TokenService, tmp_path: Path) -> None:
    service.status = 403
    runner = {"ACTIONS_ID_TOKEN_REQUEST_URL": service.url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN}
    location, env, _ = CASES[0]
    with pytest.raises(HistoryError, match="did not hand out the job's OIDC token"):
        open_store(location, env | runner, tmp_path)
