"""Refused cloud credentials, through the whole action: moto's S3 server with IAM authentication on
(it checks access keys, signatures and session tokens) and Azurite (shared-key signatures and SAS).
Each refusal is one `::error::` naming the variable at fault, exit 1, nothing written, no secret shown."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import takewhile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from uuid import uuid4

import boto3
import pytest
import requests
from azure.storage.blob import ContainerClient, ContainerSasPermissions, generate_container_sas

from action_run import ActionRun, run_action
from conformance.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from copilot_metrics.errors import HistoryError
from copilot_metrics.history import open_store
from emulator import Emulator
from storeproxy import StoreProxy, Throttle

REGION = "us-east-1"
ALL_OF_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
# What S3 answers a request signed with a session token past its expiry (documented error code).
EXPIRED = (
    400,
    "application/xml",
    b"<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>",
)
WRONG_AZURE_KEY = "QUJD" * 21 + "QQ=="  # base64, the length of a real account key, not Azurite's


@dataclass(frozen=True)
class S3:
    url: str
    bucket: str
    key: dict[str, str]  # an IAM user's access key, allowed all of S3
    unprivileged: dict[str, str]  # an IAM user's access key, allowed nothing
    session: dict[str, str]  # temporary credentials of an assumed role, allowed all of S3

    def env(self, key_id: str, secret: str, token: str = "", endpoint: str = "") -> dict[str, str]:
        env = {
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint or self.url,
        }
        return env | ({"AWS_SESSION_TOKEN": token} if token else {})

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.key["AccessKeyId"],
            aws_secret_access_key=self.key["SecretAccessKey"],
        )

    def objects(self) -> list[str]:
        return [item["Key"] for item in self.client().list_objects_v2(Bucket=self.bucket).get("Contents", [])]


def _origin(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"moto's server did not start: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """moto's server in a process of its own (its authentication switch is process-wide): an IAM user
    and an assumed role with S3 access, a bucket, and then every request authenticated."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    try:
        url = _origin(log, process)
        setup = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "x", "aws_secret_access_key": "x"}
        iam, sts = boto3.client("iam", **setup), boto3.client("sts", **setup)
        bucket = f"history-{uuid4().hex[:12]}"
        boto3.client("s3", **setup).create_bucket(Bucket=bucket)
        iam.create_user(UserName="history")
        iam.put_user_policy(UserName="history", PolicyName="s3", PolicyDocument=ALL_OF_S3)
        key = iam.create_access_key(UserName="history")["AccessKey"]
        iam.create_user(UserName="unprivileged")
        unprivileged = iam.create_access_key(UserName="unprivileged")["AccessKey"]
        trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        role = iam.create_role(
            RoleName="history", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]})
        )["Role"]
        iam.put_role_policy(RoleName="history", PolicyName="s3", PolicyDocument=ALL_OF_S3)
        session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="history")["Credentials"]
        requests.post(f"{url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
        pair = ("AccessKeyId", "SecretAccessKey")
        temporary = {n: session[n] for n in (*pair, "SessionToken")}
        yield S3(url, bucket, {n: key[n] for n in pair}, {n: unprivileged[n] for n in pair}, temporary)
    finally:
        process.terminate()
        process.wait(timeout=10)


def refused(run: ActionRun, *phrases: str, secrets: tuple[str, ...]) -> None:
    """One error line with every phrase, exit 1, no traceback, no secret in anything written."""
    assert run.code == 1, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stdout
    for phrase in phrases:
        assert phrase in run.errors[0], run.errors[0]
    assert "Traceback" not in run.stderr
    written = run.everything_written()
    assert [secret[:4] for secret in secrets if secret in written] == []


def history_run(emu: Emulator, folder: Path, history: str, env: dict[str, str]) -> ActionRun:
    return run_action(emu, folder, {"history": history, "report": "users-1-day", "day": "latest"}, env=env)


def test_the_right_secret_writes_and_a_wrong_one_or_a_missing_grant_is_named(s3: S3, tmp_path: Path) -> None:
    """The contrast the refusals below rely on, on a plain key: moto's signature check fails any
    request whose path or query obstore percent-encodes (as the history's 'day=' keys and listing
    prefixes), whatever the secret, so only a key without such characters shows the right secret accepted."""
    probe = tmp_path / "probe"
    probe.write_bytes(b"1\n")
    location = f"s3://{s3.bucket}/copilot"
    key, unprivileged = s3.key, s3.unprivileged

    open_store(location, s3.env(key["AccessKeyId"], key["SecretAccessKey"]), tmp_path).write("probe", probe)
    assert s3.objects() == ["copilot/probe"]
    wrong = open_store(location, s3.env(key["AccessKeyId"], "W" + key["SecretAccessKey"][1:]), tmp_path)
    with pytest.raises(HistoryError, match="AWS_SECRET_ACCESS_KEY is not the secret of the key in AWS_ACCESS_KEY_ID"):
        wrong.write("other", probe)
    bare = open_store(location, s3.env(unprivileged["AccessKeyId"], unprivileged["SecretAccessKey"]), tmp_path)
    with pytest.raises(
        HistoryError, match=r"access was denied\. Grant the identity read, write, list and delete on the bucket"
    ):
        bare.write("other", probe)
    assert s3.objects() == ["copilot/probe"]
    s3.client().delete_object(Bucket=s3.bucket, Key="copilot/probe")


@pytest.mark.parametrize(
    ("case", "phrases"),
    [
        # On moto this request's signature fails whatever the secret (see the test above): this case
        # proves the way to the step's error line; the test above proves the secret is what is checked.
        ("wrong secret", ("AWS_SECRET_ACCESS_KEY is not the secret of the key in AWS_ACCESS_KEY_ID",)),
        ("unknown key", ("the key in AWS_ACCESS_KEY_ID is unknown",)),
        ("another session's token", ("AWS_SESSION_TOKEN is not valid for the key in AWS_ACCESS_KEY_ID",)),
    ],
)
def test_refused_s3_credentials_name_the_variable(
    emu: Emulator, s3: S3, tmp_path: Path, case: str, phrases: tuple[str, ...]
) -> None:
    key, session = s3.key, s3.session
    env = {
        "wrong secret": s3.env(key["AccessKeyId"], "W" + key["SecretAccessKey"][1:]),
        "unknown key": s3.env("AKIA" + "Q" * 16, key["SecretAccessKey"]),
        "another session's token": s3.env(
            session["AccessKeyId"], session["SecretAccessKey"], "FwoGZXIvYXdzE" + session["SessionToken"][13:][::-1]
        ),
    }[case]

    run = history_run(emu, tmp_path / "step", f"s3://{s3.bucket}/copilot", env)

    fix = "Set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN together"
    refused(
        run, f"s3://{s3.bucket}/copilot", *phrases, fix, secrets=(env["AWS_SECRET_ACCESS_KEY"], session["SessionToken"])
    )
    assert s3.objects() == []


def test_an_expired_session_token_is_named(emu: Emulator, s3: S3, tmp_path: Path) -> None:
    # moto does not expire its sessions: the proxy answers as S3 does once a session has run out.
    session = s3.session
    with StoreProxy(s3.url) as proxy:
        proxy.throttles.append(Throttle("GET", 100, EXPIRED))
        env = s3.env(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"], proxy.url)
        run = history_run(emu, tmp_path / "step", f"s3://{s3.bucket}/copilot", env)

    assert proxy.log.count("GET", 400) >= 1
    refused(run, "AWS_SESSION_TOKEN has expired", secrets=(session["SecretAccessKey"], session["SessionToken"]))
    assert proxy.log.count("PUT") == 0
    assert s3.objects() == []


def container_with_sas(
    azurite: Azurite, key: str, permission: ContainerSasPermissions
) -> tuple[str, ContainerClient, str]:
    """A new container in Azurite, its client, and a SAS for it signed with `key`, valid for an hour."""
    container = f"history-{uuid4().hex[:12]}"
    client = azurite.service().create_container(container)
    sas = generate_container_sas(
        ACCOUNT, container, account_key=key, permission=permission, expiry=datetime.now(UTC) + timedelta(hours=1)
    )
    return container, client, sas


@pytest.mark.parametrize("case", ["connection string", "account key", "SAS token"])
def test_refused_azure_credentials_name_the_variable(
    emu: Emulator, azurite: Azurite, tmp_path: Path, case: str
) -> None:
    # A SAS signed with another key: well formed, refused by its signature.
    container, client, sas = container_with_sas(
        azurite, WRONG_AZURE_KEY, ContainerSasPermissions(read=True, write=True, delete=True, list=True)
    )
    named = {"AZURE_STORAGE_ACCOUNT_NAME": ACCOUNT, "AZURE_STORAGE_ENDPOINT": azurite.account_url}
    env, variable, secret = {
        "connection string": (
            {
                "AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                f"AccountKey={WRONG_AZURE_KEY};BlobEndpoint={azurite.account_url};"
            },
            "the AccountKey in AZURE_STORAGE_CONNECTION_STRING",
            WRONG_AZURE_KEY,
        ),
        "account key": (
            named | {"AZURE_STORAGE_ACCOUNT_KEY": WRONG_AZURE_KEY},
            "AZURE_STORAGE_ACCOUNT_KEY",
            WRONG_AZURE_KEY,
        ),
        "SAS token": (named | {"AZURE_STORAGE_SAS_TOKEN": sas}, "AZURE_STORAGE_SAS_TOKEN", sas),
    }[case]

    run = history_run(emu, tmp_path / "step", f"az://{container}/copilot", env)

    signature = parse_qs(sas)["sig"][0]
    refused(run, f"az://{container}/copilot", "refused the credentials", variable, secrets=(secret, signature))
    assert list(client.list_blobs()) == []


def test_every_cloud_credential_is_masked_before_anything_else_is_printed(emu: Emulator, tmp_path: Path) -> None:
    names = (
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_SERVICE_ACCOUNT_KEY",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    )
    values = {name: f"{name.lower()}-{uuid4().hex}" for name in names}
    key, signature = f"key-{uuid4().hex}", f"sv=2025-01-05&sig={uuid4().hex}"
    connection = f"AccountName={ACCOUNT};AccountKey={key};SharedAccessSignature={signature}"
    # No AWS_ACCESS_KEY_ID: the store is refused before any request, after the masks.
    run = history_run(
        emu, tmp_path / "step", "s3://bucket/copilot", values | {"AZURE_STORAGE_CONNECTION_STRING": connection}
    )

    masked_first = list(takewhile(lambda line: line.startswith("::add-mask::"), run.stdout.splitlines()))
    for secret in [*values.values(), key, signature]:
        assert f"::add-mask::{secret}" in masked_first
    refused(run, "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set", secrets=(*values.values(), key, signature))


def test_a_read_only_sas_is_told_what_to_grant(azurite: Azurite, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"{}\n")
    container, client, read_only = container_with_sas(
        azurite, ACCOUNT_KEY, ContainerSasPermissions(read=True, list=True)
    )
    az_env = {
        "AZURE_STORAGE_ACCOUNT_NAME": ACCOUNT,
        "AZURE_STORAGE_ENDPOINT": azurite.account_url,
        "AZURE_STORAGE_SAS_TOKEN": read_only,
    }
    store = open_store(f"az://{container}/copilot", az_env, tmp_path)
    assert store.list("raw/") == []
    with pytest.raises(
        HistoryError, match=r"access was denied\. Grant the identity read, write, list and delete on the container"
    ):
        store.write("raw/r/day=2026-01-01/a.ndjson.gz", data)
    assert list(client.list_blobs()) == []


def test_a_bucket_or_container_that_does_not_exist_is_one_error(
    emu: Emulator, s3: S3, azurite: Azurite, tmp_path: Path
) -> None:
    key = s3.key
    # With authentication on, moto refuses these requests' signatures before it looks for the bucket.
    requests.post(f"{s3.url}/moto-api/reset-auth", data=b"inf", timeout=10).raise_for_status()
    try:
        s3_run = history_run(
            emu, tmp_path / "s3", "s3://absent-bucket/copilot", s3.env(key["AccessKeyId"], key["SecretAccessKey"])
        )
    finally:
        requests.post(f"{s3.url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={azurite.account_url};"
    )
    az_run = history_run(
        emu, tmp_path / "az", "az://absent-container/copilot", {"AZURE_STORAGE_CONNECTION_STRING": connection}
    )

    refused(
        s3_run,
        "s3://absent-bucket/copilot",
        "the bucket does not exist. Create it first",
        secrets=(key["SecretAccessKey"],),
    )
    refused(
        az_run, "az://absent-container/copilot", "the container does not exist. Create it first", secrets=(ACCOUNT_KEY,)
    )
    assert "absent-bucket" not in [bucket["Name"] for bucket in s3.client().list_buckets()["Buckets"]]
    assert "absent-container" not in [container.name for container in azurite.service().list_containers()]
