"""Is a sample new, or a training image? Nearest training images and a memorisation meter (Qt-free).

Carlini et al. (2023, "Extracting training data from diffusion models") call a generated image a
copy when it is much closer to one training image than to the rest: with d₁ ≤ d₂ the distances to
its nearest and second-nearest training images, the ratio d₁ / d₂ is near 1 for a new image (it sits
between many training images) and near 0 for a copy (one training image is far nearer than any
other). GenStudio reports that ratio per sample and the share of samples below
:data:`COPY_RATIO` — in pixel space, and also in a feature space: for gray images the digits
classifier's (:mod:`genstudio.quality`), where "the same digit drawn the same way" is near; for RGB
images the hidden layer of the faces attribute classifier (:mod:`genstudio.faces_reader`, trained on
the faces set's known factors: for faces, "the same hair, smile and skin" is near; for other colour
sets it is a small CNN's general view, not one trained on them).

The threshold is checked on real data (``tests/core/test_memorisation.py``): held-out real digits
pass as new (their nearest training digit is another person's drawing), training digits with a
little noise pass as copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["COPY_RATIO", "Neighbours", "TrainingIndex", "at_size", "nearest_training", "copy_ratios", "memorisation",
           "training_index", "verdict"]

#: a sample whose nearest training image is at most this fraction of the distance to the second is a copy
COPY_RATIO = 1 / 3
SPACES = ("pixels", "features")


@dataclass(frozen=True)
class Neighbours:
    """The ``k`` nearest training images of each sample: ``indices`` and ``distances`` (N, k), nearest first."""

    indices: np.ndarray
    distances: np.ndarray
    space: str

    @property
    def ratios(self) -> np.ndarray:
        """d₁ / d₂ per sample (N,): near 0 for a copy, near 1 for a new image."""
        return copy_ratios(self.distances)

    @property
    def copies(self) -> np.ndarray:
        """Whether each sample passes as a copy (N,) bool."""
        return self.ratios < COPY_RATIO


def _vectors(images: torch.Tensor, space: str) -> torch.Tensor:
    if space == "pixels":
        return images.reshape(len(images), -1).double()
    if space == "features":
        if images.shape[1] == 3:  # colour: the faces attribute classifier's hidden layer
            from genstudio.faces_reader import face_features

            return torch.from_numpy(face_features(images)).double()
        if images.shape[1] != 1:
            raise ValueError("the feature space reads gray (digits classifier) or RGB (faces classifier) images")
        from genstudio.quality import digit_features

        return torch.from_numpy(digit_features(images)).double()
    raise ValueError(f"space must be {' or '.join(SPACES)}, not {space!r}")


def at_size(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``images`` (N, C, h, w) resized to ``size`` (bilinear, antialiased): how samples of another size
    are compared with the training images (unchanged when they already fit)."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False)


class TrainingIndex:
    """A model's training images, ready to be searched: each space's vectors are computed once.

    The app keeps one per model (the strip beside a sample asks it again at every slider move);
    ``name`` says what the images are ("the 1,797 training images of digits").
    """

    def __init__(self, images: np.ndarray | torch.Tensor, name: str = "the training images") -> None:
        self.images = torch.as_tensor(np.asarray(images, np.float32))  # (M, C, H, W)
        if self.images.ndim != 4:
            raise ValueError(f"training images must be (M, C, H, W), not {tuple(self.images.shape)}")
        self.name = name
        self._vectors: dict[str, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.images)

    @property
    def spaces(self) -> tuple[str, ...]:
        """The spaces these images can be compared in: the features are the digits classifier's (gray) or
        the faces attribute classifier's (RGB)."""
        return SPACES if self.images.shape[1] in (1, 3) else ("pixels",)

    def vectors(self, space: str) -> torch.Tensor:
        """The training images as (M, D) vectors in ``space`` (computed on first use): the features as
        float64, the pixels as a float32 view of the images (made float64 a block at a time in
        :meth:`nearest`: 10,000 faces of 64 px would take another 1 GB)."""
        if space == "pixels":
            return self.images.reshape(len(self.images), -1)
        if space not in self._vectors:
            self._vectors[space] = _vectors(self.images, space)
        return self._vectors[space]

    def nearest(self, samples: np.ndarray | torch.Tensor, k: int = 4, space: str = "pixels",
                chunk: int = 256) -> Neighbours:
        """The ``k`` (≥ 2) nearest training images to each of ``samples`` (N, C, h, w), by L2 in ``space``;
        samples of another size are resized (bilinear, antialiased) to the training images'."""
        x = torch.as_tensor(np.asarray(samples, np.float32))
        train = self.images
        if x.ndim != 4 or x.shape[1] != train.shape[1]:
            raise ValueError(f"samples {tuple(x.shape)} and training images {tuple(train.shape)} must both be "
                             "(N, C, H, W) with the same channels")
        if not 2 <= k <= len(train):
            raise ValueError(f"k must lie in 2 … {len(train)} (the training images), not {k}")
        a, b = _vectors(at_size(x, tuple(train.shape[-2:])), space), self.vectors(space)
        idx, dist = [], []
        for part in a.split(chunk):
            d = torch.cat([torch.cdist(part, block.double()) for block in b.split(4096)], dim=1)  # (n, M)
            top = torch.topk(d, k, dim=1, largest=False)
            idx.append(top.indices)
            dist.append(top.values)
        return Neighbours(torch.cat(idx).numpy(), torch.cat(dist).numpy(), space)


