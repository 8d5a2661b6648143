"""A history kept in a local folder: a persistent disk of a self-hosted runner, the command line, tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import HistoryError
from .store import checked_key

# Objects being written carry this prefix until os.replace gives them their name; listings skip them.
_PARTIAL = ".partial-"


class FolderStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def list(self, prefix: str) -> list[str]:
        start = self.root / prefix.rstrip("/") if prefix.rstrip("/") else self.root
        if not start.is_dir():
            return []
        keys = [
            path.relative_to(self.root).as_posix()
            for path in start.rglob("*")
            if path.is_file() and not path.name.startswith(_PARTIAL)
        ]
        return sorted(key for key in keys if key.startswith(prefix))

    def read(self, key: str) -> bytes:
        try:
            return (self.root / checked_key(key)).read_bytes()
        except OSError as failure:
            raise self._failure("read", key, failure) from None

    def download(self, key: str, target: Path) -> None:
        try:
            shutil.copyfile(self.root / checked_key(key), target)
        except OSError as failure:
            raise self._failure("read", key, failure) from None

    def write(self, key: str, source: Path) -> None:
        """Copy to a temporary file beside the target, flush it to disk, then rename it over the target."""
        target = self.root / checked_key(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=_PARTIAL, dir=target.parent)
            try:
                with os.fdopen(handle, "wb") as out, source.open("rb") as data:
                    shutil.copyfileobj(data, out, 1024 * 1024)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as failure:
            raise self._failure("write", key, failure) from None

    def remove(self, key: str) -> None:
        try:
            (self.root / checked_key(key)).unlink(missing_ok=True)
        except OSError as failure:
            raise self._failure("remove", key, failure) from None

    def finish(self, message: str) -> bool:
        return False

    def _failure(self, action: str, key: str, failure: OSError) -> HistoryError:
        return HistoryError(
            f"Could not {action} {key} in the history folder {self.url}: {failure.strerror or failure}. "
            "Check that the folder is on a writable disk with free space."
        )
