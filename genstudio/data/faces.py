"""``faces``: procedurally drawn cartoon portraits with known generative factors.

Each image is a head-and-shoulders portrait: shirt, neck, ears, head (round, oval or wide, in one
of six skin tones), hair (bald, short, long or curly, in one of six colours), eyebrows, two eyes
(size varies; white, iris, pupil and a highlight), a nose and a mouth whose curve runs from frown
to smile, on a plain background. Faces are drawn with PIL at 4x the requested side and
box-downsampled, which antialiases them; they read as faces at 32 px and look clean at 64 px.

``info["factors"]`` holds every factor per image, so a model's latent space can be probed
against known truth (e.g. "does this direction change the smile?").
"""

from __future__ import annotations

import colorsys
import math

import numpy as np
from PIL import Image, ImageDraw

from genstudio.data import Dataset, uint8_to_tensor

SUPERSAMPLE = 4
SKIN = ((255, 224, 196), (241, 194, 150), (224, 172, 120), (198, 134, 80), (150, 95, 55), (96, 62, 40))
SKIN_NAMES = ("very light", "light", "medium", "tan", "brown", "dark")
HAIR = ((28, 24, 22), (84, 52, 30), (140, 90, 48), (226, 190, 112), (168, 70, 34), (180, 180, 186))
HAIR_NAMES = ("black", "dark brown", "brown", "blond", "red", "grey")
HAIR_STYLES = ("bald", "short", "long", "curly")
HEAD_SHAPES = ("round", "oval", "wide")
HEAD_HALF = ((0.25, 0.27), (0.215, 0.29), (0.285, 0.255))  # (half width, half height) per head shape
IRIS = ((92, 58, 30), (60, 110, 170), (70, 130, 80), (40, 30, 25))
IRIS_NAMES = ("brown", "blue", "green", "dark")
LIPS = (150, 48, 52)
WHITE = (250, 250, 250)
PUPIL = (15, 12, 12)
_MOUTH_T = np.linspace(-1.0, 1.0, 11)  # parameter along the mouth, corner to corner


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _shade(c, f: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, round(v * f)))) for v in c)


