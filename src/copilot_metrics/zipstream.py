"""A zip archive written as a stream, its deflate spread over every core.

Each file becomes one zip entry. With compression, its bytes are cut into blocks that a thread
pool deflates independently, as pigz does: each block is a raw deflate stream primed with the
32 KiB that precede it and ended on a sync flush, so the blocks concatenate into one valid deflate
stream; the last block finishes it. zlib-ng releases the GIL while it compresses, so the threads
run on every core. The pool also takes each block's CRC-32; the results are combined in order.

The output cannot seek, so each entry's CRC and sizes follow its data in a data descriptor and are
repeated in the central directory (PKWARE APPNOTE 4.3), laid out as Python's zipfile lays out a
stream it cannot seek in.
"""

from __future__ import annotations

import os
import struct
import time
import zipfile
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from zlib_ng import zlib_ng

from .errors import ArtifactError

# Big enough that handing a block to a thread costs nothing next to deflating it, small enough
# that the blocks in flight keep memory flat.
BLOCK_SIZE = 1024 * 1024
# Blocks queued or being deflated per worker: enough that the workers never wait for this
# thread, which also feeds the upload.
IN_FLIGHT_PER_WORKER = 4
_WINDOW = 32 * 1024  # deflate's history: what each block is primed with
# zlib-ng's levels trade ratio for speed differently from zlib's: its levels 1-3 compress worse
# than zlib's (level 1 is a different, quick algorithm). Each level is mapped to the fastest
# zlib-ng level that still compresses users reports at least as well as zlib (as Node, and so the
# official artifact client, ships it) at the level asked for; levels 5-9 match as they are. The
# larger hash table (memLevel 9) costs 128 KiB per stream and gains a little ratio at every level.
_ZLIB_NG_LEVEL = {1: 3, 2: 3, 3: 4, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9}
_MEM_LEVEL = 9

_VERSION = 20  # 2.0: deflate and data descriptors
_VERSION_ZIP64 = 45
_UNIX = 3
_FLAG_DATA_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
_FILE_MODE = 0o600 << 16  # what zipfile gives an entry it streams
_MAX_32 = 0xFFFFFFFF
_MAX_ENTRIES_16 = 0xFFFF

Block = tuple[bytes, int, int]  # (output bytes, CRC-32 of the input, input length)


@dataclass
class _Entry:
    name: bytes
    flags: int
    method: int
    zip64: bool
    offset: int
    crc: int = 0
    compressed: int = 0
    size: int = 0


def zip_stream(
    entries: Sequence[tuple[Path, str]], compression_level: int, workers: int | None = None
) -> Generator[bytes, None, None]:
    """Yield the zip of `entries` ((file, name in the zip) pairs) piece by piece.

    Level 0 stores the files; levels 1-9 deflate them at that level on `workers` threads (default:
    one per CPU). At most a few blocks per worker are held at once, whatever the file sizes.
    """
    threads = workers or os.cpu_count() or 1
    written = 0
    done: list[_Entry] = []
    dos_time, dos_date = _dos_now()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deflate") as pool:
        for path, name in entries:
            entry = _new_entry(path, name, compression_level, written)
            header = _local_header(entry, dos_time, dos_date)
            yield header
            written += len(header)
            with path.open("rb") as source:
                if compression_level:
                    blocks = _deflated(source, compression_level, pool, threads * IN_FLIGHT_PER_WORKER)
                else:
                    blocks = _stored(source)
                for data, crc, length in blocks:
                    yield data
                    entry.crc = zlib_ng.crc32_combine(entry.crc, crc, length)
                    entry.compressed += len(data)
                    entry.size += length
            descriptor = _data_descriptor(entry)
            yield descriptor
            written += entry.compressed + len(descriptor)
            done.append(entry)
    yield _central_directory(done, written, dos_time, dos_date)


def _new_entry(path: Path, name: str, level: int, offset: int) -> _Entry:
    encoded, flags = _encoded_name(name)
    # As zipfile decides it: sizes near the 32-bit limit need the zip64 fields from the start,
    # because the local header is written before the data.
    zip64 = path.stat().st_size * 1.05 > zipfile.ZIP64_LIMIT
    method = zipfile.ZIP_DEFLATED if level else zipfile.ZIP_STORED
    return _Entry(encoded, flags | _FLAG_DATA_DESCRIPTOR, method, zip64, offset)


def _encoded_name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _FLAG_UTF8


def _dos_now() -> tuple[int, int]:
    now = time.localtime()
    dos_time = now.tm_hour << 11 | now.tm_min << 5 | now.tm_sec // 2
    dos_date = (now.tm_year - 1980) << 9 | now.tm_mon << 5 | now.tm_mday
    return dos_time, dos_date


