"""``digits``: the 1,797 real 8x8 handwritten digits that ship inside scikit-learn (UCI optdigits).

Pixel values 0..16 become [-1, 1] (white strokes on black, like MNIST), and the images are
resized to the requested side with antialiased bilinear interpolation. No network is needed:
the data file is part of the scikit-learn wheel.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from genstudio.data import DataError, Dataset


def load_digits(size: int, num_images: int = 0, seed: int = 0) -> Dataset:
    """Load the digits at ``size`` x ``size``, 1 channel, labels 0-9.

    Parameters
    ----------
    size : int
        Output side in pixels.
    num_images : int
        0 for all 1,797; otherwise a subset of that many, chosen by ``seed`` (at most 1,797).
    seed : int
        Chooses the subset; the full set is always in the original order.
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits  # lazy: sklearn is slow to import
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
        raise DataError("the digits data set needs scikit-learn (pip install scikit-learn)") from exc
    bunch = sk_load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)  # (1797, 8, 8), values 0..16
    labels = np.asarray(bunch.target, dtype=np.int64)  # (1797,)
    total = len(images)
    if num_images and num_images < total:
        keep = np.sort(np.random.default_rng(seed).permutation(total)[:num_images])
        images, labels = images[keep], labels[keep]
    x = torch.from_numpy(images).unsqueeze(1) / 8.0 - 1.0  # (N, 1, 8, 8) in [-1, 1]
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)  # (N, 1, size, size)
        x = x.clamp_(-1.0, 1.0)
    return Dataset(name="digits", kind="images", tensor=x.contiguous(), labels=torch.from_numpy(labels),
                   info={"source": "sklearn.datasets.load_digits", "available": total})
