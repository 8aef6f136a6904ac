"""``photos``: random square crops of the two photographs scikit-learn ships (``china.jpg``, a
temple, and ``flower.jpg``, 640 × 427 px each, from ``sklearn.datasets.load_sample_images``).

They are the only real photographs in the installed packages (scipy's and scikit-image's sample
images are downloaded on first use, or not installed), and they are what super-resolution wants:
real textures, edges and noise that procedural faces and shapes lack. Crops are taken at the
photographs' own resolution (never resized), so the fine detail that ×4 super-resolution must
restore is there.

Every tenth crop (index 0, 10, 20, …: the super-resolution family's held-out split,
:func:`genstudio.superres.degrade.held_out`) comes from the bottom fifth of a photograph and every
other crop from above it, so a held-out crop shares no pixel with a training crop.
"""

from __future__ import annotations

import numpy as np

from genstudio.data import DataError, Dataset, uint8_to_tensor

HELD_OUT_EVERY = 10  # as genstudio.superres.degrade.HELD_OUT_EVERY
_HELD_OUT_FRACTION = 0.2  # the bottom fifth of each photograph is kept for held-out crops


def sample_photos() -> list[np.ndarray]:
    """The shipped photographs as (H, W, 3) uint8 arrays; DataError if scikit-learn lacks them."""
    try:
        from sklearn.datasets import load_sample_images

        return [np.asarray(img, np.uint8) for img in load_sample_images().images]
    except Exception as exc:  # noqa: BLE001 - missing package, missing files, Pillow problems
        raise DataError(f"the photos data set needs scikit-learn's sample images ({exc})") from None


def load_photos(size: int, num_images: int = 2000, seed: int = 0) -> Dataset:
    """``num_images`` random ``size`` × ``size`` RGB crops, deterministic for ``seed``."""
    photos = sample_photos()
    rng = np.random.default_rng(seed)
    out = np.empty((num_images, size, size, 3), np.uint8)  # (N, H, W, 3)
    for i in range(num_images):
        img = photos[i % len(photos)]
        h, w = img.shape[:2]
        split = int(h * (1 - _HELD_OUT_FRACTION))
        lo, hi = (split, h - size) if i % HELD_OUT_EVERY == 0 else (0, split - size)
        if hi < lo or w < size:
            raise DataError(f"photos: a {size} px crop does not fit the photographs' regions")
        y, x = int(rng.integers(lo, hi + 1)), int(rng.integers(0, w - size + 1))
        out[i] = img[y:y + size, x:x + size]
    return Dataset(name="photos", kind="images", tensor=uint8_to_tensor(out), labels=None,
                   info={"source": "sklearn.datasets.load_sample_images"})
