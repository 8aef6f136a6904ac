"""``shapes``: procedurally drawn RGB images of one filled shape each, with known factors.

Each image shows a circle, square, triangle, star or cross with a random fill colour, size,
position and rotation on a random background colour (fill and background always differ clearly
in luminance). Images are drawn with PIL at 4x the requested side and box-downsampled, which
antialiases the edges. The label of an image is the index of its shape in ``SHAPES``.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch
from PIL import Image, ImageDraw

from genstudio.data import Dataset, uint8_to_tensor

SHAPES = ("circle", "square", "triangle", "star", "cross")
SUPERSAMPLE = 4  # draw at 4x, then average 4x4 blocks
MIN_CONTRAST = 0.3  # least luminance difference (0..1) between fill and background


def _luma(rgb: tuple[float, float, float]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def random_colours(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (fill, background) colour pairs as two ``(n, 3)`` uint8 arrays, contrasting in luma."""
    fill = np.zeros((n, 3), np.uint8)
    back = np.zeros((n, 3), np.uint8)
    u = rng.random((n, 8))  # plenty of uniforms so a retry needs no more draws
    for i in range(n):
        b = colorsys.hsv_to_rgb(u[i, 0], 0.15 + 0.5 * u[i, 1], 0.1 + 0.85 * u[i, 2])
        h, s, v = u[i, 3], 0.45 + 0.55 * u[i, 4], 0.2 + 0.8 * u[i, 5]
        f = colorsys.hsv_to_rgb(h, s, v)
        if abs(_luma(f) - _luma(b)) < MIN_CONTRAST:
            # move the fill's value away from the background: brighter on dark, darker on light
            v = 1.0 if _luma(b) < 0.5 else 0.1 * u[i, 6]
            f = colorsys.hsv_to_rgb(h, s if _luma(b) >= 0.5 else 0.45 + 0.3 * u[i, 7], v)
        fill[i] = np.round(np.array(f) * 255)
        back[i] = np.round(np.array(b) * 255)
    return fill, back


def shape_polygon(shape: int, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    """Vertices of shape ``SHAPES[shape]`` (not the circle) centred at (cx, cy), circumradius r."""
    if shape == 1:  # square
        angles = rot + np.pi / 4 + np.arange(4) * np.pi / 2
        radii = np.full(4, r)
    elif shape == 2:  # triangle: its centroid is the centre, so it looks centred
        angles = rot - np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        radii = np.full(3, r * 1.1)
    elif shape == 3:  # five-pointed star
        angles = rot - np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r * 1.1, r * 0.45)
    elif shape == 4:  # plus sign: 12 corners, arms 0.35 r wide
        w = 0.35 * r
        px = np.array([w, w, r, r, w, w, -w, -w, -r, -r, -w, -w])
        py = np.array([r, w, w, -w, -w, -r, -r, -w, -w, w, w, r])
        c, s = np.cos(rot), np.sin(rot)
        return [(cx + c * x - s * y, cy + s * x + c * y) for x, y in zip(px, py)]
    else:
        raise ValueError(f"no polygon for shape {shape}")
    return [(cx + rr * np.cos(a), cy + rr * np.sin(a)) for a, rr in zip(angles, radii)]


def load_shapes(size: int, num_images: int = 10_000, seed: int = 0) -> Dataset:
    """Draw ``num_images`` shape images of ``size`` x ``size`` px, RGB, deterministic for ``seed``.

    ``info["factors"]`` holds the per-image factors as numpy arrays: ``shape`` (N,), ``colour``
    and ``background`` (N, 3) uint8, ``scale`` (N,) as a fraction of the side, ``x`` and ``y``
    (N,) centre in [0, 1], ``rotation`` (N,) in radians.
    """
    rng = np.random.default_rng(seed)
    n = num_images
    shape = rng.integers(0, len(SHAPES), size=n)  # (N,)
    scale = rng.uniform(0.16, 0.34, size=n)  # (N,) circumradius / side
    # centre anywhere that keeps the shape (plus margin) inside the frame
    lo = scale * 1.1 + 0.02
    x = lo + (1 - 2 * lo) * rng.random(n)  # (N,)
    y = lo + (1 - 2 * lo) * rng.random(n)  # (N,)
    rotation = rng.uniform(0, 2 * np.pi, size=n)  # (N,)
    fill, back = random_colours(rng, n)  # (N, 3), (N, 3)

    big = size * SUPERSAMPLE
    out = np.empty((n, size, size, 3), np.uint8)  # (N, H, W, 3)
    for i in range(n):
        img = Image.new("RGB", (big, big), tuple(back[i].tolist()))
        draw = ImageDraw.Draw(img)
        cx, cy, r = x[i] * big, y[i] * big, scale[i] * big
        colour = tuple(fill[i].tolist())
        if shape[i] == 0:
            r *= 0.9  # a circle of the circumradius looks bigger than the polygons
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        else:
            draw.polygon(shape_polygon(int(shape[i]), cx, cy, r, rotation[i]), fill=colour)
        out[i] = np.asarray(img.reduce(SUPERSAMPLE))
    factors = {"shape": shape.astype(np.int64), "colour": fill, "background": back,
               "scale": scale.astype(np.float32), "x": x.astype(np.float32), "y": y.astype(np.float32),
               "rotation": rotation.astype(np.float32)}
    return Dataset(name="shapes", kind="images", tensor=uint8_to_tensor(out),
                   labels=torch.from_numpy(shape.astype(np.int64)),
                   info={"classes": SHAPES, "factors": factors})
