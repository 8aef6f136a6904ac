"""Image batches to pixels and files (Qt-free: numpy and Pillow only).

Models speak float tensors in [-1, 1] laid out (N, C, H, W); screens and PNG files speak
uint8 (H, W, 3). :func:`to_uint8` converts a batch, :func:`make_grid` tiles it into one picture
the way ``torchvision.utils.make_grid`` does, and :func:`save_png` / :func:`save_gif` write files
atomically (temporary file in the same folder, then ``os.replace``), so a crash never leaves
half a picture behind.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from genstudio.atomic import atomic_open

__all__ = ["to_uint8", "make_grid", "save_png", "save_gif"]

_CHANNELS = (1, 3, 4)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Convert a batch of images to uint8 (N, H, W, C).

    Parameters
    ----------
    images : np.ndarray
        Either uint8 (N, H, W, C) with C in {1, 3, 4}, or float in [-1, 1] laid out
        (N, C, H, W) as a model produces it; (N, H, W) of either dtype is greyscale.
        Floats map ``-1 -> 0`` and ``1 -> 255`` (rounded, clipped; NaN becomes 0).

    Returns
    -------
    np.ndarray
        uint8 (N, H, W, C), C as given (1, 3 or 4).
    """
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[..., None]  # (N, H, W) -> (N, H, W, 1)
    elif a.ndim != 4:
        raise ValueError(f"expected a batch of images (N, H, W[, C]), got shape {a.shape}")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind in "iu":
        a = np.clip(a, 0, 255).astype(np.uint8)  # integer pixels are taken as 0-255
    if a.dtype == np.uint8:
        if a.shape[-1] not in _CHANNELS and a.shape[1] in _CHANNELS:
            a = a.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        return np.ascontiguousarray(a)
    if a.dtype.kind != "f":
        raise TypeError(f"cannot show images of dtype {a.dtype}")
    if a.shape[1] in _CHANNELS and a.shape[-1] != 1:
        a = a.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    elif a.shape[-1] not in _CHANNELS:
        raise ValueError(f"cannot tell the channel axis of shape {images.shape}")
    a = np.nan_to_num(a.astype(np.float32), nan=-1.0, posinf=1.0, neginf=-1.0)
    return np.clip(np.rint((a + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(
    images: np.ndarray, nrow: int | None = None, pad: int = 2, pad_value: int = 40
) -> np.ndarray:
    """Tile a batch into one RGB picture.

    Parameters
    ----------
    images : np.ndarray
        Anything :func:`to_uint8` accepts.
    nrow : int, optional
        Images per row (as in torchvision); by default ``ceil(sqrt(N))``, a near-square grid.
    pad : int
        Pixels between images and around the border.
    pad_value : int
        Grey level (0-255) of the padding.

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3) with ``H = rows * (h + pad) + pad`` and ``W = nrow * (w + pad) + pad``.
    """
    batch = to_uint8(images)  # (N, h, w, C)
    n, h, w, c = batch.shape
    if c == 1:
        batch = np.repeat(batch, 3, axis=-1)
    elif c == 4:
        batch = batch[..., :3]
    if n == 0:
        return np.full((max(1, pad), max(1, pad), 3), pad_value, np.uint8)
    ncol = max(1, min(n, nrow if nrow else math.ceil(math.sqrt(n))))
    nrows = math.ceil(n / ncol)
    grid = np.full((nrows * (h + pad) + pad, ncol * (w + pad) + pad, 3), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = batch[i]
    return grid


def _atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(file)`` on a temporary file that then replaces ``path`` (all-or-nothing)."""
    path = Path(path)
    with atomic_open(path) as fh:
        write(fh)
    return path


def save_png(
    path: str | os.PathLike, array_uint8: np.ndarray, text: dict[str, str] | None = None
) -> Path:
    """Write a uint8 picture as PNG, with optional text chunks, atomically.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if needed.
    array_uint8 : np.ndarray
        uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).
    text : dict of str to str, optional
        Stored as PNG ``tEXt``/``iTXt`` chunks (read back with ``PIL.Image.open(path).text``).

    Returns
    -------
    Path
        The written file.
    """
    a = np.asarray(array_uint8)
    if a.dtype != np.uint8:
        raise TypeError(f"save_png wants uint8 pixels, got {a.dtype}")
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    image = Image.fromarray(np.ascontiguousarray(a))
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(str(key), str(value))
    return _atomic_write(path, lambda fh: image.save(fh, format="PNG", pnginfo=info))


def save_gif(path: str | os.PathLike, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Write uint8 frames as a looping animated GIF, atomically.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if needed.
    frames : list of np.ndarray
        uint8 (H, W) or (H, W, 3), all the same size.
    fps : float
        Frames per second (GIF stores whole hundredths of a second per frame).

    Returns
    -------
    Path
        The written file.
    """
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    images = [Image.fromarray(np.ascontiguousarray(np.asarray(f, dtype=np.uint8))) for f in frames]
    duration_ms = max(20, int(round(1000.0 / max(fps, 1e-3))))

    def write(fh) -> None:
        images[0].save(
            fh, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0
        )

    return _atomic_write(path, write)
