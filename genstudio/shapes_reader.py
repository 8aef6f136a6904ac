"""Reading a shapes image back into words: the fill's colour, the shape, where it is, the background.

The measuring stick of text-to-image prompt accuracy on ``shapes`` (:mod:`genstudio.prompt_accuracy`).
Three of the four factors are read by rules, with the same definitions the captions use
(:mod:`genstudio.data.captions`):

* **background**: the median colour of the image's outer ring of pixels (a shape never touches the
  frame), light if its luminance is above one half;
* **foreground**: each pixel's distance from the background colour, less the ring's own median
  distance (noise), relative to the farthest pixel; the shape's *silhouette* is that, in [0, 1];
* **colour**: :func:`~genstudio.data.captions.colour_name` of the median of the silhouette's core
  (pixels at ≥ 80 % of the largest distance: inside the shape, away from antialiased edges);
* **position**: :func:`~genstudio.data.captions.position_name` of the centre of mass of the
  silhouette's body (where it is ≥ 0.5, so faint noise elsewhere does not pull it to the middle).

The **shape** is read by a small CNN from the silhouette alone (so it does not care about colour),
trained deterministically on drawn shapes whose kind is known (``python -m genstudio.shapes_reader
--train``); its weights ship as ``resources/shapes_classifier.safetensors``. :func:`check_reader`
measures all four readings on held-out real images (a seed training never used).
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genstudio.data.captions import colour_name, position_name
from genstudio.reader_training import fit, load_shipped, reader_main

CLASSIFIER_FILE = "shapes_classifier.safetensors"
INPUT_SIZE = 32  # silhouettes are resized to 32 x 32 for the shape classifier
TRAIN_SEED = 1  # the shapes drawn for training (the default data set is seed 0)
CHECK_SEED = 2  # held-out real shapes for check_reader: never trained on
TRAIN_SIZES = (16, 32, 64)  # the image sizes GenStudio trains at
CORE = 0.8  # colour is read from pixels at >= this fraction of the largest distance from the background
_LUMA = (0.299, 0.587, 0.114)


class ShapeNet(nn.Module):
    """Silhouette (B, 1, 32, 32) in [0, 1] → 5 logits (``SHAPES``): 32² → 16² → 8² → pooled 64 → 5."""

    def __init__(self, classes: int = 5):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),  # (B, 16, 32, 32)
            nn.MaxPool2d(2),  # (B, 16, 16, 16)
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 8, 8)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),  # (B, 64, 8, 8)
        )
        self.head = nn.Linear(64 * 2, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)  # (B, 64, 8, 8)
        pooled = torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1)  # (B, 128): where it is does not matter
        return self.head(pooled)  # (B, 5)


@dataclass(frozen=True)
class Reading:
    """What one image shows, in the captions' words."""

    colour: str
    shape: str
    position: str
    background: str  # "light" or "dark"


def _as_images(images) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images, np.float32) if isinstance(images, np.ndarray) else images)
    x = x.detach().to("cpu", torch.float32)
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"RGB images of shape (N, 3, H, W) needed, got {tuple(x.shape)}")
    return torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0).clamp(-1.0, 1.0)


