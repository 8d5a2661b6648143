"""A block-blob store speaking the subset of Azure Blob REST that artifact uploads use."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote
from xml.etree import ElementTree

from . import azure
from .server import FileSlice, Piece, Request, Response, Traffic, parse_range, pieces_length, read_pieces, slice_pieces

CONTAINER = "actions-results"
SAS_TTL = 6 * 3600.0
MAX_BLOCK_ID_BYTES = 64


class BlobBackend(Protocol):
    """Where artifact blobs live: turns a blob name into SAS URLs and reads blobs back."""

    def upload_url(self, name: str) -> str: ...

    def download_url(self, name: str) -> str: ...

    def read(self, name: str) -> bytes | None: ...

    def content_type(self, name: str) -> str | None: ...


@dataclass
class Blob:
    committed: list[tuple[str, FileSlice]] = field(default_factory=list)
    uncommitted: dict[str, FileSlice] = field(default_factory=dict)
    exists: bool = False
    content_type: str = "application/octet-stream"
    content_md5: str | None = None
    etag: str = ""
    created: datetime = field(default_factory=azure.now)
    modified: datetime = field(default_factory=azure.now)

    def pieces(self) -> list[Piece]:
        return [piece for _, piece in self.committed]

    def touch(self) -> None:
        self.exists = True
        self.modified = azure.now()
        self.etag = f'"0x{uuid.uuid4().hex[:15].upper()}"'


class BlobStore:
    """The store's state plus the HTTP handler of the blob host."""

    def __init__(self, root: Path, traffic: Traffic) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.signer = azure.Signer()
        self.origin = ""
        self._traffic = traffic
        self._lock = threading.Lock()
        self._blobs: dict[str, Blob] = {}

    def url(self, container: str, name: str, permissions: str) -> str:
        path = f"/{container}/{name}"
        return f"{self.origin}{quote(path)}?{self.signer.sign(path, permissions, SAS_TTL)}"

    def blob(self, container: str, name: str) -> Blob | None:
        with self._lock:
            found = self._blobs.get(f"{container}/{name}")
        return found if found is not None and found.exists else None

    def handle(self, request: Request) -> Response:
        if "Authorization" in request.headers:
            self._traffic.leak(f"blob {request.method} {request.path}: Authorization header sent")
            return azure.error(400, "InvalidAuthenticationInfo")
        path = unquote(request.path)
        if path.count("/") < 2 or path.endswith("/"):
            return azure.error(400, "InvalidUri")
        params = request.params()
        needed = "r" if request.method in ("GET", "HEAD") else "w"
        denied = self.signer.check(path, params, needed)
        if denied is not None:
            return denied
        return self._dispatch(request, path.lstrip("/"), params)

    def _dispatch(self, request: Request, key: str, params: dict[str, str]) -> Response:
        comp = params.get("comp", "")
        if request.method == "PUT" and comp == "block":
            return self._put_block(request, key, params.get("blockid", ""))
        if request.method == "PUT" and comp == "blocklist":
            return self._put_block_list(request, key)
        if request.method == "PUT" and comp == "":
            return self._put_blob(request, key)
        if request.method in ("GET", "HEAD") and comp == "":
            return self._get_blob(request, key)
        if comp:
            return azure.error(400, "InvalidQueryParameterValue")
        return azure.error(405, "UnsupportedHttpVerb")

    def _receive(self, request: Request) -> tuple[FileSlice, str]:
        """Store the request body in its own file; returns it and its base64 MD5."""
        target = self.root / uuid.uuid4().hex
        md5 = hashlib.md5()
        with target.open("wb") as f:
            for chunk in request.body.chunks():
                md5.update(chunk)
                f.write(chunk)
        return FileSlice(target, 0, request.body.consumed), base64.b64encode(md5.digest()).decode()

    def _put_block(self, request: Request, key: str, block_id: str) -> Response:
        raw = _decode_block_id(block_id)
        if raw is None:
            return azure.error(400, "InvalidQueryParameterValue")
        piece, md5 = self._receive(request)
        sent_md5 = request.headers.get("Content-MD5")
        if sent_md5 is not None and sent_md5 != md5:
            return azure.error(400, "Md5Mismatch")
        with self._lock:
            blob = self._blobs.setdefault(key, Blob())
            if any(len(_decode_block_id(known) or b"") != len(raw) for known in blob.uncommitted):
                return azure.error(400, "InvalidBlobOrBlock")
            blob.uncommitted[block_id] = piece
        headers = _written_headers()
        if sent_md5 is not None:
            headers["Content-MD5"] = md5
        return Response(201, headers)

    def _put_block_list(self, request: Request, key: str) -> Response:
        body = request.body.read()
        wanted = _parse_block_list(body)
        if wanted is None:
            return azure.error(400, "InvalidXmlDocument")
        with self._lock:
            blob = self._blobs.setdefault(key, Blob())
            chosen = _resolve_blocks(blob, wanted)
            if chosen is None:
                return azure.error(400, "InvalidBlockList")
            blob.committed, blob.uncommitted = chosen, {}
            self._set_properties(blob, request, request.headers.get("x-ms-blob-content-md5"))
        headers = _written_headers() | _identity(blob)
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        return Response(201, headers)

    def _put_blob(self, request: Request, key: str) -> Response:
        blob_type = request.headers.get("x-ms-blob-type")
        if blob_type is None:
            return azure.error(400, "MissingRequiredHeader")
        if blob_type != "BlockBlob":
            return azure.error(400, "InvalidHeaderValue")
        piece, md5 = self._receive(request)
        with self._lock:
            blob = self._blobs.setdefault(key, Blob())
            blob.committed, blob.uncommitted = [("", piece)], {}
            self._set_properties(blob, request, request.headers.get("x-ms-blob-content-md5") or md5)
        return Response(201, _written_headers() | _identity(blob) | {"Content-MD5": md5})

    @staticmethod
    def _set_properties(blob: Blob, request: Request, md5: str | None) -> None:
        blob.content_type = request.headers.get("x-ms-blob-content-type", "application/octet-stream")
        blob.content_md5 = md5
        blob.touch()

    def _get_blob(self, request: Request, key: str) -> Response:
        with self._lock:
            blob = self._blobs.get(key)
        if blob is None or not blob.exists:
            return azure.error(404, "BlobNotFound")
        pieces = blob.pieces()
        total = pieces_length(pieces)
        headers = azure.common_headers() | _identity(blob) | _blob_properties(blob)
        wanted = request.headers.get("x-ms-range") or request.headers.get("Range")
        if wanted is None:
            if blob.content_md5:
                headers["Content-MD5"] = blob.content_md5
            return Response(200, headers, pieces)
        span = parse_range(wanted, total)
        if span is None:
            return azure.error(416, "InvalidRange")
        headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{total}"
        return Response(206, headers, slice_pieces(pieces, *span))


