"""Azurite, Microsoft's Azure Storage emulator, as a child process and as the emulator's blob store."""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote, urlsplit

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import (
    BlobClient,
    BlobSasPermissions,
    BlobServiceClient,
    generate_blob_sas,
)

ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key, published in Microsoft's Azurite documentation.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_LISTENING = re.compile(r"listens on (http://\S+)")
_START_TIMEOUT = 60.0


class Azurite:
    """Runs `azurite-blob` on a free loopback port until the context exits."""

    def __init__(self, node_modules: Path, location: Path) -> None:
        self._main = node_modules / "azurite" / "dist" / "src" / "blob" / "main.js"
        self._location = location
        self._process: subprocess.Popen[str] | None = None
        self.account_url = ""

    def __enter__(self) -> Azurite:
        self._location.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                "node",
                str(self._main),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--location",
                str(self._location),
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--silent",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            origin = _wait_for_origin(self._process)
            _wait_for_connect(origin)
        except BaseException:
            self._stop()
            raise
        self.account_url = f"{origin}/{ACCOUNT}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def service(self) -> BlobServiceClient:
        return BlobServiceClient(self.account_url, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY})

    def _stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def _wait_for_origin(process: subprocess.Popen[str]) -> str:
    # Azurite prints the port it bound; a reader thread keeps draining its output afterwards
    # so a full pipe can never stall it.
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            return match.group(1).rstrip("/")
    raise RuntimeError("Azurite did not start:\n" + "".join(seen))


def _drain(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _wait_for_connect(origin: str) -> None:
    address = urlsplit(origin)
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        try:
            with socket.create_connection((address.hostname, address.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class AzuriteBackend:
    """The emulator's `BlobBackend` protocol served by Azurite: SAS URLs signed with the dev key."""

    def __init__(self, azurite: Azurite, container: str, ttl: timedelta = timedelta(hours=1)) -> None:
        self._service = azurite.service()
        self._service.create_container(container)
        self._account_url = azurite.account_url
        self.container = container
        self._ttl = ttl

    def upload_url(self, name: str) -> str:
        return self._sas_url(name, BlobSasPermissions(create=True, write=True))

    def download_url(self, name: str) -> str:
        return self._sas_url(name, BlobSasPermissions(read=True))

    def read(self, name: str) -> bytes | None:
        try:
            return self._blob(name).download_blob().readall()
        except ResourceNotFoundError:
            return None

    def content_type(self, name: str) -> str | None:
        try:
            settings = self._blob(name).get_blob_properties().content_settings
        except ResourceNotFoundError:
            return None
        return settings.content_type

    def _blob(self, name: str) -> BlobClient:
        return self._service.get_blob_client(self.container, name)

    def _sas_url(self, name: str, permission: BlobSasPermissions) -> str:
        sas = generate_blob_sas(
            ACCOUNT,
            self.container,
            name,
            account_key=ACCOUNT_KEY,
            permission=permission,
            expiry=datetime.now(UTC) + self._ttl,
        )
        return f"{self._account_url}/{self.container}/{quote(name, safe='/')}?{sas}"
