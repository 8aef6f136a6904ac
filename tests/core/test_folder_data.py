"""``folder:PATH`` data sets: every image mode, messy files skipped and counted, clear errors.

All files are made here, with PIL, in ``tmp_path``. pytest runs with warnings as errors, so a
test that expects no warning fails if the loader lets any (e.g. a decompression-bomb one) escape.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

import genstudio.image_files as image_files
from genstudio.data import DataError, load_dataset

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def pixels(data) -> np.ndarray:
    """Dataset images as ``(N, H, W, C)`` 0..255 floats."""
    return ((data.tensor + 1) * 127.5).permute(0, 2, 3, 1).numpy()


def solid(colour, size=(24, 24), mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def load(path, **kw):
    return load_dataset(f"folder:{path}", size=kw.pop("size", 8), **kw)


def test_every_mode_loads_as_8bit_rgb(tmp_path):
    solid(RED).save(tmp_path / "a_rgb.png")
    solid(100, mode="L").save(tmp_path / "b_gray.png")
    solid((50, 128), mode="LA").save(tmp_path / "c_la.png")  # half-transparent dark gray on white
    solid((0, 0, 255, 0), mode="RGBA").save(tmp_path / "d_clear.png")  # fully transparent -> white
    solid((255, 0, 0, 128), mode="RGBA").save(tmp_path / "e_rgba.png")
    pal = Image.new("P", (24, 24), 1)
    pal.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    pal.save(tmp_path / "f_pal.png")  # opaque palette image: green
    pal.save(tmp_path / "g_paltrans.png", transparency=1)  # index 1 transparent: white
    Image.fromarray(np.full((24, 24), 128 * 257, np.uint16)).save(tmp_path / "h_16bit.png")
    solid(BLUE).save(tmp_path / "i.jpg", quality=95)
    solid(GREEN).save(tmp_path / "j.webp", lossless=True)
    solid(RED).save(tmp_path / "k.bmp")
    solid(BLUE).save(tmp_path / "l_upper.PNG")
    (tmp_path / "notes.txt").write_text("not an image and not named like one: ignored")

    data = load(tmp_path, size=8)
    assert data.kind == "images" and data.tensor.shape == (12, 3, 8, 8) and data.tensor.dtype == torch.float32
    assert data.info["skipped"] == 0 and data.info["skip_reasons"] == {} and data.labels is None
    px = pixels(data)[:, 4, 4]  # (N, 3) centre pixel of each, in sorted file order
    expected = [RED, (100,) * 3, (152.5,) * 3, (255,) * 3, (255, 127.5, 127.5), (0, 200, 0), (255,) * 3,
                (128,) * 3, BLUE, GREEN, RED, BLUE]
    assert np.abs(px - np.array(expected)).max() <= 3
    gray = load(tmp_path, size=8, channels=1)
    assert gray.tensor.shape == (12, 1, 8, 8)
    assert abs(pixels(gray)[1, 4, 4, 0] - 100) <= 1


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    with Image.open(tmp_path / "ramp.png") as check:
        assert check.mode == "I;16"
    v = pixels(load(tmp_path, size=32))[0, :, :, 0]
    assert v.min() <= 1 and v.max() >= 254 and 110 < v.mean() < 145  # a full ramp, not mostly 255


def test_centre_crop_and_exif_rotation(tmp_path):
    # stored 80x40: left half red, right half blue; orientation 6 = display rotated 90 deg clockwise,
    # i.e. 40 wide and 80 tall with red on top and blue below
    img = Image.new("RGB", (80, 40), RED)
    img.paste(BLUE, (40, 0, 80, 40))
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(tmp_path / "rotated.jpg", quality=95, exif=exif)
    wide = Image.new("RGB", (60, 20), RED)  # no EXIF: the centre square is all green
    wide.paste(GREEN, (20, 0, 40, 20))
    wide.save(tmp_path / "wide.png")

    px = pixels(load(tmp_path, size=16))
    rot, crop = px[0], px[1]
    assert np.abs(rot[2, 8] - RED).max() < 40 and np.abs(rot[13, 8] - BLUE).max() < 40
    assert np.abs(crop[:, 1:-1] - GREEN).max() < 30


def test_messy_files_are_skipped_and_told_in_one_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(image_files, "MAX_PIXELS", 40 * 40)  # a small image stands in for a huge one
    for i, c in enumerate((RED, GREEN, BLUE)):
        solid(c, (30, 30)).save(tmp_path / f"good{i}.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("this is not a JPEG")
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    solid(RED, (50, 50)).save(tmp_path / "huge.png")

    data = load(tmp_path)  # no Python warning: warnings are errors in the tests
    assert data.notice == (f"4 files in {tmp_path} could not be read as images and were skipped "
                           "(e.g. cut.jpg: truncated, the data ends early)")
    assert len(data) == 3  # the truncated JPEG is not partially loaded
    assert data.skipped == data.info["skipped"] == 4
    assert data.info["skip_reasons"] == {"empty": 1, "unreadable": 1, "truncated": 1, "too large": 1}
    assert Image.MAX_IMAGE_PIXELS is not None  # nothing global was switched off
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_one_skipped_file_is_said_in_the_singular_and_a_clean_set_says_nothing(tmp_path):
    solid(RED).save(tmp_path / "ok.png")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "broken.png").write_text("no PNG here")
    assert load(tmp_path).notice == (f"1 file in {tmp_path} could not be read as an image and was skipped "
                                     f"(e.g. {Path('deep', 'broken.png')}: not an image, or a corrupt one)")
    (tmp_path / "deep" / "broken.png").unlink()
    assert load(tmp_path).notice == "" and load(tmp_path).skipped == 0
    assert load_dataset("ring8", num_points=10).notice == ""


def test_pil_decompression_bombs_are_refused_quietly(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL warns above 1000 px, raises above 2000
    solid(GREEN, (20, 20)).save(tmp_path / "ok.png")
    solid(RED, (40, 40)).save(tmp_path / "warns.png")
    solid(RED, (50, 50)).save(tmp_path / "raises.png")
    data = load(tmp_path)
    assert len(data) == 1 and data.info["skip_reasons"] == {"too large": 2}
    assert data.notice.startswith("2 files in ") and data.notice.endswith(
        "(e.g. raises.png: too large (over 40 megapixels))")


def test_nested_folders_and_symlink_loops(tmp_path):
    root, other = tmp_path / "root", tmp_path / "other"
    (root / "deep" / "deeper").mkdir(parents=True)
    other.mkdir()
    solid(RED).save(root / "a.png")
    solid(GREEN).save(root / "deep" / "b.JPEG")
    solid(BLUE).save(root / "deep" / "deeper" / "c.Bmp")
    solid(RED).save(other / "d.webp")
    try:
        os.symlink(root, root / "deep" / "deeper" / "loop", target_is_directory=True)
        os.symlink(root / "deep", root / "deep" / "self", target_is_directory=True)
        os.symlink(other, root / "linked", target_is_directory=True)
        os.symlink(root / "a.png", root / "alias.png")  # the same file twice is read once
    except (OSError, NotImplementedError):
        pytest.skip("symlinks are not available here")
    data = load(root)
    assert len(data) == 4 and data.info["skipped"] == 0


def test_num_images_takes_a_seeded_subset(tmp_path):
    for i in range(6):
        solid((40 * i, 0, 0)).save(tmp_path / f"{i}.png")
    sub = load(tmp_path, num_images=3, seed=4)
    assert len(sub) == 3
    assert torch.equal(sub.tensor, load(tmp_path, num_images=3, seed=4).tensor)
    assert len(load(tmp_path)) == 6


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="folder not found"):
        load(tmp_path / "missing")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DataError, match="not a folder"):
        load(tmp_path / "file.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match="no image files"):
        load(empty)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"")
    (bad / "y.jpg").write_text("nope")
    with pytest.raises(DataError, match=r"^no usable image in .*bad \(2 files skipped: 1 empty, 1 unreadable\)$"):
        load(bad)
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("folder:")
