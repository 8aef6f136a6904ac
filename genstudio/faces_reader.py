"""Reading a face back into the captions' words: hair style and colour, skin tone, eye colour.

The measuring stick of text-to-image prompt accuracy on ``faces`` (:mod:`genstudio.prompt_accuracy`):
one small CNN with a head per factor, trained deterministically on drawn faces whose factors are
known (``python -m genstudio.faces_reader --train``); its weights ship as
``resources/faces_classifier.safetensors``. :func:`check_reader` measures every factor on held-out
real faces (a seed training never used): a factor the reader cannot see at a size (eye colour at
16 px is about one pixel) shows up there, and is worth less as a score.

A smile or a frown is *not* read: the mouth's curve is about half a pixel at 32 px, and neither a
head of this network (39 % right, chance) nor a rule on the lips' pixels (at best 87 % at 64 px,
chance at 32 px) read it reliably at the sizes models are trained at. A bald face's hair colour is not read
either (there is no hair to see); it is left out of training and of the check.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from genstudio.reader_training import fit, load_shipped, reader_main

CLASSIFIER_FILE = "faces_classifier.safetensors"
INPUT_SIZE = 32
TRAIN_SEED = 1
CHECK_SEED = 2
TRAIN_SIZES = (16, 32, 64)
IGNORE = -100  # a label cross_entropy skips: the hair colour of a bald face


def _names() -> dict[str, tuple[str, ...]]:
    from genstudio.data.faces import HAIR_NAMES, HAIR_STYLES, IRIS_NAMES, SKIN_NAMES

    return {"hair_style": HAIR_STYLES, "hair_colour": HAIR_NAMES, "skin": SKIN_NAMES,
            "eyes": IRIS_NAMES}


class FaceNet(nn.Module):
    """(B, 3, 32, 32) in [-1, 1] → one set of logits per factor: 32² → 16² → 8² → 4² → 128 → heads."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),  # (B, 32, 32, 32)
            nn.MaxPool2d(2),  # (B, 32, 16, 16)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 8, 8)
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 4, 4)
        )
        self.hidden = nn.Linear(64 * 4 * 4, 128)
        self.heads = nn.ModuleDict({f: nn.Linear(128, len(v)) for f, v in _names().items()})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = F.relu(self.hidden(self.conv(x).flatten(1)))  # (B, 128)
        return {f: head(h) for f, head in self.heads.items()}  # factor → (B, classes)


def prepare(images) -> torch.Tensor:
    """(N, 3, H, W) images in [-1, 1] → (N, 3, 32, 32) classifier input (antialiased bilinear)."""
    x = torch.as_tensor(np.asarray(images, np.float32) if isinstance(images, np.ndarray) else images)
    x = x.detach().to("cpu", torch.float32)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"RGB images of shape (N, 3, H, W) needed, got {tuple(x.shape)}")
    x = torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0).clamp(-1.0, 1.0)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(-1.0, 1.0).contiguous()


@functools.lru_cache(maxsize=1)
def load_face_classifier() -> FaceNet:
    """The shipped faces classifier, in eval mode on the CPU."""
    return load_shipped(FaceNet(), CLASSIFIER_FILE, "python -m genstudio.faces_reader --train")


@torch.inference_mode()
def face_features(images, net: FaceNet | None = None) -> np.ndarray:
    """The faces classifier's 128 hidden features of each (N, 3, H, W) image in [-1, 1]: (N, 128)
    float32, the feature space the nearest-neighbour search uses for colour images."""
    net = net or load_face_classifier()
    x = prepare(images)
    parts = [F.relu(net.hidden(net.conv(x[i:i + 512]).flatten(1))) for i in range(0, len(x), 512)]
    return torch.cat(parts).numpy() if parts else np.zeros((0, 128), np.float32)


