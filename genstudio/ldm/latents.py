"""From images to the latents a latent diffusion model trains on, and back at a glance (Qt-free).

* :func:`scale_factor`: 1 / std of the latents, so that scaled latents have unit variance, as
  Rombach et al. do (§4.3.2 and appendix G: "we rescale the latents … by the component-wise standard
  deviation"; SD's 0.18215 is 1 / std of its VAE's latents over a batch of its data).
* :func:`fit_rgb_map`: a linear map from a latent pixel (c values and a bias) to the mean RGB of the
  f × f image patch it covers, fitted by least squares on real pairs. AUTOMATIC1111 previews SD's
  latents with such a map (its "approximate" live preview); here it is what the filmstrip shows
  without running the decoder.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def scale_factor(latents: torch.Tensor) -> float:
    """1 / std of every element of ``latents`` (N, c, h, w): multiplying by it makes them unit-variance."""
    std = float(latents.double().flatten().std())
    if not std > 0:
        raise ValueError("the latents have no spread: the autoencoder maps every image to the same latent")
    return 1.0 / std


def fit_rgb_map(latents: torch.Tensor, images: torch.Tensor) -> list[list[float]]:
    """Least-squares ``W`` (C, c + 1): RGB of each latent pixel's patch ≈ W · [z; 1].

    ``latents`` (N, c, h, w) unscaled; ``images`` (N, C, H, W) in [−1, 1] with H = f·h.
    """
    f = images.shape[-1] // latents.shape[-1]
    target = F.avg_pool2d(images.float(), f)  # (N, C, h, w): each latent pixel's patch mean
    z = latents.float().permute(0, 2, 3, 1).reshape(-1, latents.shape[1])  # (N·h·w, c)
    a = torch.cat([z, torch.ones(z.shape[0], 1)], 1).double()  # (N·h·w, c + 1)
    y = target.permute(0, 2, 3, 1).reshape(-1, images.shape[1]).double()  # (N·h·w, C)
    w = torch.linalg.lstsq(a, y).solution  # (c + 1, C)
    return w.T.tolist()


def apply_rgb_map(z: torch.Tensor, rgb_map: list[list[float]]) -> torch.Tensor:
    """The approximate pictures (N, C, h, w) in [−1, 1] of unscaled latents ``z`` (N, c, h, w)."""
    w = torch.tensor(rgb_map, dtype=torch.float32)  # (C, c + 1)
    out = torch.einsum("nchw,kc->nkhw", z.float(), w[:, :-1]) + w[:, -1][None, :, None, None]
    return out.clamp(-1, 1)
