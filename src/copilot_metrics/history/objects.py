"""A history kept in S3, Azure Blob Storage or Google Cloud Storage, through obstore.

Credentials and endpoints come only from each cloud's standard environment variables, the ones
its official login actions set for later steps; an input never carries them."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import obstore
import requests
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from obstore.store import AzureStore, GCSStore, S3Store

from ..errors import HistoryError
from ..transport import is_loopback, new_session, timeout
from .location import Location
from .store import checked_key

if TYPE_CHECKING:
    from obstore.store import ClientConfig, ObjectStore, RetryConfig

# Multipart parts: large enough for few requests, few enough in flight to keep memory flat.
CHUNK_SIZE = 8 * 1024 * 1024
CONCURRENCY = 4
READ_CHUNK = 1024 * 1024
# Server errors, throttling (S3 503 SlowDown, Azure 503 ServerBusy) and broken connections are
# retried by obstore with exponential backoff and jitter.
RETRY: RetryConfig = {
    "max_retries": 8,
    "backoff": {"init_backoff": dt.timedelta(milliseconds=200), "max_backoff": dt.timedelta(seconds=15), "base": 2},
    "retry_timeout": dt.timedelta(minutes=3),
}
AZURE_AUDIENCE = "api://AzureADTokenExchange"
AWS_AUDIENCE = "sts.amazonaws.com"

# Environment variables that hold credentials: masked before anything runs, never printed.
SECRET_VARIABLES = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
_CREDENTIAL_HINT = {
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), e.g. set by "
    "aws-actions/configure-aws-credentials after an OIDC login, or AWS_ROLE_ARN",
    "az": "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY, "
    "AZURE_STORAGE_SAS_TOKEN, or AZURE_CLIENT_ID and AZURE_TENANT_ID for OIDC (with id-token: write)",
    "gs": "GOOGLE_APPLICATION_CREDENTIALS, e.g. set by google-github-actions/auth",
}
# S3's refusal codes (also those of S3-compatible stores), each with the variable at fault.
_S3_REFUSALS = (
    ("InvalidAccessKeyId", "the key in AWS_ACCESS_KEY_ID is unknown (deleted, inactive, or of another account)"),
    ("SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY is not the secret of the key in AWS_ACCESS_KEY_ID"),
    ("ExpiredToken|TokenRefreshRequired", "AWS_SESSION_TOKEN has expired (it lasts as long as its session)"),
    ("InvalidToken", "AWS_SESSION_TOKEN is not valid for the key in AWS_ACCESS_KEY_ID (from another session?)"),
)
_S3_FIX = (
    "Set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN together from one set of credentials, "
    "e.g. with aws-actions/configure-aws-credentials right before this step, or set AWS_ROLE_ARN instead."
)


def secrets(env: Mapping[str, str]) -> list[str]:
    """Every credential the environment holds for a store, to be masked before the run prints anything."""
    values = [env.get(name, "") for name in SECRET_VARIABLES]
    connection = _connection_string(env.get("AZURE_STORAGE_CONNECTION_STRING", ""))
    values += [connection.get("AccountKey", ""), connection.get("SharedAccessSignature", "")]
    return [value for value in values if value.strip()]


class ObjectStoreHistory:
    def __init__(self, location: Location, store: ObjectStore, env: Mapping[str, str]) -> None:
        self.url = location.url
        self._kind = location.kind
        self._store = store
        self._secrets = secrets(env)
        self._credential = _credential_source(location.kind, env)

    def list(self, prefix: str) -> list[str]:
        try:
            return sorted(meta["path"] for batch in obstore.list(self._store, prefix or None) for meta in batch)
        except BaseError as failure:
            raise self._failure("list", prefix or "/", failure) from None

    def read(self, key: str) -> bytes:
        try:
            return obstore.get(self._store, checked_key(key)).bytes().to_bytes()
        except BaseError as failure:
            raise self._failure("read", key, failure) from None

    def download(self, key: str, target: Path) -> None:
        try:
            result = obstore.get(self._store, checked_key(key))
            with target.open("wb") as out:
                for chunk in result.stream(min_chunk_size=READ_CHUNK):
                    out.write(chunk)
        except BaseError as failure:
            raise self._failure("read", key, failure) from None

    def write(self, key: str, source: Path) -> None:
        """One PUT, or a multipart upload read from the file part by part: visible only once complete."""
        try:
            with source.open("rb") as data:
                obstore.put(self._store, checked_key(key), data, chunk_size=CHUNK_SIZE, max_concurrency=CONCURRENCY)
        except BaseError as failure:
            raise self._failure("write", key, failure) from None

    def remove(self, key: str) -> None:
        try:
            obstore.delete(self._store, checked_key(key))
        except NotFoundError:
            return
        except BaseError as failure:
            raise self._failure("remove", key, failure) from None

    def finish(self, message: str) -> bool:
        return False

    def _failure(self, action: str, key: str, failure: BaseError) -> HistoryError:
        return HistoryError(f"Could not {action} {key} in the history store {self.url}: {self._reason(failure)}")

    def _reason(self, failure: BaseError) -> str:
        text = str(failure)
        what = "container" if self._kind == "az" else "bucket"
        refusal = next((why for code, why in _S3_REFUSALS if self._kind == "s3" and re.search(code, text)), None)
        if refusal is not None:
            return f"the store refused the credentials: {refusal}. {_S3_FIX}"
        if isinstance(failure, UnauthenticatedError) or re.search(
            r"AuthenticationFailed|InvalidAuthenticationInfo|failed to authenticate", text
        ):
            return (
                f"the store refused the credentials (wrong, rotated or expired): set {self._credential} "
                "again from a current credential."
            )
        if isinstance(failure, PermissionDeniedError) or re.search(r"AccessDenied|AuthorizationFailure", text):
            return (
                f"access was denied. Grant the identity read, write, list and delete on the {what} and prefix, "
                "or check the credentials in the environment."
            )
        if re.search(r"NoSuchBucket|ContainerNotFound|bucket does not exist", text, re.IGNORECASE):
            return f"the {what} does not exist. Create it first, or fix the name in the 'history' input."
        if isinstance(failure, NotFoundError):
            return "the object is not there (removed by someone else meanwhile?). Re-run the job."
        return f"{type(failure).__name__}: {self._clean(text)} Re-run the job; if it repeats, check the store's status."

    def _clean(self, text: str) -> str:
        """The library's message without query strings (signatures) or any known secret, cut short."""
        text = re.sub(r"\?[^\s\"'<>]*", "?...", text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        first = " ".join(text.split())
        return first[:300] + ("..." if len(first) > 300 else "")


def _credential_source(kind: str, env: Mapping[str, str]) -> str:
    """The variable the store's credential came from, as a refusal should name it."""
    if kind == "az":
        connection = _connection_string(env.get("AZURE_STORAGE_CONNECTION_STRING", ""))
        if connection:
            field = next(
                (f"the {name} in " for name in ("AccountKey", "SharedAccessSignature") if connection.get(name)), ""
            )
            return f"{field}AZURE_STORAGE_CONNECTION_STRING"
        variables = ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN")
        given = next((name for name in variables if env.get(name)), "AZURE_CLIENT_ID and AZURE_TENANT_ID (OIDC)")
        return f"{given} for the account in AZURE_STORAGE_ACCOUNT_NAME"
    if kind == "gs":
        return next((n for n in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SERVICE_ACCOUNT_KEY") if env.get(n)), "")
    return "AWS_ROLE_ARN" if env.get("AWS_ROLE_ARN") and not env.get("AWS_ACCESS_KEY_ID") else "AWS_ACCESS_KEY_ID"


def open_object_store(location: Location, env: Mapping[str, str], workspace: Path) -> ObjectStoreHistory:
    openers = {"s3": _s3, "az": _azure, "gs": _gcs}
    try:
        store = openers[location.kind](location, env, workspace)
    except BaseError as failure:
        raise HistoryError(
            f"The history store {location.url} could not be set up ({type(failure).__name__}): check "
            f"{_CREDENTIAL_HINT[location.kind]}."
        ) from None
    return ObjectStoreHistory(location, store, env)


def _client(endpoint: str, variable: str) -> ClientConfig:
    options: ClientConfig = {"connect_timeout": dt.timedelta(seconds=10), "timeout": dt.timedelta(minutes=10)}
    if not endpoint:
        return options
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise HistoryError(f"{variable} is {endpoint.split('?')[0]!r}, which is not an http(s) URL.")
    if parts.scheme == "http":
        if not is_loopback(parts.hostname):
            raise HistoryError(
                f"{variable} is a plain http endpoint ({parts.hostname}): only loopback test servers may use http; "
                "use https."
            )
        options["allow_http"] = True
    return options


def _s3(location: Location, env: Mapping[str, str], workspace: Path) -> ObjectStore:
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL", "")
    config: dict[str, Any] = {"region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"}
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        config |= {"access_key_id": env["AWS_ACCESS_KEY_ID"], "secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
        if env.get("AWS_SESSION_TOKEN"):
            config["session_token"] = env["AWS_SESSION_TOKEN"]
    elif env.get("AWS_ROLE_ARN"):
        config |= {
            "role_arn": env["AWS_ROLE_ARN"],
            "role_session_name": env.get("AWS_ROLE_SESSION_NAME") or "copilot-metrics-history",
            "web_identity_token_file": env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
            or _github_oidc_token_file(env, AWS_AUDIENCE, "AWS_ROLE_ARN"),
        }
    else:
        raise HistoryError(
            f"The history store {location.url} needs AWS credentials, but AWS_ACCESS_KEY_ID or "
            "AWS_SECRET_ACCESS_KEY is not set: run aws-actions/configure-aws-credentials (OIDC) before this step, "
            "or set AWS_ROLE_ARN with 'permissions: id-token: write'."
        )
    if endpoint:
        config["endpoint"] = endpoint.rstrip("/")
    return S3Store(
        location.bucket,
        prefix=location.prefix or None,
        config=config,  # type: ignore[arg-type]
        client_options=_client(endpoint, "AWS_ENDPOINT_URL"),
        retry_config=RETRY,
    )


def _azure(location: Location, env: Mapping[str, str], workspace: Path) -> ObjectStore:
    config = _azure_config(env, workspace)
    endpoint = config.get("endpoint", "")
    variable = "the BlobEndpoint of AZURE_STORAGE_CONNECTION_STRING" if endpoint else "AZURE_STORAGE_ENDPOINT"
    return AzureStore(
        location.bucket,
        prefix=location.prefix or None,
        config=config,  # type: ignore[arg-type]
        client_options=_client(endpoint, variable),
        retry_config=RETRY,
    )


def _azure_config(env: Mapping[str, str], workspace: Path) -> dict[str, Any]:
    """obstore's Azure settings from the connection string, or from the account name and one credential."""
    connection = env.get("AZURE_STORAGE_CONNECTION_STRING", "")
    if connection:
        return _from_connection_string(_connection_string(connection))
    account = env.get("AZURE_STORAGE_ACCOUNT_NAME", "") or env.get("AZURE_STORAGE_ACCOUNT", "")
    if not account:
        raise HistoryError(
            "An az:// history needs AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_NAME in the "
            "environment: set one in the step's env (see the README's 'Keeping history')."
        )
    config: dict[str, Any] = {"account_name": account}
    if env.get("AZURE_STORAGE_ENDPOINT"):
        config["endpoint"] = env["AZURE_STORAGE_ENDPOINT"].rstrip("/")
    if env.get("AZURE_STORAGE_ACCOUNT_KEY"):
        config["account_key"] = env["AZURE_STORAGE_ACCOUNT_KEY"]
    elif env.get("AZURE_STORAGE_SAS_TOKEN"):
        config["sas_key"] = env["AZURE_STORAGE_SAS_TOKEN"].lstrip("?")
    elif env.get("AZURE_CLIENT_ID") and env.get("AZURE_TENANT_ID"):
        config |= {"client_id": env["AZURE_CLIENT_ID"], "tenant_id": env["AZURE_TENANT_ID"]}
        config["federated_token_file"] = env.get("AZURE_FEDERATED_TOKEN_FILE") or _github_oidc_token_file(
            env, AZURE_AUDIENCE, "AZURE_CLIENT_ID and AZURE_TENANT_ID are"
        )
    else:
        raise HistoryError(
            "AZURE_STORAGE_ACCOUNT_NAME is set but no credential is: set AZURE_STORAGE_ACCOUNT_KEY, "
            "AZURE_STORAGE_SAS_TOKEN, or AZURE_CLIENT_ID and AZURE_TENANT_ID (OIDC, with id-token: write)."
        )
    return config


def _connection_string(text: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in text.split(";") if item.strip())
    return {name.strip(): value.strip() for name, _, value in pairs}


def _from_connection_string(fields: Mapping[str, str]) -> dict[str, Any]:
    if fields.get("UseDevelopmentStorage", "").lower() == "true":
        return {"use_emulator": True}
    account = fields.get("AccountName", "")
    endpoint = fields.get("BlobEndpoint", "")
    if not account and not endpoint:
        raise HistoryError(
            "AZURE_STORAGE_CONNECTION_STRING has neither AccountName nor BlobEndpoint: copy the whole "
            "connection string from the storage account's 'Access keys' page."
        )
    config: dict[str, Any] = {"account_name": account or urlsplit(endpoint).path.strip("/").split("/")[0]}
    if not endpoint and fields.get("EndpointSuffix", "core.windows.net") != "core.windows.net":
        endpoint = f"{fields.get('DefaultEndpointsProtocol', 'https')}://{account}.blob.{fields['EndpointSuffix']}"
    if endpoint:
        config["endpoint"] = endpoint.rstrip("/")
    if fields.get("AccountKey"):
        config["account_key"] = fields["AccountKey"]
    elif fields.get("SharedAccessSignature"):
        config["sas_key"] = fields["SharedAccessSignature"].lstrip("?")
    else:
        raise HistoryError(
            "AZURE_STORAGE_CONNECTION_STRING has no AccountKey or SharedAccessSignature: copy the whole "
            "connection string from the storage account's 'Access keys' page."
        )
    return config


def _github_oidc_token_file(env: Mapping[str, str], audience: str, variables: str) -> str:
    """A file holding the job's OIDC token for `audience`, which the cloud exchanges for its own
    credentials (what the clouds' login actions do)."""
    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", ""), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not url or not bearer:
        raise HistoryError(
            f"{variables} set for OIDC, but the job cannot request an OIDC token: "
            "give the job 'permissions: id-token: write'."
        )
    try:
        with new_session() as session:
            response = session.get(
                url, params={"audience": audience}, headers={"Authorization": f"Bearer {bearer}"}, timeout=timeout()
            )
            token = response.json().get("value") if response.ok else None
    except (requests.RequestException, ValueError, AttributeError):
        token = None
    if not isinstance(token, str):
        raise HistoryError(
            "GitHub did not hand out the job's OIDC token: check 'permissions: id-token: write' and re-run the job."
        )
    with tempfile.NamedTemporaryFile(
        "w", prefix="github-oidc-", dir=env.get("RUNNER_TEMP") or None, delete=False
    ) as file:
        file.write(token)
    return file.name


def _gcs(location: Location, env: Mapping[str, str], workspace: Path) -> ObjectStore:
    config: dict[str, Any] = {}
    if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        config["application_credentials"] = env["GOOGLE_APPLICATION_CREDENTIALS"]
    elif env.get("GOOGLE_SERVICE_ACCOUNT_KEY"):
        config["service_account_key"] = env["GOOGLE_SERVICE_ACCOUNT_KEY"]
    else:
        raise HistoryError(
            f"The history store {location.url} needs Google credentials, but GOOGLE_APPLICATION_CREDENTIALS is "
            "not set: run google-github-actions/auth before this step, or use GCS's S3-compatible endpoint "
            "with an s3:// history (see the README)."
        )
    return GCSStore(
        location.bucket,
        prefix=location.prefix or None,
        config=config,  # type: ignore[arg-type]
        client_options=_client("", ""),
        retry_config=RETRY,
    )
