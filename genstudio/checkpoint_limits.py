"""Reading untrusted checkpoint files within bounds: limits checked from raw bytes before any parser runs.

A safetensors file starts with its JSON header's length; :func:`check_header_size` refuses a header
over :data:`MAX_HEADER_BYTES`, or one listing over :data:`MAX_TENSORS` tensors (counted by a byte
search, not by parsing), so a hostile file costs milliseconds and at most a few MB. For ``.pt`` zips,
:func:`zip_entry_count` reads the record count from the end of the file before ``zipfile`` lists
them. :func:`utf8_path` lets safetensors (which takes only UTF-8 paths) open a file in a folder
whose name is not UTF-8.
"""

from __future__ import annotations

import contextlib
import os
import struct
from pathlib import Path
from typing import Iterator

MAX_HEADER_BYTES = 4 * 2**20  # a safetensors JSON header; GenStudio's own are a few tens of kB
MAX_TENSORS = 10_000  # a resumable U-Net checkpoint holds about 500 (weights, EMA, Adam state, RNG)


@contextlib.contextmanager
def utf8_path(path: Path) -> Iterator[str]:
    """A name safetensors can open (it takes only UTF-8 paths): the path itself, or for a path with
    bytes that are not UTF-8 (a folder named on another system) the file's ``/proc/self/fd`` link."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        yield str(path)
        return
    if not os.path.isdir("/proc/self/fd"):
        raise _error(f"{path.name}: this system cannot open a file whose path is not UTF-8; "
                     "rename the file or its folder")
    fd = os.open(path, os.O_RDONLY)
    try:
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def check_header_size(path: Path) -> None:
    """Refuse an oversized header, or one listing too many tensors, before anything parses it.

    A safetensors file starts with its header's length (8 bytes, little-endian); entries are counted
    by their ``"data_offsets"`` keys in the raw bytes, so a hostile file costs at most
    ``MAX_HEADER_BYTES`` of memory and a few milliseconds.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise _error(f"{path.name} is not a readable checkpoint: truncated, damaged or not a "
                                  f"safetensors file ({len(head)} bytes)")
        n = int.from_bytes(head, "little")
        if n > path.stat().st_size - 8:
            raise _error(f"{path.name} is not a readable checkpoint: truncated, damaged or not a "
                                  "safetensors file (its header would run past the end)")
        if n > MAX_HEADER_BYTES:
            raise _error(f"{path.name} has a header of {n:,} bytes, over the limit of "
                                  f"{MAX_HEADER_BYTES:,}: refused unread")
        raw = fh.read(n)
    count = raw.count(b'"data_offsets"')
    if count > MAX_TENSORS:
        raise _error(f"{path.name} lists {count:,} tensors, over the limit of {MAX_TENSORS:,}: "
                     "refused unread")


def zip_entry_count(path: Path) -> int | None:
    """The record count a zip's end-of-central-directory states (None if none is found): read from the
    last 64 kB, so a zip listing a million records is refused before ``zipfile`` lists them."""
    with open(path, "rb") as fh:
        fh.seek(max(path.stat().st_size - 65_600, 0))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if count == 0xFFFF:  # zip64: the count is in the zip64 end record, before the locator
        at64 = tail.rfind(b"PK\x06\x06", 0, at)
        if at64 < 0 or at64 + 40 > len(tail):
            return None
        count = struct.unpack("<Q", tail[at64 + 32:at64 + 40])[0]
    return count


def _error(message: str) -> Exception:
    from genstudio.checkpoint import CheckpointError

    return CheckpointError(message)