def sample_factors(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the factors of ``n`` faces; see ``load_faces`` for their meaning."""
    u = rng.random((n, 6))
    return {
        "skin": rng.integers(0, len(SKIN), n),
        "hair_colour": rng.integers(0, len(HAIR), n),
        "hair_style": rng.choice(len(HAIR_STYLES), n, p=(0.13, 0.35, 0.32, 0.20)),
        "head_shape": rng.integers(0, len(HEAD_SHAPES), n),
        "eye_colour": rng.integers(0, len(IRIS), n),
        "eye_size": rng.uniform(0.75, 1.3, n).astype(np.float32),
        "mouth_curve": rng.uniform(-1.0, 1.0, n).astype(np.float32),  # -1 frown .. 1 smile
        "scale": rng.uniform(0.92, 1.08, n).astype(np.float32),
        "dx": rng.uniform(-0.04, 0.04, n).astype(np.float32),
        "dy": rng.uniform(-0.03, 0.03, n).astype(np.float32),
        "background": np.array([_hsv(a, 0.15 + 0.4 * b, 0.55 + 0.4 * c) for a, b, c in u[:, :3]],
                               np.uint8).reshape(n, 3),
        "shirt": np.array([_hsv(a, 0.35 + 0.5 * b, 0.3 + 0.6 * c) for a, b, c in u[:, 3:]],
                          np.uint8).reshape(n, 3),
    }


def draw_face(f: dict[str, np.ndarray], i: int, side: int) -> Image.Image:
    """Draw face ``i`` of the factor arrays ``f`` on a ``side`` x ``side`` RGB canvas."""
    img = Image.new("RGB", (side, side), tuple(f["background"][i].tolist()))
    d = ImageDraw.Draw(img)
    k = float(f["scale"][i]) * side  # canvas pixels per face unit
    ox = (0.5 + float(f["dx"][i])) * side  # head centre x
    oy = (0.47 + float(f["dy"][i])) * side  # head centre y

    def box(x: float, y: float, rx: float, ry: float) -> tuple[float, float, float, float]:
        """Bounding box of an ellipse centred (x, y) in face units relative to the head centre."""
        return (ox + (x - rx) * k, oy + (y - ry) * k, ox + (x + rx) * k, oy + (y + ry) * k)

    def pt(x: float, y: float) -> tuple[float, float]:
        return ox + x * k, oy + y * k

    skin = SKIN[f["skin"][i]]
    hair = HAIR[f["hair_colour"][i]]
    style = int(f["hair_style"][i])
    hw, hh = HEAD_HALF[f["head_shape"][i]]
    line = max(1, round(0.008 * side))  # outline width on the big canvas
    skin_edge = _shade(skin, 0.72)
    hair_edge = _shade(hair, 0.7)

    # behind the head: long hair falls to the shoulders, curly hair is a bumpy cloud
    if style == 2:
        d.rounded_rectangle((ox - (hw + 0.06) * k, oy - (hh + 0.03) * k, ox + (hw + 0.06) * k,
                             oy + (hh + 0.2) * k), radius=(hw + 0.06) * k, fill=hair, outline=hair_edge,
                            width=line)
    elif style == 3:
        for a in range(0, 360, 30):
            r = a * math.pi / 180
            d.ellipse(box((hw + 0.02) * math.cos(r), -0.05 + hh * math.sin(r) * 0.9, 0.1, 0.1),
                      fill=hair)
        d.ellipse(box(0, -0.05, hw + 0.04, hh * 0.95), fill=hair)

    # shirt and neck
    shirt = tuple(f["shirt"][i].tolist())
    d.ellipse((ox - 0.44 * k, oy + (hh + 0.12) * k, ox + 0.44 * k, oy + (hh + 0.12 + 0.6) * k),
              fill=shirt, outline=_shade(shirt, 0.7), width=line)
    d.rectangle((ox - 0.075 * k, oy + (hh - 0.1) * k, ox + 0.075 * k, oy + (hh + 0.16) * k),
                fill=_shade(skin, 0.88))
    d.ellipse(box(0, hh + 0.14, 0.075, 0.035), fill=_shade(skin, 0.88))  # round collar line
    if style == 2:  # front locks over the shoulders
        for s in (-1, 1):
            d.rounded_rectangle((ox + s * (hw - 0.01) * k - 0.06 * k, oy, ox + s * (hw - 0.01) * k + 0.06 * k,
                                 oy + (hh + 0.2) * k), radius=0.05 * k, fill=hair)

    # ears, head
    for s in (-1, 1):
        d.ellipse(box(s * hw, 0.02, 0.045, 0.065), fill=skin, outline=skin_edge, width=line)
    d.ellipse(box(0, 0, hw, hh), fill=skin, outline=skin_edge, width=line)

    # hair on top: a cap cut off at the hairline (a chord of an ellipse a little larger than the head)
    if style in (1, 2, 3):
        drop = (0.58, 0.6, 0.55)[style - 1] * hh  # hairline height above the head centre
        rx, ry, cy = hw + 0.015, hh + 0.03, -0.02
        # the chord's straight edge lies at y = cy - ry * sin(a) = -drop
        a = math.degrees(math.asin(min(1.0, (drop + cy) / ry)))
        if style == 1:  # short: a thin rim down the sides to the ears, under the cap
            d.chord(box(0, cy, rx, ry), 180 - 25, 360 + 25, fill=hair)
            d.ellipse(box(0, 0.01, hw, hh), fill=skin)
        d.chord(box(0, cy, rx, ry), 180 + a, 360 - a, fill=hair,
                outline=hair_edge if style != 3 else None, width=line)
        if style == 1:  # a side-swept fringe
            d.pieslice(box(-hw * 0.25, -drop, hw * 0.55, 0.035), 0, 180, fill=hair)
        if style == 3:
            for x in np.linspace(-hw * 0.8, hw * 0.8, 5):
                d.ellipse(box(x, -drop - 0.005, 0.06, 0.04), fill=hair)

    # eyes: white, iris, pupil, highlight; brows above
    es = float(f["eye_size"][i])
    ex, ey = hw * 0.42, 0.0
    erx, ery = 0.05 * es, 0.038 * es
    iris = IRIS[f["eye_colour"][i]]
    brow = hair if style != 0 else _shade(skin, 0.45)
    for s in (-1, 1):
        x = s * ex
        d.ellipse(box(x, ey, erx, ery), fill=WHITE, outline=_shade(skin, 0.6), width=line)
        d.ellipse(box(x, ey + 0.004, ery * 0.85, ery * 0.85), fill=iris)
        d.ellipse(box(x, ey + 0.004, ery * 0.42, ery * 0.42), fill=PUPIL)
        d.ellipse(box(x + ery * 0.3, ey - ery * 0.3, ery * 0.18, ery * 0.18), fill=WHITE)
        by = ey - ery - 0.03
        d.line([pt(x - s * erx * 0.9, by + 0.012), pt(x, by), pt(x + s * erx * 1.0, by + 0.008)],
               fill=brow, width=max(1, round(0.022 * k)), joint="curve")

    # nose: a small shaded wedge
    d.polygon([pt(0, 0.05), pt(-0.026, 0.11), pt(0.026, 0.11)], fill=_shade(skin, 0.8))

    # mouth: a thick parabola (a filled band, cheaper than a curve-jointed line), corners up for a
    # smile and down for a frown
    mc = float(f["mouth_curve"][i])
    my, mw = hh * 0.55, 0.075 + 0.03 * abs(mc)
    half = 0.012  # half the lip-line thickness, face units
    xs = _MOUTH_T * mw
    ys = my - 0.025 * mc + 0.05 * mc * (1 - _MOUTH_T ** 2)
    band = [pt(x, y - half) for x, y in zip(xs, ys)] + [pt(x, y + half) for x, y in zip(xs[::-1], ys[::-1])]
    d.polygon(band, fill=LIPS)
    for x, y in ((xs[0], ys[0]), (xs[-1], ys[-1])):  # round the ends
        d.ellipse(box(x, y, half, half), fill=LIPS)
    return img


def load_faces(size: int, num_images: int = 10_000, seed: int = 0) -> Dataset:
    """Draw ``num_images`` faces of ``size`` x ``size`` px, RGB, deterministic for ``seed``.

    ``info["factors"]`` maps factor name -> numpy array over images: ``skin`` (index into
    ``SKIN_NAMES``), ``hair_colour`` (``HAIR_NAMES``), ``hair_style`` (``HAIR_STYLES``),
    ``head_shape`` (``HEAD_SHAPES``), ``eye_colour`` (``IRIS_NAMES``), ``eye_size`` (0.75-1.35),
    ``mouth_curve`` (-1 frown .. 1 smile), ``scale``, ``dx``, ``dy`` (framing jitter), and
    ``background``, ``shirt`` (N, 3) uint8 colours. ``info["factor_names"]`` names the categories.
    ``labels`` is None: no single factor is "the" class.
    """
    rng = np.random.default_rng(seed)
    factors = sample_factors(num_images, rng)
    big = size * SUPERSAMPLE
    out = np.empty((num_images, size, size, 3), np.uint8)  # (N, H, W, 3)
    for i in range(num_images):
        out[i] = np.asarray(draw_face(factors, i, big).reduce(SUPERSAMPLE))
    names = {"skin": SKIN_NAMES, "hair_colour": HAIR_NAMES, "hair_style": HAIR_STYLES,
             "head_shape": HEAD_SHAPES, "eye_colour": IRIS_NAMES}
    return Dataset(name="faces", kind="images", tensor=uint8_to_tensor(out), labels=None,
                   info={"factors": factors, "factor_names": names})

