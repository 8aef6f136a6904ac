"""A faces Fréchet distance: the digits score's recipe (:mod:`genstudio.quality`) in the feature space of
the faces attribute classifier (:func:`genstudio.faces_reader.face_features`, its 128 hidden units).

Generated faces and a reference set of real faces drawn with a seed no model trains on (seed 7; the
bundled models train on seed 0) go through the same pipeline (the classifier's 32 px input), and the
figure is read against a second real set of the same size ("real vs real"), so a model's score says
how far it is from being as close as another real sample. Used by ``genstudio score`` for any image
model trained on ``faces`` (GAN, style-based GAN, diffusion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["FacesScore", "faces_score", "REFERENCE_SEED"]

REFERENCE_SEED = 7


@dataclass(frozen=True)
class FacesScore:
    fd: float  # generated against the reference real faces
    real_vs_real: float  # another n real faces against the same reference
    n: int

    @property
    def ratio(self) -> float:
        return self.fd / self.real_vs_real if self.real_vs_real > 0 else float("inf")


def faces_score(images: torch.Tensor | np.ndarray) -> FacesScore:
    """Score ``images`` (n, 3, H, W) in [-1, 1] against n real faces, with the real-vs-real figure."""
    from genstudio.data import load_dataset
    from genstudio.faces_reader import face_features, load_face_classifier
    from genstudio.metrics import frechet_distance

    images = torch.as_tensor(images)
    n = int(images.shape[0])
    real = load_dataset("faces", size=32, num_images=2 * n, seed=REFERENCE_SEED).tensor  # (2n, 3, 32, 32)
    net = load_face_classifier()
    ref = face_features(real[:n], net)
    return FacesScore(fd=frechet_distance(face_features(images, net), ref),
                      real_vs_real=frechet_distance(face_features(real[n:], net), ref), n=n)
