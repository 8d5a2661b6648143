"""Workflow artifacts through the Actions results service (the "v4" artifact protocol).

The upload is streamed end to end: files are read in chunks into a zip that is cut into blob
blocks as it grows, so memory stays flat whatever the report size. The sha256 and size that
FinalizeArtifact records are computed on exactly the bytes handed to the blob store.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import ArtifactError, InputError
from .readahead import ReadAhead
from .transport import (
    MAX_ERROR_BYTES,
    Retry,
    RetryPolicy,
    WaitTooLong,
    error_message,
    json_body,
    new_session,
    retry_after_seconds,
    timeout,
    with_retries,
)
from .workflow import SecretSink
from .zipstream import zip_stream

_SERVICE = "/twirp/github.actions.results.api.v1.ArtifactService/"
_FORBIDDEN_IN_NAME = {
    '"': "double quote",
    ":": "colon",
    "<": "less than",
    ">": "greater than",
    "|": "vertical bar",
    "*": "asterisk",
    "?": "question mark",
    "\r": "carriage return",
    "\n": "line feed",
    "\\": "backslash",
    "/": "forward slash",
}
# Statuses the official client also retries; anything else is the caller's mistake.
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Small blocks keep memory flat (at most `concurrency` of them are held at once) and, with a
# compressed stream of about a tenth of the report's size, cost no measurable speed.
BLOCK_SIZE = 1024 * 1024
DEFAULT_CONCURRENCY = 5
# How much of the zip may be made ahead of the blob client: about 130 MiB of a users report at level 6.
ZIP_AHEAD_BYTES = 8 * 1024 * 1024
MAX_CONCURRENCY = 300
ZIP_CONTENT_TYPE = "application/zip"


def validate_artifact_name(name: str) -> None:
    """Raise ValueError when the results service would refuse `name`."""
    if not name:
        raise ValueError("is empty: give the artifact a name, or leave the input out for a derived one.")
    for char, label in _FORBIDDEN_IN_NAME.items():
        if char in name:
            raise ValueError(
                f"is {name!r}, which contains a {label} ({char!r}); artifact names may not contain "
                'any of " : < > | * ? \\ / or line breaks.'
            )


@dataclass(frozen=True)
class ArtifactRuntime:
    """What the runner hands a container action for talking to the results service."""

    token: str
    results_origin: str
    run_backend_id: str
    job_backend_id: str
    server_url: str
    repository: str
    run_id: str
    concurrency: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ArtifactRuntime:
        token = env.get("ACTIONS_RUNTIME_TOKEN", "")
        results_url = env.get("ACTIONS_RESULTS_URL", "")
        if not token or not results_url:
            missing = " and ".join(
                name for name in ("ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL") if not env.get(name)
            )
            raise InputError(
                f"{missing} is not set, so no artifact can be uploaded: run this action as a step of a "
                "GitHub Actions job (the runner provides both), or set 'upload: false' to only "
                "download the files."
            )
        parts = urlsplit(results_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("ACTIONS_RESULTS_URL is not a URL: run this action as a step of a GitHub Actions job.")
        run_id, job_id = backend_ids(token)
        return cls(
            token=token,
            results_origin=f"{parts.scheme}://{parts.netloc}",
            run_backend_id=run_id,
            job_backend_id=job_id,
            server_url=env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
            repository=env.get("GITHUB_REPOSITORY", ""),
            run_id=env.get("GITHUB_RUN_ID", ""),
            concurrency=_concurrency(env.get("ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY", "")),
        )

    def artifact_url(self, artifact_id: int) -> str:
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}/artifacts/{artifact_id}"


def backend_ids(runtime_token: str) -> tuple[str, str]:
    """The workflow run and job backend ids that the runtime token's `scp` claim carries."""
    invalid = InputError(
        "ACTIONS_RUNTIME_TOKEN is invalid or missing claims: run this action as a step of a "
        "GitHub Actions job, or set 'upload: false'."
    )
    pieces = runtime_token.split(".")
    if len(pieces) != 3:
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    scopes = payload.get("scp") if isinstance(payload, dict) else None
    for scope in scopes.split(" ") if isinstance(scopes, str) else ():
        fields = scope.split(":")
        if fields[0] == "Actions.Results" and len(fields) == 3 and fields[1] and fields[2]:
            return fields[1], fields[2]
    raise invalid


def _concurrency(value: str) -> int:
    if not value:
        return DEFAULT_CONCURRENCY
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise InputError(
            f"ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY is {value!r}: use a whole number from 1 to {MAX_CONCURRENCY}."
        )
    return min(int(value), MAX_CONCURRENCY)


@dataclass(frozen=True)
class UploadOptions:
    name: str
    compression_level: int = 6
    retention_days: int = 0  # 0: the repository's default
    overwrite: bool = True


