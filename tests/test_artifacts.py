"""The artifact client: zip layout, runtime token, names, and the Twirp calls against the emulator."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from urllib.parse import parse_qsl, quote

import pytest

from action_run import artifact_entries
from copilot_metrics.artifacts import (
    ArtifactRuntime,
    UploadOptions,
    backend_ids,
    upload_artifact,
    validate_artifact_name,
    zip_entries,
)
from copilot_metrics.errors import ArtifactError, InputError
from copilot_metrics.transport import RetryPolicy
from emulator import Emulator, Fault

FAST = RetryPolicy(attempts=3, first_delay=0.01)
QUOTA_ANSWER = b'{"code":"resource_exhausted","msg":"insufficient usage to create artifact"}'


def tree(root: Path) -> list[Path]:
    files = {
        "a.ndjson": b'{"day":"2026-11-01"}\n' * 1000,
        "2026-11-01/b.ndjson": b"x" * 3_000_000,
        "2026-11-02/deeper/c.ndjson": b"",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return [root / name for name in files]


def test_files_outside_the_root_are_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")

    with pytest.raises(ArtifactError, match="not inside"):
        zip_entries([outside], tmp_path / "root")


def jwt(claims: object) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2lnbmF0dXJl"


def test_backend_ids_come_from_the_results_scope() -> None:
    token = jwt({"scp": "Actions.GenericRead:00000000 Actions.Results:run-1:job-2 Actions.UploadArtifacts:x"})
    assert backend_ids(token) == ("run-1", "job-2")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b.c",
        jwt({"scp": "Actions.GenericRead:1"}),
        jwt({"scp": "Actions.Results:only-one"}),
        jwt([1]),
    ],
)
def test_bad_runtime_tokens_are_explained(token: str) -> None:
    with pytest.raises(InputError, match="invalid or missing claims"):
        backend_ids(token)


def test_runtime_reads_the_runner_environment(emu: Emulator) -> None:
    runtime = ArtifactRuntime.from_env({**emu.env(), "ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY": "1000"})

    assert runtime.results_origin == emu.results_url.rstrip("/")
    assert runtime.concurrency == 300
    assert runtime.artifact_url(7) == f"https://github.com/octo/metrics/actions/runs/{emu.run_id}/artifacts/7"


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_bad_upload_concurrency_is_an_input_error(emu: Emulator, value: str) -> None:
    with pytest.raises(InputError, match="ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY"):
        ArtifactRuntime.from_env({**emu.env(), "ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY": value})


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", "a:b", 'a"b', "a<b", "a>b", "a|b", "a*b", "a?b", "a\nb", "a\rb"])
def test_artifact_names_are_checked_like_the_official_client(name: str) -> None:
    with pytest.raises(ValueError):
        validate_artifact_name(name)


def upload(emu: Emulator, root: Path, **options: object) -> tuple[object, list[str]]:
    secrets: list[str] = []
    result = upload_artifact(
        tree(root),
        root,
        UploadOptions(**{"name": "metrics", **options}),  # type: ignore[arg-type]
        ArtifactRuntime.from_env(emu.env()),
        on_secret=secrets.append,
        policy=FAST,
    )
    return result, secrets


def test_upload_finalizes_size_and_digest_of_the_bytes_sent(emu: Emulator, tmp_path: Path) -> None:
    result, secrets = upload(emu, tmp_path, retention_days=3)

    stored = emu.artifacts["metrics"]
    assert stored.blob is not None and stored.finalized
    assert stored.size == len(stored.blob) == result.size  # type: ignore[attr-defined]
    assert stored.hash == "sha256:" + hashlib.sha256(stored.blob).hexdigest() == f"sha256:{result.digest}"  # type: ignore[attr-defined]
    assert stored.content_type == "application/zip"
    assert stored.expires_at is not None
    assert set(artifact_entries(stored.blob)) == {"a.ndjson", "2026-11-01/b.ndjson", "2026-11-02/deeper/c.ndjson"}
    signature = next(dict(parse_qsl(r.query))["sig"] for r in emu.requests if r.host == "blob")
    assert any(quote(signature, safe="") in secret for secret in secrets)  # masked before the upload


@pytest.mark.parametrize(
    "fault",
    [
        Fault(host="results", status=503, path_contains="CreateArtifact"),
        Fault(host="results", status=429, path_contains="FinalizeArtifact"),
        Fault(host="results", body=b"<html>proxy</html>", path_contains="CreateArtifact"),
        Fault(host="results", reset=True, path_contains="FinalizeArtifact"),
        Fault(host="blob", status=500, path_contains="comp=block"),
    ],
)
def test_transient_failures_are_retried(emu: Emulator, tmp_path: Path, fault: Fault) -> None:
    emu.inject(fault)

    upload(emu, tmp_path)

    assert emu.artifacts["metrics"].finalized


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(host="results", status=503, times=3, path_contains="CreateArtifact"), "kept failing CreateArtifact"),
        (Fault(host="results", status=400, path_contains="CreateArtifact"), "refused CreateArtifact"),
        (Fault(host="results", status=401, path_contains="CreateArtifact"), "refused the runner's token"),
        (Fault(host="results", body=b'{"ok": false}', path_contains="FinalizeArtifact"), "ok: false"),
        (
            Fault(
                host="results",
                status=403,
                path_contains="CreateArtifact",
                body=b'{"code":"resource_exhausted","msg":"insufficient usage to create artifact"}',
            ),
            "storage quota",
        ),
    ],
)
def test_lasting_failures_are_explained(emu: Emulator, tmp_path: Path, fault: Fault, message: str) -> None:
    emu.inject(fault)

    with pytest.raises(ArtifactError, match=message):
        upload(emu, tmp_path)

    assert not [a for a in emu.artifacts.values() if a.finalized]


def test_overwrite_deletes_the_existing_artifact_only_when_the_create_is_refused(emu: Emulator, tmp_path: Path) -> None:
    first, _ = upload(emu, tmp_path / "a")
    second, _ = upload(emu, tmp_path / "b")

    assert first.id != second.id  # type: ignore[attr-defined]
    calls = [r.path.rsplit("/", 1)[-1] for r in emu.requests if r.host == "results"]
    assert calls == [
        "CreateArtifact",
        "FinalizeArtifact",
        "CreateArtifact",
        "DeleteArtifact",
        "CreateArtifact",
        "FinalizeArtifact",
    ]


def test_conflict_without_overwrite_names_the_input(emu: Emulator, tmp_path: Path) -> None:
    upload(emu, tmp_path / "a")

    with pytest.raises(ArtifactError, match="overwrite: true"):
        upload(emu, tmp_path / "b", overwrite=False)


def test_a_lasting_blob_failure_stops_the_zip_and_finalizes_nothing(emu: Emulator, tmp_path: Path) -> None:
    # The zip runs ahead of the blob upload: when the upload gives up, the zip's threads end too.
    emu.inject(Fault(host="blob", status=500, times=100, path_contains="comp=block"))

    with pytest.raises(ArtifactError, match="Uploading the artifact to blob storage failed"):
        upload(emu, tmp_path)

    assert not [a for a in emu.artifacts.values() if a.finalized]
    assert not [t for t in threading.enumerate() if t.name == "readahead" or t.name.startswith("deflate")]


def test_a_file_that_cannot_be_read_fails_the_upload_before_it_is_finalized(emu: Emulator, tmp_path: Path) -> None:
    files = tree(tmp_path)
    files[1].unlink()  # gone between the download and the zip

    with pytest.raises(FileNotFoundError):
        upload_artifact(
            files,
            tmp_path,
            UploadOptions(name="metrics"),
            ArtifactRuntime.from_env(emu.env()),
            lambda _: None,
            policy=FAST,
        )

    assert not [a for a in emu.artifacts.values() if a.finalized]