def silhouettes(images) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, H, W) images in [-1, 1] → (silhouettes (N, H, W) in [0, 1], backgrounds (N, 3) in [-1, 1])."""
    x = _as_images(images)
    n, _, h, w = x.shape
    ring = torch.ones(h, w, dtype=torch.bool)
    k = max(1, h // 32)  # one pixel at 32 px, more on bigger images
    ring[k:h - k, k:w - k] = False
    back = x[:, :, ring].median(dim=2).values  # (N, 3)
    dist = (x - back[:, :, None, None]).norm(dim=1)  # (N, H, W)
    floor = dist[:, ring].median(dim=1).values  # (N,) the background's own spread (noise), 0 if clean
    top = dist.flatten(1).amax(1)  # (N,)
    scale = (top - floor).clamp_min(1e-6)
    return ((dist - floor[:, None, None]) / scale[:, None, None]).clamp(0.0, 1.0), back


@functools.lru_cache(maxsize=1)
def load_shape_classifier() -> ShapeNet:
    """The shipped shape classifier, in eval mode on the CPU."""
    return load_shipped(ShapeNet(), CLASSIFIER_FILE, "python -m genstudio.shapes_reader --train")


def classifier_input(sil: torch.Tensor) -> torch.Tensor:
    """(N, H, W) silhouettes → (N, 1, 32, 32) classifier input (antialiased bilinear resize)."""
    x = sil.unsqueeze(1)  # (N, 1, H, W)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(0.0, 1.0).contiguous()


@torch.inference_mode()
def read_shapes(images, net: ShapeNet | None = None) -> list[Reading]:
    """Read colour, shape, position and background from each (N, 3, H, W) image in [-1, 1]."""
    from genstudio.data.shapes import SHAPES

    x = _as_images(images)
    sil, back = silhouettes(x)  # (N, H, W), (N, 3)
    net = net or load_shape_classifier()
    kinds = torch.cat([net(classifier_input(sil[i:i + 512])).argmax(1) for i in range(0, len(x), 512)]
                      or [torch.zeros(0, dtype=torch.long)])
    n, h, w = sil.shape
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
    out = []
    for i in range(n):
        s = sil[i] * (sil[i] >= 0.5)  # the shape itself: faint noise off it must not pull the centre
        mass = s.sum().clamp_min(1e-6)
        cx, cy = float((s.sum(0) * xs).sum() / mass), float((s.sum(1) * ys).sum() / mass)
        # (3, K), K >= 1: the farthest pixel is in, and a blank image (all 0: no pixel stands out) gives all of them
        core = x[i][:, sil[i] >= min(CORE, float(sil[i].max()))]
        fill = ((core.median(dim=1).values + 1.0) * 127.5).clamp(0, 255).tolist()
        b = ((back[i] + 1.0) * 127.5).clamp(0, 255).tolist()
        luma = sum(c * wt for c, wt in zip(b, _LUMA)) / 255.0
        out.append(Reading(colour_name(fill), SHAPES[int(kinds[i])], position_name(cx, cy),
                           "light" if luma > 0.5 else "dark"))
    return out


def truth(data) -> list[Reading]:
    """The readings a shapes data set's own factors say each image should give (the captions' words)."""
    from genstudio.data.captions import _luma
    from genstudio.data.shapes import SHAPES

    f = data.info["factors"]
    return [Reading(colour_name(c), SHAPES[int(s)], position_name(float(x), float(y)),
                    "light" if _luma(b) > 0.5 else "dark")
            for s, c, x, y, b in zip(f["shape"], f["colour"], f["x"], f["y"], f["background"])]


def check_reader(n: int = 2000, size: int = 32, seed: int = CHECK_SEED) -> dict[str, float]:
    """Fraction of ``n`` held-out real shapes images (drawn with ``seed``) whose every factor reads right."""
    from genstudio.data import load_dataset

    data = load_dataset("shapes", size=size, num_images=n, seed=seed)
    got, want = read_shapes(data.tensor), truth(data)
    return {f: float(np.mean([getattr(g, f) == getattr(t, f) for g, t in zip(got, want)]))
            for f in ("colour", "shape", "position", "background")}


# ---------------------------------------------------------------------------- training the classifier
def train_shape_classifier(n: int = 12_000, epochs: int = 8, batch: int = 128, lr: float = 2e-3,
                           seed: int = TRAIN_SEED, log: Callable[[str], None] = print) -> ShapeNet:
    """Train :class:`ShapeNet` on the silhouettes of ``n`` drawn shapes (seed ``seed``), deterministically.

    A third of the images are drawn at each of 16, 32 and 64 px (the sizes GenStudio trains at; then
    brought to 32 like any input), and
    each gets pixel noise of its own strength (σ from 0 to 0.12) before its silhouette is taken, so
    the classifier does not hinge on perfectly clean edges, as a generated image's are not.
    """
    from genstudio.data import load_dataset

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    parts, labels = [], []
    for k, size in enumerate(TRAIN_SIZES):
        data = load_dataset("shapes", size=size, num_images=n // len(TRAIN_SIZES), seed=seed * 100 + k)
        sigma = 0.12 * torch.rand(len(data), 1, 1, 1, generator=gen)  # (n/3, 1, 1, 1): 0 (clean) .. 0.12
        noisy = (data.tensor + sigma * torch.randn(data.tensor.shape, generator=gen)).clamp(-1.0, 1.0)
        parts.append(classifier_input(silhouettes(noisy)[0]))  # (n/3, 1, 32, 32)
        labels.append(data.labels)
    x, y = torch.cat(parts), torch.cat(labels)
    net = ShapeNet()
    return fit(net, len(x), lambda idx: F.cross_entropy(net(x[idx]), y[idx]), epochs=epochs, batch=batch,
               lr=lr, gen=gen, after_epoch=lambda epoch, loss: log(f"epoch {epoch}: loss {loss:.4f}"))


def main(argv: list[str] | None = None) -> int:
    """``python -m genstudio.shapes_reader --train [--out FILE]`` or ``--check``."""
    return reader_main(argv, module="shapes_reader", what="shape classifier",
                       out=Path(__file__).resolve().parent.parent / "resources" / CLASSIFIER_FILE,
                       train=train_shape_classifier, loaded=load_shape_classifier, check=check_reader,
                       meta={"genstudio": "shapes_classifier", "input_size": str(INPUT_SIZE), "seed": str(TRAIN_SEED)},
                       sizes=TRAIN_SIZES, check_seed=CHECK_SEED)


if __name__ == "__main__":
    sys.exit(main())