@dataclass(frozen=True)
class UploadedArtifact:
    id: int
    name: str
    url: str
    digest: str  # hex sha256 of the uploaded zip, without a "sha256:" prefix
    size: int


def upload_artifact(
    files: Sequence[Path],
    root: Path,
    options: UploadOptions,
    runtime: ArtifactRuntime,
    on_secret: SecretSink,
    policy: RetryPolicy | None = None,
) -> UploadedArtifact:
    """Zip `files` (named relative to `root`) into the artifact `options.name` and finalize it."""
    validate_artifact_name(options.name)
    # Everything that can fail here, before the service is asked to replace anything.
    entries = zip_entries(files, root)
    connect, read = timeout()
    service = ResultsService(runtime, policy or RetryPolicy(first_delay=3.0, multiplier=1.5))
    # The zip starts now, so that its deflate runs while the artifact is created and the blob client loads.
    with ReadAhead(zip_stream(entries, options.compression_level), ZIP_AHEAD_BYTES) as zipped:
        upload_url = service.create(options)
        on_secret(upload_url)
        on_secret(urlsplit(upload_url).query)
        try:
            sent = _HashingCounter(iter(zipped))
            upload_blob(upload_url, sent, runtime.concurrency, (connect, read))
            digest = sent.sha256.hexdigest()
            artifact_id = service.finalize(options.name, sent.size, digest)
        except ArtifactError as failure:
            if not service.replaced:
                raise
            raise ArtifactError(
                f"{failure} The earlier artifact named {options.name!r} was already deleted ('overwrite: true'), "
                "so this run has none: re-run the job to upload it again."
            ) from None
    return UploadedArtifact(
        id=artifact_id,
        name=options.name,
        url=runtime.artifact_url(artifact_id),
        digest=digest,
        size=sent.size,
    )


def zip_entries(files: Sequence[Path], root: Path) -> list[tuple[Path, str]]:
    """(file, entry name) pairs: names relative to `root`, with forward slashes, no directories."""
    root = root.resolve()
    entries = []
    for file in files:
        resolved = file.resolve()
        if root not in resolved.parents:
            raise ArtifactError(f"{file} is not inside the artifact's root folder {root}.")
        entries.append((resolved, resolved.relative_to(root).as_posix()))
    return entries


