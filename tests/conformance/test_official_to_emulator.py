"""The official client uploads to the emulator, which must accept and record it as GitHub would."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conformance.azurite import AzuriteBackend
from conformance.official import OfficialClient, OfficialClientError
from conformance.trees import files_of, make_tree, ndjson_lines, read_tree
from emulator import Emulator


def stored_blob(emu: Emulator, name: str) -> bytes:
    blob = emu.artifacts[name].blob
    assert blob is not None, f"the emulator has no committed blob for {name!r}"
    return bytes(blob)


def assert_finalized_as_uploaded(emu: Emulator, name: str, answer: dict[str, object], blob: bytes) -> None:
    stored = emu.artifacts[name]
    assert stored.finalized
    assert stored.id == answer["id"]
    assert stored.size == answer["size"] == len(blob)
    assert stored.hash == f"sha256:{answer['digest']}" == f"sha256:{hashlib.sha256(blob).hexdigest()}"


def unzip(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_zip_upload_into_azurite(
    emu: Emulator, official: OfficialClient, azurite_backend: AzuriteBackend, tmp_path: Path
) -> None:
    root = tmp_path / "report"
    contents = make_tree(root, big=True)

    answer = official.upload("report", root, files_of(root, contents), compression_level=6)

    blob_name = emu.artifacts["report"].blob_name
    blob = azurite_backend.read(blob_name)
    assert blob is not None
    assert_finalized_as_uploaded(emu, "report", answer, blob)
    assert stored_blob(emu, "report") == blob
    assert azurite_backend.content_type(blob_name) == "application/zip"
    assert unzip(blob) == contents


def test_zip_upload_into_the_emulators_own_store(
    emu_own_store: Emulator, official_own_store: OfficialClient, tmp_path: Path
) -> None:
    root = tmp_path / "report"
    contents = make_tree(root, big=True)

    answer = official_own_store.upload("report", root, files_of(root, contents), compression_level=6)

    blob = stored_blob(emu_own_store, "report")
    assert_finalized_as_uploaded(emu_own_store, "report", answer, blob)
    assert emu_own_store.artifacts["report"].content_type == "application/zip"
    assert unzip(blob) == contents
    assert not emu_own_store.leaks


@pytest.mark.parametrize("store", ["azurite", "own"])
def test_unarchived_single_file(store: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    emu: Emulator = request.getfixturevalue("emu" if store == "azurite" else "emu_own_store")
    client: OfficialClient = request.getfixturevalue("official" if store == "azurite" else "official_own_store")
    shard = tmp_path / "users-1-day_2026-10-01.ndjson"
    shard.write_bytes(ndjson_lines(500, seed=3))

    answer = client.upload("ignored", tmp_path, [shard], skip_archive=True)

    assert set(emu.artifacts) == {shard.name}
    blob = stored_blob(emu, shard.name)
    assert blob == shard.read_bytes()
    assert_finalized_as_uploaded(emu, shard.name, answer, blob)


def test_round_trip_through_the_emulator(
    emu_own_store: Emulator, official_own_store: OfficialClient, tmp_path: Path
) -> None:
    root = tmp_path / "report"
    contents = make_tree(root)
    answer = official_own_store.upload("report", root, files_of(root, contents))

    [listed] = official_own_store.list()
    assert (listed["id"], listed["name"], listed["size"], listed["digest"]) == (
        answer["id"],
        "report",
        answer["size"],
        f"sha256:{answer['digest']}",
    )
    downloaded = official_own_store.download(answer["id"], tmp_path / "dest", listed["digest"])
    assert downloaded["digestMismatch"] is False
    assert read_tree(tmp_path / "dest") == contents


def test_retention_days_become_the_expiry(emu: Emulator, official: OfficialClient, tmp_path: Path) -> None:
    root = tmp_path / "report"
    contents = make_tree(root)

    official.upload("kept", root, files_of(root, contents), retention_days=5)

    expires_at = emu.artifacts["kept"].expires_at
    assert expires_at is not None
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=5))) < timedelta(minutes=5)


def test_same_name_twice_is_refused_like_github(emu: Emulator, official: OfficialClient, tmp_path: Path) -> None:
    root = tmp_path / "report"
    contents = make_tree(root)
    official.upload("twice", root, files_of(root, contents))

    with pytest.raises(OfficialClientError) as refused:
        official.upload("twice", root, files_of(root, contents))

    assert "already exists" in refused.value.output