def _stored(source: BinaryIO) -> Iterator[Block]:
    while block := source.read(BLOCK_SIZE):
        yield block, zlib_ng.crc32(block), len(block)


def _deflated(source: BinaryIO, level: int, pool: ThreadPoolExecutor, in_flight: int) -> Iterator[Block]:
    """The deflated blocks of `source`, in order, with at most `in_flight` of them pending.

    The workers read their own blocks (and the window before each) with pread, so this thread,
    which also feeds the upload, only hands out offsets.
    """
    descriptor = source.fileno()
    size = os.fstat(descriptor).st_size
    pending: deque[Future[Block]] = deque()
    for offset in range(0, size, BLOCK_SIZE) if size else [0]:
        last = offset + BLOCK_SIZE >= size
        pending.append(pool.submit(_deflate_block, descriptor, offset, min(BLOCK_SIZE, size - offset), level, last))
        while len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _deflate_block(descriptor: int, offset: int, length: int, level: int, last: bool) -> Block:
    start = max(0, offset - _WINDOW)
    data = os.pread(descriptor, offset - start + length, start)
    if len(data) != offset - start + length:
        raise ArtifactError(f"A file shrank while it was being zipped (read {len(data)} bytes at {start}).")
    view = memoryview(data)  # slices without copying
    window, block = view[: offset - start], view[offset - start :]
    settings = (_ZLIB_NG_LEVEL[level], zlib_ng.DEFLATED, -zlib_ng.MAX_WBITS, _MEM_LEVEL)
    compressor = zlib_ng.compressobj(*settings, zdict=window) if window else zlib_ng.compressobj(*settings)
    output = compressor.compress(block)
    # A sync flush ends the block on a byte boundary without marking it final, so the next
    # block's deflate stream continues this one.
    output += compressor.flush(zlib_ng.Z_FINISH if last else zlib_ng.Z_SYNC_FLUSH)
    return output, zlib_ng.crc32(block), len(block)


def _local_header(entry: _Entry, dos_time: int, dos_date: int) -> bytes:
    # CRC and sizes are not known yet: zero here, given by the data descriptor.
    sizes, extra, version = 0, b"", _VERSION
    if entry.zip64:
        sizes, extra, version = _MAX_32, struct.pack("<HHQQ", 1, 16, 0, 0), _VERSION_ZIP64
    fields = (b"PK\x03\x04", version, 0, entry.flags, entry.method, dos_time, dos_date, 0, sizes, sizes)
    return struct.pack("<4s2B4HL2L2H", *fields, len(entry.name), len(extra)) + entry.name + extra


def _data_descriptor(entry: _Entry) -> bytes:
    layout = "<4sLQQ" if entry.zip64 else "<4sLLL"
    return struct.pack(layout, b"PK\x07\x08", entry.crc, entry.compressed, entry.size)


def _central_directory(entries: Sequence[_Entry], start: int, dos_time: int, dos_date: int) -> bytes:
    records = b"".join(_central_record(entry, dos_time, dos_date) for entry in entries)
    count, size, end = len(entries), len(records), start + len(records)
    tail = b""
    if count > _MAX_ENTRIES_16 or start > zipfile.ZIP64_LIMIT or size > zipfile.ZIP64_LIMIT:
        versions = (_VERSION_ZIP64, _VERSION_ZIP64)
        tail = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, *versions, 0, 0, count, count, size, start)
        tail += struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
        count, size, start = min(count, _MAX_ENTRIES_16), min(size, _MAX_32), min(start, _MAX_32)
    return records + tail + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)


def _central_record(entry: _Entry, dos_time: int, dos_date: int) -> bytes:
    compressed, size, offset = entry.compressed, entry.size, entry.offset
    large: list[int] = []
    if size > zipfile.ZIP64_LIMIT or compressed > zipfile.ZIP64_LIMIT:
        large += [size, compressed]
        compressed = size = _MAX_32
    if offset > zipfile.ZIP64_LIMIT:
        large.append(offset)
        offset = _MAX_32
    extra = struct.pack(f"<HH{len(large)}Q", 1, 8 * len(large), *large) if large else b""
    version = _VERSION_ZIP64 if large or entry.zip64 else _VERSION
    fields = (b"PK\x01\x02", version, _UNIX, version, 0, entry.flags, entry.method, dos_time, dos_date)
    sizes = (entry.crc, compressed, size, len(entry.name), len(extra), 0, 0, 0, _FILE_MODE, offset)
    return struct.pack("<4s4B4HL2L5H2L", *fields, *sizes) + entry.name + extra
