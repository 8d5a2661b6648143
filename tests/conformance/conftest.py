"""Fixtures of the conformance tier: Azurite, the emulator backed by it, and the official client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from conformance.azurite import Azurite, AzuriteBackend
from conformance.official import NODE_MODULES, OfficialClient, missing_tools, node_env
from conformance.recorder import RecordingProxy
from emulator import Emulator


@pytest.fixture(scope="session")
def node_modules() -> Path:
    reason = missing_tools()
    if reason is not None:
        # CI must prove conformance; a developer without node just gets told what is missing.
        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance tier cannot run under CI: {reason}")
        pytest.skip(f"conformance tier skipped: {reason}")
    return NODE_MODULES


@pytest.fixture(scope="session")
def azurite(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    with Azurite(node_modules, tmp_path_factory.mktemp("azurite")) as running:
        yield running


@pytest.fixture
def azurite_backend(azurite: Azurite) -> AzuriteBackend:
    # A container per test keeps tests independent while sharing one Azurite process.
    return AzuriteBackend(azurite, container=f"results-{uuid4().hex}")


@pytest.fixture
def proxy(azurite: Azurite) -> Iterator[RecordingProxy]:
    """A recording proxy in front of Azurite, for `RecordingBackend`."""
    origin = urlsplit(azurite.account_url)
    with RecordingProxy(f"{origin.scheme}://{origin.netloc}") as recording:
        yield recording


@pytest.fixture
def emu(tmp_path: Path, azurite_backend: AzuriteBackend) -> Iterator[Emulator]:
    """The emulator's results service, handing out SAS URLs into Azurite."""
    with Emulator(tmp_path / "emulator") as emulator:
        emulator.blob_backend = azurite_backend
        yield emulator


@pytest.fixture
def emu_own_store(tmp_path: Path, node_modules: Path) -> Iterator[Emulator]:
    """The emulator with its own blob store, the one the unit and end-to-end tiers rely on."""
    with Emulator(tmp_path / "emulator-own") as emulator:
        yield emulator


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def official(emu: Emulator, workspace: Path) -> OfficialClient:
    return OfficialClient(node_env(emu.env(), workspace))


@pytest.fixture
def official_own_store(emu_own_store: Emulator, workspace: Path) -> OfficialClient:
    return OfficialClient(node_env(emu_own_store.env(), workspace))
