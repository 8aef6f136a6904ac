"""Image batches to pixels and files (Qt-free: numpy and Pillow only).

Models speak float tensors in [-1, 1] laid out (N, C, H, W); screens and PNG files speak
uint8 (H, W, 3). :func:`to_uint8` converts a batch, :func:`make_grid` tiles it into one picture
the way ``torchvision.utils.make_grid`` does, and :func:`save_png` / :func:`save_gif` write files
atomically (temporary file in the same folder, then ``os.replace``), so a crash never leaves
half a picture behind.

Exports are made at a chosen size: :func:`resize_long_side` scales a picture so its long side has
so many pixels (nearest neighbour by default: a model's 8-32 px pictures stay crisp blocks, each
model pixel a square, as the app shows them; ``smooth=True`` resamples with Lanczos for photos).
A 2-D model has no pixels: :func:`scatter_image` draws its points as a scatter plot (real data
faint, samples bright, an axes box with ticks) at the export size.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from genstudio.atomic import atomic_open

__all__ = [
    "to_uint8", "make_grid", "save_png", "save_gif", "resize_long_side", "scatter_image",
    "EXPORT_SIZES", "DEFAULT_EXPORT_SIZE", "cloud_extent", "labelled_rows", "FIELD_COLOURS",
]

_CHANNELS = (1, 3, 4)

#: The export sizes offered (long side in pixels; None keeps the native size).
EXPORT_SIZES: tuple[int | None, ...] = (256, 512, 1024, None)
#: 512 px: large enough for a slide or a page, small enough for a 150-frame GIF of a few MB.
DEFAULT_EXPORT_SIZE = 512


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


def labelled_rows(images: np.ndarray, labels: list[str], columns: int, pad: int = 1, scale: int = 2) -> np.ndarray:
    """A grid of ``len(labels)`` rows of ``columns`` images each, row i labelled ``labels[i]`` on its left
    (a text-to-image preview: one prompt a row). The grid is scaled ``scale``× (nearest neighbour) so
    the labels, drawn at the output size with Pillow's default font, are not larger than the pictures.

    Returns uint8 (H, W, 3).
    """
    from PIL import ImageDraw, ImageFont

    grid = make_grid(images, nrow=columns, pad=pad)  # (h, w, 3)
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    font = ImageFont.load_default()
    widths = [font.getbbox(t)[2] for t in labels] or [0]
    margin = max(widths) + 12
    h = grid.shape[0]
    out = Image.new("RGB", (margin + grid.shape[1], h), (30, 30, 30))
    out.paste(Image.fromarray(grid), (margin, 0))
    draw = ImageDraw.Draw(out)
    row_h = (h - pad * scale) / max(1, len(labels))
    for i, text in enumerate(labels):
        top, bottom = font.getbbox(text)[1], font.getbbox(text)[3]
        y = pad * scale + row_h * (i + 0.5) - (top + bottom) / 2
        draw.text((6, y), text, fill=(220, 220, 220), font=font)
    return np.asarray(out)


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


def resize_long_side(picture: np.ndarray, long_side: int | None, smooth: bool = False) -> np.ndarray:
    """Scale a uint8 picture so that its longer side is ``long_side`` pixels (aspect kept).

    Parameters
    ----------
    picture : np.ndarray
        uint8 (H, W) or (H, W, C).
    long_side : int or None
        Pixels of the longer side of the result; None returns the picture unchanged.
    smooth : bool
        Lanczos resampling instead of nearest neighbour (which keeps pixel art crisp).

    Returns
    -------
    np.ndarray
        uint8 (H', W'[, C]) with ``max(H', W') == long_side`` and the shorter side rounded.
    """
    a = np.asarray(picture)
    if a.dtype != np.uint8:
        raise TypeError(f"resize_long_side wants uint8 pixels, got {a.dtype}")
    if long_side is None:
        return a
    long_side = int(long_side)
    if long_side < 1:
        raise ValueError(f"long_side must be positive, got {long_side}")
    h, w = a.shape[:2]
    if max(h, w) == long_side:
        return a
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow wants (W, H)
    squeeze = a.ndim == 3 and a.shape[-1] == 1
    image = Image.fromarray(np.ascontiguousarray(a[..., 0] if squeeze else a))
    out = np.asarray(image.resize(size, Image.Resampling.LANCZOS if smooth else Image.Resampling.NEAREST))
    return out[..., None] if squeeze else out


def _ticks(lo: float, hi: float, target: int = 5) -> np.ndarray:
    """Round tick values (1, 2 or 5 × 10^k apart) inside [lo, hi]."""
    span = max(hi - lo, 1e-9)
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return np.arange(first, hi + step * 1e-6, step)


def scatter_image(
    points: np.ndarray,
    extent: tuple[float, float, float, float],
    size: int = DEFAULT_EXPORT_SIZE,
    real: np.ndarray | None = None,
    title: str = "",
    highlight: np.ndarray | None = None,
    colour: tuple[int, int, int] = (235, 90, 235),
    real_colour: tuple[int, int, int] = (60, 115, 80),
    field: tuple[np.ndarray, tuple[float, float, float, float]] | None = None,
) -> np.ndarray:
    """Draw a 2-D point cloud as a scatter plot: uint8 (size, size, 3), y up.

    Parameters
    ----------
    points : np.ndarray
        (N, 2) samples, drawn as bright dots (non-finite rows are skipped, points outside
        ``extent`` are clipped away).
    extent : tuple of float
        ``(xmin, xmax, ymin, ymax)`` of the axes box.
    size : int
        Side of the picture in pixels (dots and text scale with it).
    real : np.ndarray, optional
        (M, 2) real data, drawn first as faint dots.
    title : str
        A line above the box (e.g. "t = 500").
    highlight : np.ndarray, optional
        (K, 2) points drawn last, large and yellow (e.g. the latent view's current G(z)).
    field : (np.ndarray, extent), optional
        A GAN's D(x): probabilities (H, W) in [0, 1] (row 0 at ``ymin``) over their own
        ``(xmin, xmax, ymin, ymax)``, painted behind everything in :data:`FIELD_COLOURS`.

    Returns
    -------
    np.ndarray
        uint8 (size, size, 3).
    """
    from PIL import ImageDraw, ImageFont

    size = int(size)
    xmin, xmax, ymin, ymax = (float(v) for v in extent)
    image = Image.new("RGB", (size, size), (22, 24, 28))
    draw = ImageDraw.Draw(image)
    font_px = max(10, size // 40)
    try:
        font = ImageFont.load_default(font_px)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    margin_l, margin_b = 4 * font_px, 2 * font_px + 4
    margin_t, margin_r = (2 * font_px if title else font_px), font_px
    box = (margin_l, margin_t, size - margin_r, size - margin_b)  # the data area (x0, y0, x1, y1)
    bw, bh = box[2] - box[0], box[3] - box[1]

    def to_px(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = np.asarray(p, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        x = box[0] + (p[:, 0] - xmin) / (xmax - xmin) * bw
        y = box[3] - (p[:, 1] - ymin) / (ymax - ymin) * bh
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        return x[inside], y[inside]

    if field is not None:
        _paint_field(image, box, (xmin, xmax, ymin, ymax), *field)
    grid_colour, text_colour = (44, 48, 56), (170, 175, 185)
    for v in _ticks(xmin, xmax):
        x = box[0] + (v - xmin) / (xmax - xmin) * bw
        draw.line([(x, box[1]), (x, box[3])], fill=grid_colour)
        draw.line([(x, box[3]), (x, box[3] + 4)], fill=text_colour)
        draw.text((x, box[3] + 6), f"{v:g}", fill=text_colour, font=font, anchor="ma")
    for v in _ticks(ymin, ymax):
        y = box[3] - (v - ymin) / (ymax - ymin) * bh
        draw.line([(box[0], y), (box[2], y)], fill=grid_colour)
        draw.line([(box[0] - 4, y), (box[0], y)], fill=text_colour)
        draw.text((box[0] - 6, y), f"{v:g}", fill=text_colour, font=font, anchor="rm")
    r = max(1.0, size / 400)  # dot radius
    if real is not None:
        for x, y in zip(*to_px(real)):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=real_colour)
    for x, y in zip(*to_px(points)):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    if highlight is not None:
        for x, y in zip(*to_px(highlight)):
            draw.ellipse([x - 4 * r, y - 4 * r, x + 4 * r, y + 4 * r], fill=(255, 214, 10), outline=(20, 20, 20))
    draw.rectangle(box, outline=text_colour)
    if title:
        draw.text((box[0], margin_t // 2), title, fill=text_colour, font=font, anchor="lm")
    return np.asarray(image)


#: D(x) colours, as the app's 2-D view draws them: 0 (looks fake) purple, 0.5 dark, 1 (looks real) green.
FIELD_COLOURS = ((0.0, (74, 38, 96)), (0.5, (30, 32, 38)), (1.0, (26, 96, 58)))


def _paint_field(image: Image.Image, box: tuple[int, int, int, int], extent: tuple[float, float, float, float],
                 values: np.ndarray, field_extent: tuple[float, float, float, float]) -> None:
    """Paint D(x) (H, W) over ``field_extent`` into the data box of ``image`` (nearest cell per pixel)."""
    v = np.asarray(values, np.float64)
    if v.ndim != 2 or v.size == 0:
        raise ValueError(f"a field must be (H, W), got shape {v.shape}")
    x0, y0, x1, y1 = box
    xmin, xmax, ymin, ymax = extent
    fx0, fx1, fy0, fy1 = (float(e) for e in field_extent)
    px = xmin + (np.arange(x0, x1) + 0.5 - x0) / (x1 - x0) * (xmax - xmin)  # data x of each column
    py = ymax - (np.arange(y0, y1) + 0.5 - y0) / (y1 - y0) * (ymax - ymin)  # data y of each row (y up)
    col = np.floor((px - fx0) / (fx1 - fx0) * v.shape[1]).astype(int)
    row = np.floor((py - fy0) / (fy1 - fy0) * v.shape[0]).astype(int)
    inside = (row[:, None] >= 0) & (row[:, None] < v.shape[0]) & (col[None] >= 0) & (col[None] < v.shape[1])
    cells = v[np.clip(row, 0, v.shape[0] - 1)][:, np.clip(col, 0, v.shape[1] - 1)]  # (rows, cols)
    cells = np.clip(np.nan_to_num(cells, nan=0.5), 0.0, 1.0)
    stops = np.array([s for s, _ in FIELD_COLOURS])
    rgb = np.stack([np.interp(cells, stops, [c[i] for _, c in FIELD_COLOURS]) for i in range(3)], -1)
    pixels = np.asarray(image).copy()
    area = pixels[y0:y1, x0:x1]
    area[inside] = rgb[inside].round().astype(np.uint8)
    image.paste(Image.fromarray(pixels))


def cloud_extent(*clouds: np.ndarray | None, quantile: float = 0.5, margin: float = 0.1,
                 square: bool = True) -> tuple[float, float, float, float]:
    """A view box ``(xmin, xmax, ymin, ymax)`` around 2-D point clouds, robust to stragglers.

    Each cloud (N, 2) contributes its central ``[quantile, 100 − quantile]`` percentiles per axis
    (a few far points do not widen the box); the union is padded by ``margin`` of its larger side and,
    with ``square``, made square about its centre (so a circle stays a circle). Empty or missing
    clouds are skipped; with none left the box is (−1, 1, −1, 1).
    """
    los, his = [], []
    for c in clouds:
        if c is None:
            continue
        p = np.asarray(c, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        if len(p):
            los.append(np.percentile(p, quantile, axis=0))
            his.append(np.percentile(p, 100.0 - quantile, axis=0))
    if not los:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = np.min(los, axis=0), np.max(his, axis=0)
    centre, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, 1e-3)
    if square:
        half = np.full(2, half.max())
    half = half + margin * 2 * half.max()
    return (float(centre[0] - half[0]), float(centre[0] + half[0]), float(centre[1] - half[1]),
            float(centre[1] + half[1]))
