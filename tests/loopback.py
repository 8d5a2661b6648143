"""A loopback HTTP server scripted by the test itself: each GET is answered by the test's own
function, for the misbehaviours (cut bodies, lies about sizes, redirects, files that change
between requests) that no well-kept server would produce on purpose."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Answers one GET; the number counts the server's GETs from 1, so a script can change as it goes.
Serve = Callable[[BaseHTTPRequestHandler, int], None]


@contextmanager
def scripted(serve: Serve) -> Iterator[str]:
    """A loopback server answering each GET with `serve(request, number)`; yields its origin."""
    count = {"n": 0}
    lock = threading.Lock()

    class _Request(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                count["n"] += 1
                number = count["n"]
            try:
                serve(self, number)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client closed an answer it did not need

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Request)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def answer(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes = b"") -> None:
    """Send `status`, `headers` as given (a lying Content-Length stays a lie) and `body`."""
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)
