"""Our artifact client uploads through the emulator into Azurite; the official client takes over."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from conformance.azurite import AzuriteBackend
from conformance.official import OfficialClient
from conformance.recorder import RecordingBackend, RecordingProxy, replay
from conformance.trees import files_of, make_tree, read_tree
from copilot_metrics.artifacts import (
    ArtifactRuntime,
    UploadedArtifact,
    UploadOptions,
    upload_artifact,
)
from emulator import Emulator


def upload_ours(emu: Emulator, root: Path, files: list[Path], name: str, level: int = 6) -> UploadedArtifact:
    runtime = ArtifactRuntime.from_env(emu.env())
    options = UploadOptions(name=name, compression_level=level, retention_days=0, overwrite=True)
    return upload_artifact(files, root, options, runtime=runtime, on_secret=lambda secret: None)


@pytest.fixture
def recorded_emu(emu: Emulator, azurite_backend: AzuriteBackend, proxy: RecordingProxy) -> Emulator:
    emu.blob_backend = RecordingBackend(azurite_backend, proxy)
    return emu


@pytest.mark.parametrize("level", [0, 9])
def test_official_client_lists_and_downloads_what_we_uploaded(
    recorded_emu: Emulator, official: OfficialClient, proxy: RecordingProxy, tmp_path: Path, level: int
) -> None:
    root = tmp_path / "report"
    contents = make_tree(root, big=True)

    ours = upload_ours(recorded_emu, root, files_of(root, contents), "copilot-metrics", level)

    listed = [item for item in official.list() if item["name"] == "copilot-metrics"]
    assert [(item["id"], item["size"], item["digest"]) for item in listed] == [
        (ours.id, ours.size, f"sha256:{ours.digest}")
    ]
    dest = tmp_path / "downloaded"
    answer = official.download(ours.id, dest, expected_hash=f"sha256:{ours.digest}")
    assert answer["digestMismatch"] is False
    assert read_tree(dest) == contents

    operations = [request.operation() for request in proxy.uploads()]
    assert operations.count("PUT block") >= 2, operations
    assert operations[-1] == "PUT blocklist"


@pytest.mark.parametrize("level", [0, 9])
def test_our_zip_has_the_official_layout(
    emu: Emulator, azurite_backend: AzuriteBackend, tmp_path: Path, level: int
) -> None:
    root = tmp_path / "report"
    contents = make_tree(root)

    ours = upload_ours(emu, root, files_of(root, contents), "layout", level)

    blob_name = emu.artifacts["layout"].blob_name
    blob = azurite_backend.read(blob_name)
    assert blob is not None
    assert (len(blob), hashlib.sha256(blob).hexdigest()) == (ours.size, ours.digest)
    assert azurite_backend.content_type(blob_name) == "application/zip"
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = archive.infolist()
        assert sorted(info.filename for info in infos) == sorted(contents)
        expected = zipfile.ZIP_STORED if level == 0 else zipfile.ZIP_DEFLATED
        assert {info.compress_type for info in infos} == {expected}
        assert {info.filename: archive.read(info) for info in infos} == contents


def test_overwrite_leaves_one_artifact_the_official_client_downloads(
    emu: Emulator, official: OfficialClient, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    make_tree(first)
    (second / "only.ndjson").parent.mkdir(parents=True)
    (second / "only.ndjson").write_bytes(b'{"day": "2026-10-02"}\n')

    upload_ours(emu, first, sorted(p for p in first.rglob("*") if p.is_file()), "daily")
    again = upload_ours(emu, second, [second / "only.ndjson"], "daily")

    assert [item["id"] for item in official.list() if item["name"] == "daily"] == [again.id]
    official.download(again.id, tmp_path / "downloaded")
    assert read_tree(tmp_path / "downloaded") == {"only.ndjson": b'{"day": "2026-10-02"}\n'}


def test_artifact_url_names_the_run_and_artifact(emu: Emulator, tmp_path: Path) -> None:
    root = tmp_path / "report"
    contents = make_tree(root)
    env = emu.env()

    ours = upload_ours(emu, root, files_of(root, contents), "linked")

    assert ours.url == (
        f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}/artifacts/{ours.id}"
    )


def test_our_blob_requests_replay_alike_on_both_stores(
    recorded_emu: Emulator,
    proxy: RecordingProxy,
    azurite_backend: AzuriteBackend,
    emu_own_store: Emulator,
    tmp_path: Path,
) -> None:
    root = tmp_path / "report"
    contents = make_tree(root, big=True)
    upload_ours(recorded_emu, root, files_of(root, contents), "recorded", level=6)
    sequence = proxy.uploads()
    azurite_store = azurite_backend
    own_store = emu_own_store.blob_backend

    on_azurite = replay(sequence, azurite_store.upload_url("replayed.zip"))
    on_own = replay(sequence, own_store.upload_url("replayed.zip"))

    assert on_own == on_azurite
    assert {outcome.status for outcome in on_own} == {201}
    assert own_store.read("replayed.zip") == azurite_store.read("replayed.zip")
    assert own_store.content_type("replayed.zip") == azurite_store.content_type("replayed.zip")
