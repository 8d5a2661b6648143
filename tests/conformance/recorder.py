"""A recording reverse proxy in front of a blob store, and replay of what it recorded.

Blob requests are recorded without their SAS (the credential of one store means nothing to
another), so one sequence can be replayed against any store that hands out upload URLs.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

import requests

# Query parameters that make up a service SAS; everything else names the operation.
SAS_PARAMS = frozenset(
    {
        "sv",
        "ss",
        "srt",
        "sp",
        "se",
        "st",
        "spr",
        "sig",
        "sr",
        "si",
        "sip",
        "ses",
        "sdd",
        "skoid",
        "sktid",
        "skt",
        "ske",
        "sks",
        "skv",
        "saoid",
        "suoid",
        "scid",
        "rscc",
        "rscd",
        "rsce",
        "rscl",
        "rsct",
    }
)
# Per-attempt noise that a replay must not repeat; the rest of x-ms-* defines the operation.
_VOLATILE_HEADERS = frozenset({"x-ms-date", "x-ms-client-request-id"})
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


class BlobBackend(Protocol):
    def upload_url(self, name: str) -> str: ...
    def download_url(self, name: str) -> str: ...
    def read(self, name: str) -> bytes | None: ...
    def content_type(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class BlobRequest:
    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int

    def operation(self) -> str:
        """`comp` names the Blob REST operation; a bare PUT is Put Blob, a bare GET is Get Blob."""
        return f"{self.method} {dict(self.params).get('comp', 'blob')}"


@dataclass(frozen=True)
class Outcome:
    status: int
    error_code: str | None


class RecordingProxy:
    """Forwards every request to `upstream` (an origin) and records it, until the context exits."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.recorded: list[BlobRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RecordingProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, request: BlobRequest) -> None:
        with self._lock:
            self.recorded.append(request)

    def uploads(self) -> list[BlobRequest]:
        with self._lock:
            return [request for request in self.recorded if request.method == "PUT"]


class RecordingBackend:
    """A `BlobBackend` whose upload URLs lead through a recording proxy to the real store."""

    def __init__(self, inner: BlobBackend, proxy: RecordingProxy) -> None:
        self._inner = inner
        self._proxy = proxy

    def upload_url(self, name: str) -> str:
        url = urlsplit(self._inner.upload_url(name))
        return urlunsplit(url._replace(netloc=urlsplit(self._proxy.origin).netloc))

    def download_url(self, name: str) -> str:
        return self._inner.download_url(name)

    def read(self, name: str) -> bytes | None:
        return self._inner.read(name)

    def content_type(self, name: str) -> str | None:
        return self._inner.content_type(name)


def _handler_for(proxy: RecordingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._forward()

        def do_HEAD(self) -> None:
            self._forward()

        def do_PUT(self) -> None:
            self._forward()

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection = http.client.HTTPConnection(proxy.upstream.netloc, timeout=120)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            finally:
                connection.close()
            proxy.record(_recorded(self.command, self.path, self.headers.items(), body, response.status))
            self._relay(response, answer)

        def _relay(self, response: http.client.HTTPResponse, answer: bytes) -> None:
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # SAS query strings are credentials: never print request lines

    return Handler


def _recorded(method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, status: int) -> BlobRequest:
    url = urlsplit(target)
    params = tuple((k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k not in SAS_PARAMS)
    kept = tuple(
        (k.lower(), v)
        for k, v in headers
        if k.lower() in ("content-type", "content-md5")
        or (k.lower().startswith("x-ms-") and k.lower() not in _VOLATILE_HEADERS)
    )
    return BlobRequest(method, url.path, params, kept, body, status)


def replay(sequence: Sequence[BlobRequest], upload_url: str) -> list[Outcome]:
    """Sends each request to the blob behind `upload_url`, under that URL's SAS."""
    base, _, sas = upload_url.partition("?")
    sas_params = parse_qsl(sas, keep_blank_values=True)
    with requests.Session() as session:
        return [_send(session, request, base, sas_params) for request in sequence]


def _send(session: requests.Session, request: BlobRequest, base: str, sas: list[tuple[str, str]]) -> Outcome:
    response = session.request(
        request.method,
        f"{base}?{urlencode([*request.params, *sas])}",
        headers=dict(request.headers),
        data=request.body,
        timeout=120,
    )
    return Outcome(response.status_code, error_code(response))


def error_code(response: requests.Response) -> str | None:
    """Azure names every failure by code, in `x-ms-error-code` and in the XML body."""
    if response.ok:
        return None
    if not response.content:
        return response.headers.get("x-ms-error-code")
    try:
        code = ElementTree.fromstring(response.content).findtext("Code")
    except ElementTree.ParseError:
        return response.headers.get("x-ms-error-code")
    return code


def with_bad_signature(url: str) -> str:
    """The same SAS with its signature changed, as a tampered or wrong credential would be."""
    parts = urlsplit(url)
    params = [(k, "AAAA" + v[4:] if k == "sig" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(params)))
