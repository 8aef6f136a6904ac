"""Is a sample new, or a training image? Nearest training images and a memorisation meter (Qt-free).

Carlini et al. (2023, "Extracting training data from diffusion models") call a generated image a
copy when it is much closer to one training image than to the rest: with d₁ ≤ d₂ the distances to
its nearest and second-nearest training images, the ratio d₁ / d₂ is near 1 for a new image (it sits
between many training images) and near 0 for a copy (one training image is far nearer than any
other). GenStudio reports that ratio per sample and the share of samples below
:data:`COPY_RATIO` — in pixel space, and for gray images also in the feature space of the digits
classifier (:mod:`genstudio.quality`), where "the same digit drawn the same way" is near.

The threshold is checked on real data (``tests/core/test_memorisation.py``): held-out real digits
pass as new (their nearest training digit is another person's drawing), training digits with a
little noise pass as copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["COPY_RATIO", "Neighbours", "at_size", "nearest_training", "copy_ratios", "memorisation"]

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
        if images.shape[1] != 1:
            raise ValueError("the feature space is the digits classifier's: it reads gray images only")
        from genstudio.quality import digit_features

        return torch.from_numpy(digit_features(images)).double()
    raise ValueError(f"space must be {' or '.join(SPACES)}, not {space!r}")


def at_size(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``images`` (N, C, h, w) resized to ``size`` (bilinear, antialiased): how samples of another size
    are compared with the training images (unchanged when they already fit)."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False)


def nearest_training(samples: np.ndarray | torch.Tensor, training: np.ndarray | torch.Tensor, k: int = 4,
                     space: str = "pixels", chunk: int = 256) -> Neighbours:
    """The ``k`` (≥ 2) nearest of ``training`` (M, C, H, W) to each of ``samples`` (N, C, h, w), by L2 in
    ``space``; samples of another size are resized (bilinear, antialiased) to the training images'."""
    x = torch.as_tensor(np.asarray(samples, np.float32))
    train = torch.as_tensor(np.asarray(training, np.float32))
    if x.ndim != 4 or train.ndim != 4 or x.shape[1] != train.shape[1]:
        raise ValueError(f"samples {tuple(x.shape)} and training images {tuple(train.shape)} must both be "
                         "(N, C, H, W) with the same channels")
    if not 2 <= k <= len(train):
        raise ValueError(f"k must lie in 2 … {len(train)} (the training images), not {k}")
    a, b = _vectors(at_size(x, tuple(train.shape[-2:])), space), _vectors(train, space)
    idx, dist = [], []
    for part in a.split(chunk):
        d = torch.cdist(part, b)  # (n, M)
        top = torch.topk(d, k, dim=1, largest=False)
        idx.append(top.indices)
        dist.append(top.values)
    return Neighbours(torch.cat(idx).numpy(), torch.cat(dist).numpy(), space)


def copy_ratios(distances: np.ndarray) -> np.ndarray:
    """d₁ / d₂ from sorted neighbour distances (N, ≥ 2); 0 / 0 (two identical training images) counts as 0."""
    d = np.asarray(distances, np.float64)
    return np.divide(d[:, 0], d[:, 1], out=np.zeros(len(d)), where=d[:, 1] > 0)


def memorisation(samples: np.ndarray | torch.Tensor, training: np.ndarray | torch.Tensor,
                 space: str = "pixels") -> tuple[float, np.ndarray]:
    """(the share of samples that pass as copies, their d₁ / d₂ ratios (N,))."""
    nb = nearest_training(samples, training, k=2, space=space)
    return float(nb.copies.mean()), nb.ratios
