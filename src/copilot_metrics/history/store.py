"""The one small interface every history store implements, and the rules its keys follow.

Keys are '/'-separated paths of the history's layout (`raw/<report>/day=YYYY-MM-DD/<file>.ndjson.gz`,
`tables/<table>/day=YYYY-MM-DD/<name>.parquet`). Every write replaces one whole object atomically;
what a listing shows is the whole truth, so no manifest exists that could disagree with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import HistoryError


class Store(Protocol):
    url: str  # what the `history-url` output shows (no credentials in it)

    def list(self, prefix: str) -> list[str]: ...  # keys under prefix ("raw/users-1-day/"), sorted

    def read(self, key: str) -> bytes: ...  # small objects only (checksums)

    def download(self, key: str, target: Path) -> None: ...  # streamed to a local file

    def write(self, key: str, source: Path) -> None: ...  # whole object, atomic replace, streamed

    def finish(self, message: str) -> bool: ...  # object stores: no-op, False; branch: one commit+push


@runtime_checkable
class Removing(Protocol):
    """A store that can drop an object: a revised day with fewer shards than before sheds the rest."""

    def remove(self, key: str) -> None: ...


def checked_key(key: str) -> str:
    """`key` when it is a plain relative path of the layout; a key that could escape the store is refused."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in key:
        raise HistoryError(f"Refusing the history key {key!r}: keys are plain relative paths.")
    return key


@runtime_checkable
class Prefetching(Protocol):
    """A store whose reads cost a request each (a git branch): many keys' contents in one request first."""

    def prefetch(self, keys: Iterable[str]) -> None: ...