def nearest_training(samples: np.ndarray | torch.Tensor, training: np.ndarray | torch.Tensor, k: int = 4,
                     space: str = "pixels", chunk: int = 256) -> Neighbours:
    """The ``k`` (≥ 2) nearest of ``training`` (M, C, H, W) to each of ``samples`` (N, C, h, w), by L2 in
    ``space``; samples of another size are resized (bilinear, antialiased) to the training images'."""
    train = np.asarray(training, np.float32)
    if train.ndim != 4:
        raise ValueError(f"samples {tuple(np.shape(samples))} and training images {tuple(train.shape)} must both "
                         "be (N, C, H, W) with the same channels")
    return TrainingIndex(train).nearest(samples, k, space, chunk)


def training_index(model) -> TrainingIndex:
    """The training images of ``model`` (a GAN or diffusion model of images, text-to-image too), loaded as
    its run loaded them (data set, size, channels and seed from the checkpoint's config).

    Raises
    ------
    ValueError
        A 2-D point model, or a checkpoint that does not say what it was trained on.
    """
    from genstudio.config import RunConfig
    from genstudio.data import load_dataset

    if getattr(model, "is_points", False):
        raise ValueError("the nearest training images are for image models; this one makes 2-D points")
    config = model.meta.get("config") if isinstance(getattr(model, "meta", None), dict) else None
    if not isinstance(config, dict):
        raise ValueError("this checkpoint does not say which data set it was trained on")
    cfg = RunConfig.from_dict(config)
    data = load_dataset(cfg.data, size=cfg.size, channels=cfg.channels, seed=cfg.seed)
    return TrainingIndex(data.tensor, f"the {len(data):,} training images of {data.name}")


def verdict(ratio: float) -> str:
    """One line on one sample's d₁ / d₂: "copy (d₁/d₂ 0.12 < 0.33)" or "new (d₁/d₂ 0.91 ≥ 0.33)"."""
    if ratio < COPY_RATIO:
        return f"copy (d₁/d₂ {ratio:.2f} < {COPY_RATIO:.2f})"
    return f"new (d₁/d₂ {ratio:.2f} ≥ {COPY_RATIO:.2f})"


def copy_ratios(distances: np.ndarray) -> np.ndarray:
    """d₁ / d₂ from sorted neighbour distances (N, ≥ 2); 0 / 0 (two identical training images) counts as 0."""
    d = np.asarray(distances, np.float64)
    return np.divide(d[:, 0], d[:, 1], out=np.zeros(len(d)), where=d[:, 1] > 0)


def memorisation(samples: np.ndarray | torch.Tensor, training: np.ndarray | torch.Tensor,
                 space: str = "pixels") -> tuple[float, np.ndarray]:
    """(the share of samples that pass as copies, their d₁ / d₂ ratios (N,))."""
    nb = nearest_training(samples, training, k=2, space=space)
    return float(nb.copies.mean()), nb.ratios
