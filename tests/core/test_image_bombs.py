"""Decompression bombs are refused from their header, undecoded, on every path that opens user images.

The repro: a 124 KB PNG of 1 × 64,000,000 px took 1.5 GB and 8 s to load from an image folder,
though the safety notes said bombs are skipped undecoded. Here a PNG *header* declares the huge
size (with a token of data after it): decoding is made to fail loudly, so a path that decoded the
file would report "truncated" or fail the test, not say "too large".
"""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from genstudio.data import DataError, load_dataset
from genstudio.image_files import MAX_PIXELS, ImageTooLarge, open_image
from genstudio.scrub import load_image_file


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR declares ``width`` × ``height`` gray pixels, followed by a few bytes of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64)))
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture
def no_decoding(monkeypatch):
    def load(self):
        raise AssertionError(f"{self.size} px were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize("size", [(1, 64_000_000), (8000, 8000), (40_001, 1)])
def test_open_image_refuses_from_the_header(size, tmp_path, no_decoding):
    path = png_header(tmp_path / "bomb.png", *size)
    with pytest.raises(ImageTooLarge, match=f"bomb.png is {size[0]:,} × {size[1]:,} px, over the limit"):
        with open_image(path):
            pass
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS  # Pillow's own guard is as tight for any other open


def test_an_image_folder_skips_a_bomb_undecoded(tmp_path):
    Image.fromarray(np.full((20, 20, 3), 200, np.uint8)).save(tmp_path / "ok.png")
    png_header(tmp_path / "bomb.png", 1, 64_000_000)
    start = time.perf_counter()
    data = load_dataset(f"folder:{tmp_path}", size=16, channels=3)  # told in its notice, no warning
    assert time.perf_counter() - start < 2 and data.tensor.shape == (1, 3, 16, 16)
    assert data.skipped == 1 and "bomb.png: too large" in data.notice
    (tmp_path / "ok.png").unlink()
    with pytest.raises(DataError, match=r"no usable image .* 1 too large"):
        load_dataset(f"folder:{tmp_path}", size=16, channels=3)


def test_the_scrubbers_image_from_a_file_refuses_a_bomb(tmp_path, no_decoding):
    path = png_header(tmp_path / "bomb.png", 1, 64_000_000)
    with pytest.raises(ValueError, match=r"^bomb.png is not an image this app can read \(bomb.png is 1 × "
                                         r"64,000,000 px, over the limit of 40 megapixels"):
        load_image_file(path, 16, 1)


def test_a_run_folders_preview_bomb_is_refused(tmp_path, no_decoding):
    from genstudio.gui.run_follower import load_preview_file

    with pytest.raises(ImageTooLarge):
        load_preview_file(png_header(tmp_path / "step_000500.png", 1, 64_000_000))