class LocalBlobBackend:
    """The default BlobBackend: the emulator's own blob host."""

    def __init__(self, store: BlobStore, container: str = CONTAINER) -> None:
        self.store = store
        self.container = container

    def upload_url(self, name: str) -> str:
        return self.store.url(self.container, name, "cw")

    def download_url(self, name: str) -> str:
        return self.store.url(self.container, name, "r")

    def read(self, name: str) -> bytes | None:
        blob = self.store.blob(self.container, name)
        return None if blob is None else read_pieces(blob.pieces())

    def content_type(self, name: str) -> str | None:
        blob = self.store.blob(self.container, name)
        return None if blob is None else blob.content_type


def _decode_block_id(block_id: str) -> bytes | None:
    try:
        raw = base64.b64decode(block_id, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if 0 < len(raw) <= MAX_BLOCK_ID_BYTES else None


def _parse_block_list(body: bytes) -> list[tuple[str, str]] | None:
    """(kind, block id) pairs in order; kind is Latest, Committed or Uncommitted."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    kinds = ("Latest", "Committed", "Uncommitted")
    if root.tag != "BlockList" or any(child.tag not in kinds for child in root):
        return None
    return [(child.tag, (child.text or "").strip()) for child in root]


def _resolve_blocks(blob: Blob, wanted: list[tuple[str, str]]) -> list[tuple[str, FileSlice]] | None:
    committed = dict(blob.committed)
    chosen: list[tuple[str, FileSlice]] = []
    for kind, block_id in wanted:
        piece = None
        if kind in ("Latest", "Uncommitted"):
            piece = blob.uncommitted.get(block_id)
        if piece is None and kind in ("Latest", "Committed"):
            piece = committed.get(block_id)
        if piece is None:
            return None
        chosen.append((block_id, piece))
    return chosen


def _written_headers() -> dict[str, str]:
    return azure.common_headers() | {"x-ms-request-server-encrypted": "true"}


def _identity(blob: Blob) -> dict[str, str]:
    return {"ETag": blob.etag, "Last-Modified": azure.http_date(blob.modified)}


def _blob_properties(blob: Blob) -> dict[str, str]:
    return {
        "Content-Type": blob.content_type,
        "Accept-Ranges": "bytes",
        "x-ms-blob-type": "BlockBlob",
        "x-ms-creation-time": azure.http_date(blob.created),
        "x-ms-lease-state": "available",
        "x-ms-lease-status": "unlocked",
        "x-ms-server-encrypted": "true",
    }
