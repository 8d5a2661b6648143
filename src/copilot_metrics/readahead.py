"""A stream of byte chunks produced on a thread of its own, ahead of whoever reads it.

The artifact's zip is started before the artifact is created, so that its deflate runs while the
results service answers and the blob client loads, instead of after. At most `limit` bytes are
held until they are read, so memory stays bounded whatever the stream's length.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Generator, Iterator
from types import TracebackType


class ReadAhead:
    """Runs `chunks` from the moment it is made; iterate it for the chunks, in order, and leave its
    `with` block (or call close) to stop the producer and close `chunks`, read to the end or not.
    A failure of `chunks` is raised to the reader when it reaches that point of the stream."""

    def __init__(self, chunks: Generator[bytes, None, None], limit: int) -> None:
        self._chunks = chunks
        self._limit = limit
        self._held: deque[bytes] = deque()
        self._size = 0
        self._finished = False
        self._closed = False
        self._failure: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._produce, name="readahead", daemon=True)
        self._thread.start()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._held or self._finished)
                if not self._held:
                    if self._failure is not None:
                        raise self._failure
                    return
                chunk = self._held.popleft()
                self._size -= len(chunk)
                self._changed.notify_all()
            yield chunk

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _produce(self) -> None:
        try:
            for chunk in self._chunks:
                with self._changed:
                    self._changed.wait_for(lambda: self._size < self._limit or self._closed)
                    if self._closed:
                        return
                    self._held.append(chunk)
                    self._size += len(chunk)
                    self._changed.notify_all()
        except BaseException as failure:  # handed to the reader, which raises it
            self._failure = failure
        finally:
            # Closed on this thread, the one that runs it: the zip's deflate pool shuts down here.
            self._chunks.close()
            with self._changed:
                self._finished = True
                self._changed.notify_all()
