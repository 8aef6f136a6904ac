"""Draw 2-D samples from ``genstudio sample CKPT --out POINTS.npy`` over the real data, as a PNG.

Real points are grey, samples orange; for ring8 and grid25 each mode centre gets a circle of
radius ``--radius`` (the mode-coverage radius) and the title line gives the coverage figures.
Pillow only, so it runs wherever GenStudio does.

Run::

    genstudio sample checkpoints/gan_ring8.safetensors --n 5000 --out /tmp/ring8.npy --seed 0
    python docs/points_figure.py /tmp/ring8.npy --data ring8 --out docs/gan_ring8.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from genstudio.data import load_dataset
from genstudio.metrics import mode_coverage


def render(samples: np.ndarray, real: np.ndarray, centers: np.ndarray | None, radius: float,
           size: int = 480, title: str = "") -> Image.Image:
    """An RGB image of ``real`` (N, 2) in grey and ``samples`` (M, 2) in orange on a dark ground."""
    half = float(np.abs(real).max()) + 0.5  # square view around the data, in data units
    margin_top = 22 if title else 0
    img = Image.new("RGB", (size, size + margin_top), (30, 30, 34))
    draw = ImageDraw.Draw(img)

    def to_px(p: np.ndarray) -> np.ndarray:  # (K, 2) data -> (K, 2) pixels, y up
        xy = (p + half) / (2 * half) * (size - 1)
        return np.stack([xy[:, 0], size - 1 - xy[:, 1] + margin_top], 1)

    for x, y in to_px(real[:5000]):
        draw.point((float(x), float(y)), fill=(120, 120, 128))
    if centers is not None:
        r = radius / (2 * half) * (size - 1)
        for x, y in to_px(centers):
            draw.ellipse((x - r, y - r, x + r, y + r), outline=(90, 160, 230))
    finite = samples[np.isfinite(samples).all(1)]
    for x, y in to_px(finite):
        draw.ellipse((x - 1, y - 1, x + 1, y + 1), fill=(255, 150, 40))
    if title:
        draw.text((8, 5), title, fill=(230, 230, 230))
    return img


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("samples", type=Path, help=".npy of (N, 2) points from genstudio sample")
    p.add_argument("--data", default="ring8", help="the 2-D data set the model was trained on")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--radius", type=float, default=0.1)
    p.add_argument("--label", default="", help="text before the coverage figures in the title")
    args = p.parse_args(argv)
    samples = np.load(args.samples).astype(np.float64)  # (N, 2)
    data = load_dataset(args.data, num_points=5000, seed=0)
    centers = data.centers.numpy() if data.centers is not None else None
    title = args.label
    if centers is not None:
        frac, modes = mode_coverage(samples, centers, radius=args.radius)
        title = (f"{title} | " if title else "") + (
            f"{len(samples)} samples: {100 * frac:.1f} % within {args.radius:g} of a mode, "
            f"{modes}/{len(centers)} modes")
    img = render(samples, data.tensor.numpy(), centers, args.radius, title=title)
    img.save(args.out, optimize=True)
    print(f"wrote {args.out} ({title})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
