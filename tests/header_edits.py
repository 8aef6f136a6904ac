"""Copies of checkpoint files with their GenStudio header changed: hostile or contradictory files for tests."""

from __future__ import annotations

import json
import struct
from pathlib import Path


def with_meta(src: Path, dst: Path, **changes) -> Path:
    """Copy ``src`` to ``dst`` with the GenStudio metadata's fields set to ``changes`` (weights as they are)."""
    data = src.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["genstudio"])
    meta.update(changes)
    header["__metadata__"]["genstudio"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    return dst
