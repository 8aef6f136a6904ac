"""2-D point sets: the classic toy distributions for watching a generator cover (or miss) modes.

* ``ring8``: 8 Gaussians (std 0.02) on a circle of radius 2, centres at angles 2*pi*k/8
  (the mixture of the unrolled-GAN paper, Metz et al. 2016);
* ``grid25``: 25 Gaussians (std 0.02) at {-2, -1, 0, 1, 2}^2 (as in VEEGAN / PacGAN);
* ``spiral``: a 2-D swiss roll scaled to about [-2, 2];
* ``moons``: two interleaving half circles scaled to about [-2, 2] x [-1, 1].

All are float32 ``(N, 2)`` in data units, deterministic for a seed, and made with numpy only.
"""

from __future__ import annotations

import numpy as np
import torch

from genstudio.data import Dataset

MODE_STD = 0.02  # std of each mixture component of ring8 and grid25


def ring8_centers() -> np.ndarray:
    """The 8 mode centres of ``ring8``: ``(8, 2)``, radius 2, angles 2*pi*k/8."""
    a = 2 * np.pi * np.arange(8) / 8
    return 2.0 * np.stack([np.cos(a), np.sin(a)], axis=1)  # (8, 2)


def grid25_centers() -> np.ndarray:
    """The 25 mode centres of ``grid25``: ``(25, 2)``, row-major over {-2..2}^2."""
    g = np.arange(-2, 3, dtype=np.float64)
    x, y = np.meshgrid(g, g, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)  # (25, 2)


def _mixture(centers: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    k = rng.integers(0, len(centers), size=n)  # (N,) component of each point
    pts = centers[k] + MODE_STD * rng.standard_normal((n, 2))  # (N, 2)
    return pts, k


def _spiral(n: int, rng: np.random.Generator) -> np.ndarray:
    # sklearn's make_swiss_roll in the plane: t in [1.5pi, 4.5pi], radius proportional to t
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))  # (N,)
    pts = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)  # (N, 2), |pts| <= 4.5pi
    pts = pts * (2.0 / (4.5 * np.pi))  # about [-2, 2]
    return pts + 0.02 * rng.standard_normal((n, 2))


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # sklearn's make_moons: upper moon is a unit half circle, the lower one is shifted (1, 0.5) down
    k = rng.integers(0, 2, size=n)  # (N,) which moon
    theta = np.pi * rng.random(n)  # (N,)
    x = np.where(k == 0, np.cos(theta), 1 - np.cos(theta))  # x in [-1, 2]
    y = np.where(k == 0, np.sin(theta), 0.5 - np.sin(theta))  # y in [-0.5, 1]
    pts = np.stack([x - 0.5, y - 0.25], axis=1) * (4.0 / 3.0)  # (N, 2), x in [-2, 2], y in [-1, 1]
    return pts + 0.05 * rng.standard_normal((n, 2)), k


def load_points(name: str, num_points: int, seed: int) -> Dataset:
    """Draw ``num_points`` points of the 2-D set ``name`` (one of ring8, grid25, spiral, moons)."""
    rng = np.random.default_rng(seed)
    centers = labels = None
    if name == "ring8":
        centers = ring8_centers()
        pts, labels = _mixture(centers, num_points, rng)
    elif name == "grid25":
        centers = grid25_centers()
        pts, labels = _mixture(centers, num_points, rng)
    elif name == "spiral":
        pts = _spiral(num_points, rng)
    elif name == "moons":
        pts, labels = _moons(num_points, rng)
    else:
        raise ValueError(f"not a 2-D point set: {name!r}")
    info = {"std": MODE_STD} if centers is not None else {}
    return Dataset(
        name=name, kind="points",
        tensor=torch.from_numpy(pts.astype(np.float32)),  # (N, 2)
        labels=None if labels is None else torch.from_numpy(labels.astype(np.int64)),  # (N,)
        info=info,
        centers=None if centers is None else torch.from_numpy(centers.astype(np.float32)),  # (K, 2)
    )
