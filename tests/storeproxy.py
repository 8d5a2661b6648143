"""A loopback reverse proxy in front of an object store server: records each request, answers
some with throttling errors, or kills a process at a chosen request."""

from __future__ import annotations

import http.client
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection"})
_REWRITTEN = _HOP_BY_HOP | {"content-length"}
# The bodies S3 and Azure send when they throttle (their documented error codes).
THROTTLED = {
    "s3": (
        503,
        "application/xml",
        b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
    ),
    "az": (
        503,
        "application/xml",
        b"<Error><Code>ServerBusy</Code><Message>The server is currently unable to receive requests.</Message></Error>",
    ),
}


@dataclass
class Throttle:
    """Answer the next `times` requests with `method` by the store's throttling error."""

    method: str
    times: int
    answer: tuple[int, str, bytes]


@dataclass
class KillAt:
    """SIGKILL `pid` when the `count`-th request with `method` arrives, before forwarding it."""

    method: str
    count: int
    pid: Callable[[], int]
    seen: int = 0


@dataclass
class Log:
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str, status: int | None = None) -> int:
        with self.lock:
            return sum(1 for m, _, s in self.requests if m == method and (status is None or s == status))


class StoreProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._prefix = parts.path.rstrip("/")
        self.log = Log()
        self.throttles: list[Throttle] = []
        self.kill: KillAt | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self._prefix}"

    def __enter__(self) -> StoreProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _planned(self, method: str) -> tuple[int, str, bytes] | None:
        with self.log.lock:
            if self.kill is not None and self.kill.method == method:
                self.kill.seen += 1
                if self.kill.seen == self.kill.count:
                    os.kill(self.kill.pid(), signal.SIGKILL)
                    return 503, "text/plain", b"killed"
            for throttle in self.throttles:
                if throttle.method == method and throttle.times > 0:
                    throttle.times -= 1
                    return throttle.answer
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _relay(self) -> None:
                body = self._body()
                planned = proxy._planned(self.command)
                if planned is not None:
                    status, kind, payload = planned
                    self._answer(status, {"Content-Type": kind}, payload)
                    return
                connection = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                headers = {name: value for name, value in self.headers.items() if name.lower() not in _REWRITTEN}
                headers["Content-Length"] = str(len(body))
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                answer = {name: value for name, value in response.getheaders() if name.lower() not in _HOP_BY_HOP}
                answer = {
                    ("Content-Length" if name.lower() == "content-length" else name): v for name, v in answer.items()
                }
                connection.close()
                self._answer(response.status, answer, payload)

            def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                with proxy.log.lock:
                    proxy.log.requests.append((self.command, self.path, status))
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                length = headers.get("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        return Handler
