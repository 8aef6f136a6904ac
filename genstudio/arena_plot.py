"""The arena's picture: a quality figure of each contender against CPU-seconds, drawn with PIL (Qt-free).

No plotting library is a dependency of GenStudio's core; a line chart with axes, ticks and a legend
is a few PIL calls. The figure is the share within 0.1 of a mode for data sets with modes (ring8,
grid25), else the sliced Wasserstein distance; one line per contender and seed.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

COLOURS = {"gan": (214, 39, 40), "diffusion": (31, 119, 180)}
W, H, LEFT, RIGHT, TOP, BOTTOM = 900, 530, 80, 30, 60, 60


def ticks(hi: float, lo: float = 0.0, most: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 × 10^k apart) from ``lo`` to ``hi``, at most ``most`` + 1 of them."""
    span = max(hi - lo, 1e-12)
    step = next(m * 10 ** e for e in range(math.floor(math.log10(span / most)), 99) for m in (1, 2, 5)
                if span / (m * 10 ** e) <= most)
    first = math.ceil(lo / step)
    return [round(k * step, 10) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def plot_arena(points: list, path: Path, title: str = "") -> None:
    """Write ``path`` (PNG): one line per (kind, seed) of ``points`` (:class:`~genstudio.arena.ArenaPoint`)."""
    with_modes = any(p.modes for p in points)
    value = (lambda p: 100 * p.share) if with_modes else (lambda p: p.swd)
    label = "% of samples within 0.1 of a mode" if with_modes else "sliced Wasserstein distance to real points"
    finite = [value(p) for p in points if math.isfinite(value(p))]
    x_max = max([p.cpu_s for p in points] + [1e-9])
    y_lo, y_hi = (0.0, 100.0) if with_modes else (0.0, max(finite + [1e-9]) * 1.05)
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)

    def xy(x: float, y: float) -> tuple[float, float]:
        y = min(max(y, y_lo), y_hi)
        return (LEFT + (W - LEFT - RIGHT) * x / x_max, H - BOTTOM - (H - TOP - BOTTOM) * (y - y_lo) / (y_hi - y_lo))

    font = ImageFont.load_default(size=14)
    d.rectangle([LEFT, TOP, W - RIGHT, H - BOTTOM], outline=(120, 120, 120))
    for fx in ticks(x_max):
        px, _ = xy(fx, y_lo)
        d.line([px, TOP, px, H - BOTTOM], fill=(235, 235, 235))
        d.text((px, H - BOTTOM + 6), f"{fx:g}", fill="black", font=font, anchor="mt")
    for fy in ticks(y_hi, y_lo):
        _, py = xy(0, fy)
        d.line([LEFT, py, W - RIGHT, py], fill=(235, 235, 235))
        d.text((LEFT - 8, py), f"{fy:g}", fill="black", font=font, anchor="rm")
    d.text(((W + LEFT - RIGHT) / 2, H - 22), "CPU-seconds of training", fill="black", font=font, anchor="mt")
    d.text((LEFT, 10), title, fill="black", font=font)
    d.text((LEFT, 28), label, fill=(80, 80, 80), font=font)
    for (kind, seed) in sorted({(p.kind, p.seed) for p in points}):
        run = [p for p in points if p.kind == kind and p.seed == seed and math.isfinite(value(p))]
        line = [xy(p.cpu_s, value(p)) for p in run]
        if len(line) > 1:
            d.line(line, fill=COLOURS.get(kind, (0, 0, 0)), width=2)
        for x, y in line:
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=COLOURS.get(kind, (0, 0, 0)))
    kinds = sorted({p.kind for p in points})
    for i, kind in enumerate(kinds):  # legend where the lines end up not going: shares rise, distances fall
        x0 = W - RIGHT - 150
        y0 = (H - BOTTOM - 14 - 18 * (len(kinds) - i)) if with_modes else TOP + 10 + 18 * i
        d.line([x0, y0 + 6, x0 + 24, y0 + 6], fill=COLOURS.get(kind, (0, 0, 0)), width=3)
        d.text((x0 + 30, y0 + 6), kind, fill="black", font=font, anchor="lm")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
