"""A loopback TCP forwarder that notes when the first bytes of each connection arrive.

Put in front of the emulator's API host it tells when a freshly started client sent its first
request, on the same monotonic clock as the spawn (time.perf_counter is CLOCK_MONOTONIC, shared
by all processes of the machine), without changing anything the client or the server sees.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

_BUFFER = 64 * 1024


class FirstByteClock:
    def __init__(self, target_origin: str) -> None:
        host, _, port = target_origin.removeprefix("http://").partition(":")
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._arrivals: list[float] = []
        self._thread = threading.Thread(target=self._accept, name="first-byte-clock", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> FirstByteClock:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._listener.close()

    def reset(self) -> None:
        with self._lock:
            self._arrivals.clear()

    def first_arrival(self) -> float:
        with self._lock:
            if not self._arrivals:
                raise RuntimeError("no request reached the API")
            return min(self._arrivals)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, socket.create_connection(self._target) as upstream:
            first = client.recv(_BUFFER)
            if not first:
                return
            with self._lock:
                self._arrivals.append(time.perf_counter())
            upstream.sendall(first)
            back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            back.start()
            _pump(client, upstream)
            back.join()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(_BUFFER):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the other side went away: the client's or server's business, not the clock's
