"""The streamed zip: every level 0-9 gives one valid entry per file, read back by Python's zipfile."""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from copilot_metrics.artifacts import zip_entries
from copilot_metrics.errors import ArtifactError
from copilot_metrics.zipstream import BLOCK_SIZE, zip_stream
from emulator.data import make_users_shard

LEVELS = range(10)
NDJSON_LINE = b'{"day":"2026-11-01","user_login":"octocat","user_initiated_interaction_count":3}\n'


def ndjson(size: int) -> bytes:
    return (NDJSON_LINE * (size // len(NDJSON_LINE) + 1))[:size]


# name -> content: the block boundaries the deflate is cut at, and data that does not compress.
CONTENTS = {
    "empty.ndjson": b"",
    "one-byte.ndjson": b"{",
    "one-block.ndjson": ndjson(BLOCK_SIZE),
    "block-and-one.ndjson": ndjson(BLOCK_SIZE + 1),
    "several-blocks.ndjson": ndjson(3 * BLOCK_SIZE + 12_345),
    "incompressible.bin": random.Random(16).randbytes(2 * BLOCK_SIZE + 777),
    "dir/nested/é.ndjson": ndjson(100_000),
}


def write_tree(root: Path, contents: dict[str, bytes]) -> list[Path]:
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return [root / name for name in contents]


def zipped(files: list[Path], root: Path, level: int, workers: int | None = None) -> bytes:
    return b"".join(zip_stream(zip_entries(files, root), level, workers))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("tree")
    return root, write_tree(root, CONTENTS)


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_gives_one_entry_per_file_with_its_bytes_crc_and_sizes(
    tree: tuple[Path, list[Path]], level: int
) -> None:
    root, files = tree
    data = zipped(files, root, level)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == list(CONTENTS)
        assert archive.testzip() is None  # every entry's CRC-32 checks out
        method = zipfile.ZIP_DEFLATED if level else zipfile.ZIP_STORED
        for info in infos:
            expected = CONTENTS[info.filename]
            assert info.compress_type == method and not info.is_dir()
            assert info.flag_bits & 0x08  # data descriptors: written without seeking
            assert info.file_size == len(expected)
            assert archive.read(info) == expected
            if level == 0:
                assert info.compress_size == len(expected)
        # The central directory is the last thing in the stream, right after the last entry.
        assert data.endswith(b"\x00\x00") and len(archive.comment) == 0
    compressible = {info.filename: info.compress_size for info in infos if info.filename.endswith(".ndjson")}
    if level:
        assert compressible["several-blocks.ndjson"] < len(CONTENTS["several-blocks.ndjson"]) // 10


@pytest.mark.parametrize("level", [1, 6, 9])
def test_the_bytes_do_not_depend_on_the_number_of_threads(tree: tuple[Path, list[Path]], level: int) -> None:
    root, files = tree

    assert deflated_payloads(zipped(files, root, level, workers=1)) == deflated_payloads(
        zipped(files, root, level, workers=3)
    )


def deflated_payloads(data: bytes) -> list[tuple[str, int, bytes]]:
    """Each entry's name, CRC-32 and compressed bytes: the archive without its timestamps."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        payloads = []
        for info in archive.infolist():
            name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_length + extra_length
            payloads.append((info.filename, info.CRC, data[start : start + info.compress_size]))
    return payloads


@pytest.fixture(scope="module")
def users_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.ndjson"
    make_users_shard(path, 4 * BLOCK_SIZE, seed="zip-levels")
    return path


# Level 9 is the exception: zlib-ng's best is about 0.3 % larger than zlib's on users reports.
@pytest.mark.parametrize("level", range(1, 9))
def test_each_level_compresses_a_users_report_no_worse_than_zlib_at_that_level(users_report: Path, level: int) -> None:
    content = users_report.read_bytes()
    with zipfile.ZipFile(io.BytesIO(zipped([users_report], users_report.parent, level))) as archive:
        ours = archive.infolist()[0].compress_size
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)

    assert ours <= len(compressor.compress(content) + compressor.flush())


def test_zip_stream_yields_bounded_pieces(tmp_path: Path) -> None:
    big = tmp_path / "big.ndjson"
    big.write_bytes(random.Random(7).randbytes(10_000_000))  # does not compress

    sizes = [len(piece) for piece in zip_stream(zip_entries([big], tmp_path), 1)]

    assert sum(sizes) > 10_000_000 and max(sizes) <= 2 * 1024 * 1024


@pytest.mark.slow
def test_a_file_past_2_gib_gets_zip64_sizes(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.ndjson"
    with sparse.open("wb") as out:  # zeros the file system does not store, deflated to a few MiB
        out.truncate(2 * 1024**3 + 5)
        out.seek(2 * 1024**3)
        out.write(b"tail\n")
    small = write_tree(tmp_path, {"after.ndjson": NDJSON_LINE})

    data = zipped([sparse, *small], tmp_path, 1)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        big, after = archive.infolist()
        assert big.file_size == 2 * 1024**3 + 5 and big.extract_version == 45
        assert archive.read(after) == NDJSON_LINE
        with archive.open(big) as entry:  # reads to the end: zipfile checks the CRC there
            entry.seek(2 * 1024**3)
            assert entry.read() == b"tail\n"


def test_a_file_that_shrinks_while_it_is_zipped_is_an_error(tmp_path: Path) -> None:
    shrinking = tmp_path / "shrinking.ndjson"
    shrinking.write_bytes(ndjson(12 * BLOCK_SIZE))
    pieces = zip_stream(zip_entries([shrinking], tmp_path), 6, workers=2)
    next(pieces), next(pieces)  # the local header, then the first block: the file's size is taken
    os.truncate(shrinking, BLOCK_SIZE)

    with pytest.raises(ArtifactError, match="A file shrank while it was being zipped"):
        list(pieces)
