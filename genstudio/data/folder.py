"""``folder:PATH``: the user's own images, read robustly into one in-memory tensor.

Every ``.png .jpg .jpeg .webp .bmp`` file (any letter case) under the folder is considered,
recursively, following symlinked folders but visiting each real folder once (so symlink loops
end). Each image is upright-rotated from its EXIF tag, flattened onto white if it has
transparency, brought to 8-bit RGB (or gray), centre-cropped to a square and resized.

Files that cannot be used are skipped and counted by reason, never partially loaded:

* ``empty``: zero bytes;
* ``unreadable``: not an image, or a corrupt one;
* ``truncated``: the data ends early (PIL's global ``LOAD_TRUNCATED_IMAGES`` is left alone);
* ``too large``: more than ``MAX_PIXELS`` pixels or ``MAX_SIDE`` px a side
  (:mod:`genstudio.image_files`: checked from the header, before decoding).

The skips are counted in ``info["skipped"]`` / ``info["skip_reasons"]``, with the first skipped file
and why in ``info["skip_example"]``; ``Dataset.notice`` says it in one sentence, which the command
line prints as a note and the app shows in its status bar (no ``warnings.warn``: a Python warning
on stderr is not a message to a user, and in the app nobody would see it).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from genstudio.data import DataError, Dataset, uint8_to_tensor
from genstudio.image_files import MAX_PIXELS, ImageTooLarge, open_image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
REASONS = ("empty", "unreadable", "truncated", "too large")  # the order counts are reported in
#: Each reason said to a user, after a file name.
REASON_TEXT = {"empty": "empty file", "unreadable": "not an image, or a corrupt one",
               "truncated": "truncated, the data ends early",
               "too large": f"too large (over {MAX_PIXELS // 1_000_000} megapixels)"}
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_WHITE = (255, 255, 255, 255)


class _Skip(Exception):
    """A file cannot be used; ``args[0]`` is one of ``REASONS``."""


def find_images(root: str | os.PathLike) -> list[Path]:
    """Image files under ``root`` in a stable order, recursing into (symlinked) folders once each.

    Directories are recognised by their resolved real path, so a symlink pointing back up the
    tree is entered at most once and the walk always ends; a file reached by two paths is kept once.
    """
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen_dirs:
            dirnames[:] = []  # a loop or a second route to a folder already read
            continue
        seen_dirs.add(real)
        dirnames.sort()
        for name in sorted(filenames):
            if os.path.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
                continue
            path = os.path.join(dirpath, name)
            real_file = os.path.realpath(path)
            if real_file not in seen_files:
                seen_files.add(real_file)
                found.append(Path(path))
    return found


def _to_8bit(img: Image.Image) -> Image.Image:
    """Any PIL mode -> ``"L"`` or ``"RGB"``: 16-bit scaled, transparency composited on white."""
    if img.mode in _SIXTEEN_BIT:  # 16-bit gray (PNG): scale 0..65535 to 0..255, do not clip
        a = np.asarray(img).astype(np.float32)  # (H, W)
        return Image.fromarray(np.clip(np.rint(a / 257.0), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        back = Image.new("RGBA", rgba.size, _WHITE)
        back.alpha_composite(rgba)
        return back.convert("RGB")
    if img.mode in ("L", "RGB"):
        return img
    return img.convert("L" if img.mode in ("1", "F") else "RGB")


def read_image(path: str | os.PathLike, size: int, gray: bool = False) -> np.ndarray:
    """Read one image as ``(size, size, C)`` uint8, C = 1 if ``gray`` else 3.

    Raises ``_Skip(reason)`` for a file that cannot be used. Call it with
    ``DecompressionBombWarning`` turned into an error (``load_folder`` does).
    """
    try:
        if os.path.getsize(path) == 0:
            raise _Skip("empty")
        with open_image(path) as img:  # ImageTooLarge is decided from the header: nothing decoded yet
            img.draft("L" if gray else None, (size, size))  # JPEG: decode at a reduced scale
            img.load()  # raises on truncated data (LOAD_TRUNCATED_IMAGES stays False)
            try:
                ImageOps.exif_transpose(img, in_place=True)
            except Exception:  # noqa: BLE001 - a broken EXIF block must not cost the image
                pass
            img = _to_8bit(img)
            w, h = img.size
            s = min(w, h)
            box = ((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)  # centred square
            img = img.convert("L" if gray else "RGB").resize(
                (size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
            a = np.asarray(img)  # (size, size) or (size, size, 3)
    except _Skip:
        raise
    except (ImageTooLarge, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Skip("too large") from None
    except OSError as exc:
        raise _Skip("truncated" if "truncat" in str(exc).lower() else "unreadable") from None
    except Exception:  # noqa: BLE001 - PIL plugins raise many kinds on corrupt data
        raise _Skip("unreadable") from None
    return a[:, :, None] if a.ndim == 2 else a


def read_one_image(path: str | os.PathLike, size: int, gray: bool = False) -> np.ndarray:
    """One user image (a file given on the command line, dropped on a view) as ``(size, size, C)`` uint8,
    centre-cropped to a square; :class:`~genstudio.data.DataError` with the reason if it is unusable."""
    from genstudio.data import DataError

    if not os.path.isfile(path):
        raise DataError(f"{path} is not a file")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="PIL")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return read_image(path, size, gray)
        except _Skip as skip:
            raise DataError(f"cannot use {path}: {REASON_TEXT[skip.args[0]]}") from None


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


def describe_skips(reasons: dict[str, int]) -> str:
    """``{"unreadable": 2, "too large": 1}`` -> ``"2 unreadable, 1 too large"``."""
    return ", ".join(f"{reasons[r]} {r}" for r in REASONS if reasons.get(r))


def load_folder(path: str, size: int, *, gray: bool = False, num_images: int = 0, seed: int = 0,
                name: str | None = None) -> Dataset:
    """Load the images under ``path`` as a ``(N, C, size, size)`` data set in [-1, 1].

    Parameters
    ----------
    path : str
        The folder (``~`` is expanded).
    size : int
        Output side in pixels.
    gray : bool
        One channel (luminance) instead of RGB.
    num_images : int
        0 for every usable image (in path order); otherwise at most this many, taken from the
        files shuffled by ``seed``.
    name : str, optional
        Data set name to record; default ``"folder:" + path``.

    Raises
    ------
    DataError
        The path is missing or not a folder, holds no image files, or none of them is usable.
    """
    if not path.strip():
        raise DataError("folder:PATH needs a path, e.g. folder:~/Pictures/cats")
    root = Path(path).expanduser()
    if not root.exists():
        raise DataError(f"folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"not a folder: {root}")
    files = find_images(root)
    if not files:
        raise DataError(f"no image files ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) in {root}")
    if num_images:
        files = [files[i] for i in np.random.default_rng(seed).permutation(len(files))]

    images: list[np.ndarray] = []
    paths: list[str] = []  # each loaded image's path relative to root (captions are found by it)
    reasons: dict[str, int] = {}
    example: tuple[str, str] | None = None  # the first skipped file (relative to root) and why
    tried = 0
    with warnings.catch_warnings():
        # PIL's own notes (e.g. "corrupt EXIF data") say nothing about whether the image is usable
        warnings.filterwarnings("ignore", module="PIL")
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # refuse, don't warn
        for f in files:
            if num_images and len(images) >= num_images:
                break
            tried += 1
            try:
                images.append(read_image(f, size, gray))  # (size, size, C)
                paths.append(_relative(f, root))
            except _Skip as skip:
                reasons[skip.args[0]] = reasons.get(skip.args[0], 0) + 1
                if example is None:
                    example = (_relative(f, root), REASON_TEXT[skip.args[0]])
    skipped = sum(reasons.values())
    if not images:
        raise DataError(f"no usable image in {root} ({skipped} files skipped: {describe_skips(reasons)})")
    tensor = uint8_to_tensor(np.stack(images))  # (N, C, size, size)
    info = {"root": str(root), "files": tried, "loaded": len(images), "skipped": skipped,
            "skip_reasons": {r: reasons[r] for r in REASONS if r in reasons}, "skip_example": example,
            "paths": paths}
    return Dataset(name=name or f"folder:{path}", kind="images", tensor=tensor, labels=None, info=info)
