"""Users report shards of given sizes, made once per benchmark run and shared by its items."""

from __future__ import annotations

import os
from pathlib import Path

from emulator.data import make_users_shard


class ShardCache:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._folder.mkdir(parents=True, exist_ok=True)

    def file(self, size: int, number: int = 1) -> Path:
        """Shard `number` of `size` bytes; different numbers hold different bytes, as real shards do."""
        path = self._folder / f"users-{size}-{number}.ndjson"
        if not path.exists():
            make_users_shard(path, size, seed=f"bench-{number}")
            # Written out now: the kernel's writeback of a fresh GiB would otherwise land in the
            # timed runs that read it, and slow whichever client it meets.
            os.sync()
        return path

    def files(self, count: int, size: int) -> list[Path]:
        return [self.file(size, number) for number in range(1, count + 1)]