@torch.inference_mode()
def read_faces(images, net: FaceNet | None = None) -> list[dict[str, str]]:
    """Each (N, 3, H, W) face in [-1, 1] as factor → word (``{"hair_colour": "red", ...}``)."""
    net = net or load_face_classifier()
    x = prepare(images)
    names = _names()
    picks = {f: [] for f in names}
    for i in range(0, len(x), 512):
        for f, logits in net(x[i:i + 512]).items():
            picks[f].append(logits.argmax(1))
    idx = {f: torch.cat(v).tolist() if v else [] for f, v in picks.items()}
    return [{f: names[f][idx[f][i]] for f in names} for i in range(len(x))]


def factor_labels(data) -> dict[str, np.ndarray]:
    """A faces data set's known factors as class indices of :func:`read_faces`'s words."""
    f = data.info["factors"]
    style = np.asarray(f["hair_style"])
    return {"hair_style": style, "hair_colour": np.where(style == 0, IGNORE, np.asarray(f["hair_colour"])),
            "skin": np.asarray(f["skin"]), "eyes": np.asarray(f["eye_colour"])}


def truth(data) -> list[dict[str, str]]:
    """The words a faces data set's own factors say each image should read as (None: not readable)."""
    names, labels = _names(), factor_labels(data)
    return [{k: names[k][int(labels[k][i])] if labels[k][i] != IGNORE else None for k in names}
            for i in range(len(data))]


def check_reader(n: int = 2000, size: int = 32, seed: int = CHECK_SEED) -> dict[str, float]:
    """Fraction of ``n`` held-out real faces (drawn with ``seed``) read right, per factor (hair colour:
    of the faces with hair)."""
    from genstudio.data import load_dataset

    data = load_dataset("faces", size=size, num_images=n, seed=seed)
    got, want = read_faces(data.tensor), truth(data)
    return {f: float(np.mean([g[f] == w[f] for g, w in zip(got, want) if w[f] is not None])) for f in _names()}


def train_face_classifier(n: int = 12_000, epochs: int = 10, batch: int = 128, lr: float = 2e-3,
                          seed: int = TRAIN_SEED, log: Callable[[str], None] = print) -> FaceNet:
    """Train :class:`FaceNet` on ``n`` drawn faces (a third at each of 16, 32, 64 px), deterministically,
    with pixel noise of each image's own strength (σ 0 … 0.12) as for the shapes classifier."""
    from genstudio.data import load_dataset

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xs, ys = [], {f: [] for f in _names()}
    for k, size in enumerate(TRAIN_SIZES):
        data = load_dataset("faces", size=size, num_images=n // len(TRAIN_SIZES), seed=seed * 100 + k)
        sigma = 0.12 * torch.rand(len(data), 1, 1, 1, generator=gen)  # (n/3, 1, 1, 1)
        xs.append(prepare((data.tensor + sigma * torch.randn(data.tensor.shape, generator=gen)).clamp(-1, 1)))
        for f, v in factor_labels(data).items():
            ys[f].append(torch.from_numpy(v.astype(np.int64)))
    x, y = torch.cat(xs), {f: torch.cat(v) for f, v in ys.items()}
    net = FaceNet()

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        out = net(x[idx])
        return sum(F.cross_entropy(out[f], y[f][idx]) for f in out)

    return fit(net, len(x), batch_loss, epochs=epochs, batch=batch, lr=lr, gen=gen,
               after_epoch=lambda epoch, loss: log(f"epoch {epoch}: loss {loss:.4f}"))


def main(argv: list[str] | None = None) -> int:
    """``python -m genstudio.faces_reader --train [--out FILE]`` or ``--check``."""
    return reader_main(argv, module="faces_reader", what="faces classifier",
                       out=Path(__file__).resolve().parent.parent / "resources" / CLASSIFIER_FILE,
                       train=train_face_classifier, loaded=load_face_classifier, check=check_reader,
                       meta={"genstudio": "faces_classifier", "input_size": str(INPUT_SIZE), "seed": str(TRAIN_SEED)},
                       sizes=TRAIN_SIZES, check_seed=CHECK_SEED)


if __name__ == "__main__":
    sys.exit(main())
