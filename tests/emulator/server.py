"""HTTP plumbing shared by the four fake hosts: bodies, faults, recording, sending."""

from __future__ import annotations

import io
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

from requests.structures import CaseInsensitiveDict

HOSTS = ("api", "download", "results", "blob")
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileSlice:
    """Part of a file on disk, so large bodies are streamed instead of held in memory."""

    path: Path
    offset: int
    length: int


Piece = bytes | FileSlice


def pieces_length(pieces: list[Piece]) -> int:
    return sum(len(p) if isinstance(p, bytes) else p.length for p in pieces)


def slice_pieces(pieces: list[Piece], start: int, stop: int) -> list[Piece]:
    """The bytes [start, stop) of the concatenation of pieces, still as pieces."""
    out: list[Piece] = []
    position = 0
    for piece in pieces:
        size = len(piece) if isinstance(piece, bytes) else piece.length
        lo, hi = max(start, position), min(stop, position + size)
        if lo < hi:
            out.append(_cut(piece, lo - position, hi - position))
        position += size
    return out


def _cut(piece: Piece, lo: int, hi: int) -> Piece:
    if isinstance(piece, bytes):
        return piece[lo:hi]
    return FileSlice(piece.path, piece.offset + lo, hi - lo)


def read_pieces(pieces: list[Piece]) -> bytes:
    out = bytearray()
    for piece in pieces:
        if isinstance(piece, bytes):
            out += piece
        else:
            with piece.path.open("rb") as f:
                f.seek(piece.offset)
                out += f.read(piece.length)
    return bytes(out)


def parse_range(value: str, total: int) -> tuple[int, int] | None:
    """[start, stop) of a single `bytes=N-` or `bytes=N-M` range; None when unsatisfiable."""
    unit, _, spec = value.partition("=")
    first, _, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or "," in spec or not first.isdigit():
        return None
    start = int(first)
    stop = min(int(last) + 1, total) if last.isdigit() else total
    if start >= total or stop <= start:
        return None
    return start, stop


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: list[Piece] = field(default_factory=list)


@dataclass
class Recorded:
    host: str
    method: str
    path: str
    query: str
    headers: CaseInsensitiveDict[str]
    body_size: int
    status: int


@dataclass
class Fault:
    """One injected misbehaviour; consumed by the next `times` matching requests."""

    host: str
    path_contains: str = ""
    method: str | None = None
    times: int = 1
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] | None = None
    reset: bool = False
    stall: float | None = None
    truncate_at: int | None = None
    expire_links: bool = False
    # Only requests whose Range header asks from this byte on (a segment of a file, or a resume).
    range_from: int | None = None

    def __post_init__(self) -> None:
        if self.host not in HOSTS:
            raise ValueError(f"host must be one of {HOSTS}")
        actions = [
            self.status is not None or self.body is not None,
            self.reset,
            self.stall is not None,
            self.truncate_at is not None,
            self.expire_links,
        ]
        if sum(actions) != 1:
            raise ValueError("a Fault needs exactly one action")

    def matches(self, host: str, method: str, target: str, wanted: str | None = None) -> bool:
        return (
            self.times > 0
            and host == self.host
            and self.path_contains in target
            and (self.method is None or self.method.upper() == method)
            and (self.range_from is None or (wanted or "").startswith(f"bytes={self.range_from}-"))
        )


class Traffic:
    """What every host saw, and the faults still waiting for a request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.leaks: list[str] = []

    def take_fault(self, host: str, method: str, target: str, wanted: str | None = None) -> Fault | None:
        """The first fault waiting for this request (`wanted`: its Range header), now used once."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(host, method, target, wanted):
                    fault.times -= 1
                    return fault
        return None

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self.requests.append(entry)

    def leak(self, what: str) -> None:
        with self.lock:
            self.leaks.append(what)


class BodyReader:
    """The request body, read at most once, in chunks, by Content-Length."""

    def __init__(self, stream: io.BufferedIOBase, length: int) -> None:
        self._stream = stream
        self.remaining = length
        self.consumed = 0

    def chunks(self) -> Iterator[bytes]:
        while self.remaining > 0:
            data = self._stream.read(min(COPY_CHUNK, self.remaining))
            if not data:
                raise ConnectionError("client closed the connection mid-body")
            self.remaining -= len(data)
            self.consumed += len(data)
            yield data

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def drain(self) -> None:
        for _ in self.chunks():
            pass


@dataclass
class Request:
    host: str
    method: str
    path: str
    query: str
    headers: CaseInsensitiveDict[str]
    body: BodyReader

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


Handler = Callable[[Request], Response]
FaultAnswer = Callable[[str, Fault], Response]


class HostServer(ThreadingHTTPServer):
    """One fake host on its own loopback port."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, name: str, banner: str, handler: Handler, traffic: Traffic, fault_answer: FaultAnswer) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.name = name
        self.banner = banner
        self.handler = handler
        self.traffic = traffic
        self.fault_answer = fault_answer
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), name=f"emulator-{name}", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join()

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that give up (timeouts, resets) are part of the tests, not errors.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostServer

    def version_string(self) -> str:
        return self.server.banner

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr log."""

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(dict(self.headers.items()))
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            self._refuse_chunked(path, query, headers)
            return
        body = BodyReader(self.rfile, int(headers.get("Content-Length") or 0))
        request = Request(self.server.name, self.command, path, query, headers, body)
        fault = self.server.traffic.take_fault(self.server.name, self.command, self.path, headers.get("Range"))
        if fault is not None and fault.reset:
            self._record(request, 0)
            self._abort()
            return
        if fault is not None and fault.stall is not None:
            time.sleep(fault.stall)
        response = self._answer(request, fault)
        body.drain()
        self._record(request, response.status)
        self._send(response, fault.truncate_at if fault is not None else None)

    def _answer(self, request: Request, fault: Fault | None) -> Response:
        if fault is not None and (fault.status is not None or fault.body is not None or fault.expire_links):
            return self.server.fault_answer(self.server.name, fault)
        return self.server.handler(request)

    def _record(self, request: Request, status: int) -> None:
        self.server.traffic.record(
            Recorded(
                request.host,
                request.method,
                request.path,
                request.query,
                request.headers,
                request.body.consumed,
                status,
            )
        )

    def _refuse_chunked(self, path: str, query: str, headers: CaseInsensitiveDict[str]) -> None:
        request = Request(self.server.name, self.command, path, query, headers, BodyReader(self.rfile, 0))
        self._record(request, HTTPStatus.LENGTH_REQUIRED)
        self.close_connection = True
        self._send(Response(HTTPStatus.LENGTH_REQUIRED, {"Connection": "close"}), None)

    def _send(self, response: Response, truncate_at: int | None) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        bodiless = response.status in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)
        total = pieces_length(response.body)
        if not bodiless:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        if self.command == "HEAD" or bodiless:
            return
        limit = total if truncate_at is None else min(truncate_at, total)
        self._write(slice_pieces(response.body, 0, limit))
        if truncate_at is not None:
            self.close_connection = True

    def _write(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            if isinstance(piece, bytes):
                self.wfile.write(piece)
            else:
                with piece.path.open("rb") as f:
                    self.connection.sendfile(f, piece.offset, piece.length)

    def _abort(self) -> None:
        """Close with RST, so the client sees a reset rather than an answer."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.wfile.close()
        self.connection.close()
        # The base class still flushes and closes wfile after us; give it a harmless sink.
        self.wfile = io.BytesIO()
        self.rfile = io.BytesIO()
