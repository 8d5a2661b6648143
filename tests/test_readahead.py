"""ReadAhead: the zip's chunks made on a thread of their own, bounded, failures passed to the reader."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from copilot_metrics.errors import ArtifactError
from copilot_metrics.readahead import ReadAhead

CHUNK = b"x" * 1024


class Source:
    """Chunks of 1 KiB, counted as they are made; a failure after `fail_after` of them."""

    def __init__(self, count: int | None, fail_after: int | None = None) -> None:
        self.made = 0
        self.closed = threading.Event()
        self._count = count
        self._fail_after = fail_after

    def chunks(self) -> Generator[bytes, None, None]:
        try:
            while self._count is None or self.made < self._count:
                if self.made == self._fail_after:
                    raise ArtifactError("the source broke")
                self.made += 1
                yield CHUNK + self.made.to_bytes(4, "big")
        finally:
            self.closed.set()


def made_at_least(source: Source, count: int) -> int:
    """How many chunks the source has made, once that is `count` or more (or 5 s have passed)."""
    deadline = time.monotonic() + 5
    while source.made < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return source.made


def test_it_holds_no_more_than_its_limit_until_read_and_then_gives_every_chunk_in_order() -> None:
    source = Source(count=50)

    with ReadAhead(source.chunks(), limit=4 * len(CHUNK)) as ahead:
        # Four chunks reach the limit (each is a little over 1 KiB): the fifth waits to be held.
        assert made_at_least(source, 5) == 5
        time.sleep(0.3)
        assert source.made == 5
        read = list(ahead)

    assert read == [CHUNK + number.to_bytes(4, "big") for number in range(1, 51)]
    assert source.closed.is_set()


def test_a_failure_of_the_source_reaches_the_reader_after_the_chunks_made_before_it() -> None:
    source = Source(count=None, fail_after=3)
    read: list[bytes] = []

    with ReadAhead(source.chunks(), limit=1024 * len(CHUNK)) as ahead, pytest.raises(ArtifactError, match="broke"):
        read.extend(ahead)

    assert len(read) == 3
    assert source.closed.is_set()


def test_closing_it_unread_stops_the_producer_and_closes_the_source() -> None:
    source = Source(count=None)  # endless: only closing stops it

    with ReadAhead(source.chunks(), limit=8 * len(CHUNK)):
        assert made_at_least(source, 8) >= 8  # held up to the limit, waiting to be read

    assert source.closed.is_set()
    assert not [thread for thread in threading.enumerate() if thread.name == "readahead"]