class _HashingCounter:
    """Passes chunks through while adding them to a sha256 and a byte count."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.sha256 = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if chunk:
                self.sha256.update(chunk)
                self.size += len(chunk)
                yield chunk


def upload_blob(
    upload_url: str, chunks: _HashingCounter, concurrency: int, timeouts: tuple[float, float] | None = None
) -> None:
    """Send the zip to the signed block-blob URL, blocks in parallel."""
    # The Azure SDK is imported here, not at start-up: only uploads need it, and it is slow to import.
    from azure.core.exceptions import AzureError
    from azure.core.pipeline.transport import RequestsTransport
    from azure.storage.blob import BlobClient, ContentSettings, ExponentialRetry

    logging.getLogger("azure").setLevel(logging.WARNING)
    connect, read = timeouts or timeout()
    policy = RetryPolicy()
    client = BlobClient.from_blob_url(
        upload_url,
        max_block_size=BLOCK_SIZE,
        max_single_put_size=BLOCK_SIZE,
        # The SDK retries each block itself (a block is its unit of work), on our schedule.
        retry_policy=ExponentialRetry(
            initial_backoff=int(policy.first_delay),
            increment_base=int(policy.multiplier),
            retry_total=policy.attempts,
            random_jitter_range=1,
        ),
        # Our session: the SDK's own would read ~/.netrc and the environment's settings.
        transport=RequestsTransport(
            session=new_session(pool_size=concurrency, same_origin_redirects=True),
            session_owner=True,
            connection_timeout=connect,
            read_timeout=read,
        ),
        user_agent=None,
    )
    try:
        client.upload_blob(
            iter(chunks),
            blob_type="BlockBlob",
            overwrite=True,
            content_settings=ContentSettings(content_type=ZIP_CONTENT_TYPE),
            max_concurrency=concurrency,
        )
    except AzureError as failure:
        code = getattr(failure, "error_code", None) or type(failure).__name__
        raise ArtifactError(
            f"Uploading the artifact to blob storage failed ({code}). If this repeats, check that the "
            "runner can reach *.blob.core.windows.net, then re-run the job."
        ) from None
    finally:
        client.close()


class ResultsService:
    """The Twirp JSON calls of the results service, retried as the official client retries them."""

    def __init__(self, runtime: ArtifactRuntime, policy: RetryPolicy) -> None:
        self._runtime = runtime
        self._policy = policy
        self._session = new_session()
        self._session.headers["Authorization"] = f"Bearer {runtime.token}"
        # True once an earlier artifact of the same name was deleted to make room for this one.
        self.replaced = False

    def create(self, options: UploadOptions) -> str:
        """Create the artifact and return its upload URL. An artifact of the same name is deleted
        only when the service refuses the create for it, the latest moment the protocol allows."""
        body: dict[str, Any] = {
            **self._ids(),
            "name": options.name,
            "version": 7,
            "mime_type": ZIP_CONTENT_TYPE,
        }
        if options.retention_days:
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=options.retention_days)
            body["expires_at"] = expires.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            answer = self._call("CreateArtifact", body)
        except _Conflict:
            if not options.overwrite:
                raise ArtifactError(
                    f"An artifact named {options.name!r} already exists in this workflow run: set "
                    "'overwrite: true' to replace it, or choose another 'artifact-name'."
                ) from None
            self._delete(options.name)
            answer = self._call("CreateArtifact", body)
        url = _field(answer, "signed_upload_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ArtifactError("CreateArtifact answered without an upload URL: re-run the job.")
        return url

    def finalize(self, name: str, size: int, sha256_hex: str) -> int:
        answer = self._call(
            "FinalizeArtifact", {**self._ids(), "name": name, "size": str(size), "hash": f"sha256:{sha256_hex}"}
        )
        artifact_id = str(_field(answer, "artifact_id") or "")
        if not artifact_id.isdigit():
            raise ArtifactError("FinalizeArtifact answered without an artifact id: re-run the job.")
        return int(artifact_id)

    def _delete(self, name: str) -> None:
        # upload-artifact ignores a failed delete too: the create that follows says what is wrong.
        with contextlib.suppress(ArtifactError):
            self._call("DeleteArtifact", {**self._ids(), "name": name})
            self.replaced = True

    def _ids(self) -> dict[str, str]:
        return {
            "workflow_run_backend_id": self._runtime.run_backend_id,
            "workflow_job_run_backend_id": self._runtime.job_backend_id,
        }

    def _call(self, method: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        url = self._runtime.results_origin + _SERVICE + method
        try:
            outcome = with_retries(self._policy, lambda _: self._attempt(method, url, body))
        except WaitTooLong as wait:
            raise ArtifactError(
                f"The results service asked to wait {wait} before trying {method} again, longer than this "
                "action waits: re-run the job later."
            ) from None
        except requests.RequestException as failure:
            raise ArtifactError(
                f"The results service could not be reached for {method} ({type(failure).__name__}): re-run the job."
            ) from None
        if not isinstance(outcome, Retry):
            return outcome
        raise ArtifactError(
            f"The results service kept failing {method} ({outcome.problem}) after {self._policy.attempts} "
            "attempts: GitHub Actions may be having an incident; re-run the job later."
        )

    def _attempt(self, method: str, url: str, body: Mapping[str, Any]) -> Mapping[str, Any] | Retry:
        with self._session.post(url, json=body, timeout=timeout(), stream=True) as response:
            if response.status_code != 200:
                _raise_unless_retryable(method, response)
                return Retry(f"HTTP {response.status_code}", retry_after_seconds(response))
            answer = json_body(response, MAX_ERROR_BYTES)
            if not isinstance(answer, dict):
                return Retry("the answer was not a JSON object")
            if answer.get("ok") is False:
                raise ArtifactError(f"The results service answered {method} with ok: false: re-run the job.")
            return answer


class _Conflict(ArtifactError):
    """CreateArtifact found an artifact of that name in the run (HTTP 409)."""


def _raise_unless_retryable(method: str, response: requests.Response) -> None:
    status = response.status_code
    message = error_message(response, key="msg")
    quota = "insufficient usage" in message.lower()
    if status in _RETRYABLE_STATUS and not quota:
        return
    if status == 409:
        raise _Conflict(message)
    if quota:
        raise ArtifactError(
            "GitHub refused the artifact: the account's artifact storage quota is used up. Delete old "
            "artifacts (or shorten their retention), or raise the storage limit in the billing settings, "
            "then re-run the job."
        )
    if status in (401, 403):
        raise ArtifactError(
            f"The results service refused the runner's token for {method} (HTTP {status}): the token "
            "may have expired in a very long job; re-run the job."
        )
    raise ArtifactError(f"The results service refused {method} (HTTP {status}: {message or 'no details'}).")


def _field(answer: Mapping[str, Any], snake_name: str) -> Any:
    """A response field by its proto name, whether the service spells it snake_case or camelCase."""
    if snake_name in answer:
        return answer[snake_name]
    head, *rest = snake_name.split("_")
    return answer.get(head + "".join(word.title() for word in rest))
