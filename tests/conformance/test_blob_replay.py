"""One blob request sequence, replayed against the emulator's store and Azurite, fares alike."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import pytest

from conformance.azurite import AzuriteBackend
from conformance.official import OfficialClient
from conformance.recorder import (
    BlobBackend,
    BlobRequest,
    Outcome,
    RecordingBackend,
    RecordingProxy,
    replay,
    with_bad_signature,
)
from conformance.trees import files_of, make_tree
from emulator import Emulator

VERSION = {"x-ms-version": "2025-01-05"}
CREATED = Outcome(201, None)


def block_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def put_block(ident: str, body: bytes) -> BlobRequest:
    params = (("comp", "block"), ("blockid", block_id(ident)))
    return BlobRequest("PUT", "", params, tuple(VERSION.items()), body, 0)


def put_block_list(*entries: tuple[str, str], content_type: str = "application/zip") -> BlobRequest:
    listed = "".join(f"<{kind}>{block_id(ident)}</{kind}>" for kind, ident in entries)
    body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{listed}</BlockList>'.encode()
    headers = {**VERSION, "content-type": "application/xml", "x-ms-blob-content-type": content_type}
    return BlobRequest("PUT", "", (("comp", "blocklist"),), tuple(headers.items()), body, 0)


def put_blob(body: bytes, blob_type: str | None = "BlockBlob") -> BlobRequest:
    headers = {**VERSION, "x-ms-blob-content-type": "application/x-ndjson"}
    if blob_type is not None:
        headers["x-ms-blob-type"] = blob_type
    return BlobRequest("PUT", "", (), tuple(headers.items()), body, 0)


class Stores:
    """The emulator's own blob store and Azurite, each given the same blob name."""

    def __init__(self, own: BlobBackend, azurite: BlobBackend) -> None:
        self.own = own
        self.azurite = azurite

    def replay(
        self, sequence: Sequence[BlobRequest], name: str, bad_sas: bool = False
    ) -> tuple[list[Outcome], list[Outcome]]:
        """Outcomes on (emulator, Azurite), after checking both reached the same state."""
        sign = with_bad_signature if bad_sas else str
        on_own = replay(sequence, sign(self.own.upload_url(name)))
        on_azurite = replay(sequence, sign(self.azurite.upload_url(name)))
        assert statuses(on_own) == statuses(on_azurite), f"emulator {on_own} != Azurite {on_azurite}"
        assert self.own.read(name) == self.azurite.read(name)
        assert self.own.content_type(name) == self.azurite.content_type(name)
        return on_own, on_azurite


def statuses(outcomes: Sequence[Outcome]) -> list[int]:
    return [outcome.status for outcome in outcomes]


@pytest.fixture
def stores(emu_own_store: Emulator, azurite_backend: AzuriteBackend) -> Stores:
    return Stores(emu_own_store.blob_backend, azurite_backend)


@pytest.fixture
def official_sequence(
    emu: Emulator,
    official: OfficialClient,
    azurite_backend: AzuriteBackend,
    proxy: RecordingProxy,
    tmp_path: Path,
) -> list[BlobRequest]:
    emu.blob_backend = RecordingBackend(azurite_backend, proxy)
    root = tmp_path / "report"
    contents = make_tree(root, big=True)
    official.upload("recorded", root, files_of(root, contents))
    return proxy.uploads()


def test_official_upload_replays_alike(stores: Stores, official_sequence: list[BlobRequest]) -> None:
    operations = [request.operation() for request in official_sequence]
    assert operations.count("PUT block") >= 3
    assert operations[-1] == "PUT blocklist"

    on_own, on_azurite = stores.replay(official_sequence, "official.zip")

    assert on_own == on_azurite == [CREATED] * len(official_sequence)
    assert stores.own.content_type("official.zip") == "application/zip"


def test_bad_signature_is_refused_alike(stores: Stores, official_sequence: list[BlobRequest]) -> None:
    on_own, on_azurite = stores.replay(official_sequence, "forged.zip", bad_sas=True)

    # Azure names a bad SAS signature AuthenticationFailed; Azurite calls it AuthorizationFailure.
    assert on_own == [Outcome(403, "AuthenticationFailed")] * len(official_sequence)
    assert statuses(on_azurite) == [403] * len(official_sequence)
    assert stores.own.read("forged.zip") is None


def test_list_naming_an_unstaged_block_is_refused_alike(stores: Stores) -> None:
    sequence = [put_block("block-01", b"staged"), put_block_list(("Latest", "block-02"))]

    on_own, on_azurite = stores.replay(sequence, "unstaged.zip")

    assert on_own == on_azurite == [CREATED, Outcome(400, "InvalidBlockList")]


def test_block_ids_of_different_lengths_are_refused_alike(stores: Stores) -> None:
    sequence = [
        put_block("short", b"one"),
        put_block("much-longer", b"two"),
        put_block_list(("Latest", "short"), ("Latest", "much-longer")),
    ]

    on_own, on_azurite = stores.replay(sequence, "lengths.zip")

    assert on_own == on_azurite
    assert on_own[0] == CREATED
    assert 400 in statuses(on_own[1:])


def test_committed_and_uncommitted_lists_build_the_same_blob(stores: Stores) -> None:
    sequence = [
        put_block("a", b"alpha-"),
        put_block("b", b"beta-"),
        put_block_list(("Uncommitted", "a"), ("Uncommitted", "b")),
        put_block("c", b"gamma"),
        put_block_list(("Committed", "a"), ("Latest", "c")),
    ]

    on_own, on_azurite = stores.replay(sequence, "relisted.zip")

    assert on_own == on_azurite == [CREATED] * len(sequence)
    assert stores.own.read("relisted.zip") == b"alpha-gamma"


def test_single_put_blob_alike(stores: Stores) -> None:
    on_own, on_azurite = stores.replay([put_blob(b'{"day": "2026-10-01"}\n')], "single.ndjson")

    assert on_own == on_azurite == [CREATED]
    assert stores.own.content_type("single.ndjson") == "application/x-ndjson"


def test_put_blob_without_blob_type_is_refused_alike(stores: Stores) -> None:
    on_own, _ = stores.replay([put_blob(b"data", blob_type=None)], "untyped.ndjson")

    assert statuses(on_own) == [400]
