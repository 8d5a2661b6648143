"""Folders of files to upload, and reading back what a download produced."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

BIG_SIZE = 20 * 1024 * 1024 + 12_345  # beyond two 8 MiB blocks, and not a multiple of one


def ndjson_lines(count: int, seed: int) -> bytes:
    rng = random.Random(seed)
    rows = (
        {
            "day": f"2026-10-{1 + i % 28:02d}",
            "user_login": f"user-{rng.randrange(10_000):04d}",
            "code_generation_activity_count": rng.randrange(500),
            "used_chat": rng.random() < 0.5,
        }
        for i in range(count)
    )
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def make_tree(root: Path, big: bool = False) -> dict[str, bytes]:
    """Writes a report-like folder under root; returns relative POSIX name -> bytes."""
    contents = {
        "organization-28-day_part-1.ndjson": ndjson_lines(2_000, seed=1),
        "nested/deeper/users-1-day_part-2.ndjson": ndjson_lines(300, seed=2),
        "nested/summary.csv": b"day,users\n2026-10-01,42\n",
        "empty.ndjson": b"",
    }
    if big:
        # Random bytes do not compress, so the zip stays large enough to need several blocks.
        contents["big/shard.bin"] = os.urandom(BIG_SIZE)
    for name, data in contents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return contents


def files_of(root: Path, contents: dict[str, bytes]) -> list[Path]:
    return [root / name for name in sorted(contents)]


def read_tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}
