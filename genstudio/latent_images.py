"""Pictures of a latent diffusion model's latents: the hook the scrubber and the CLI read (Qt-free).

A model that samples in an autoencoder's latent space (Rombach et al. 2022, "High-Resolution Image
Synthesis with Latent Diffusion Models") — a diffusers Stable Diffusion folder
(:mod:`genstudio.interop.sd_pipeline`) or GenStudio's own latent diffusion — keeps its sampler
state z (the recording's x_t, x̂₀ and final samples) in latent space and says so by having two
methods (the contract is written out in ``docs/architecture.md``, "Latent models"):

* ``decode_latents(z) -> images``: the exact decode (the VAE decoder), z (N, C_z, h, w) as the
  sampler holds it (the model undoes its own scale factor) → (N, 3, H, W) float32 in [−1, 1] on the CPU;
* ``latent_preview(z) -> images``: a cheap approximation of the same, (N, 3, h, w) float32 in [−1, 1]
  on the CPU, at the latent's own resolution: one linear map of the channels per pixel, as
  AUTOMATIC1111's "cheap approximation" previews Stable Diffusion.

:class:`LinearPreview` is that map, and :func:`fit_preview` fits it to any decoder by least squares
(decode random latents, average-pool the pictures to the latent grid, solve for the (C_z + 1) × 3
matrix with a bias row), so a new autoencoder gets its preview without hand-made numbers.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["is_latent_model", "LinearPreview", "fit_preview", "SD_V1_PREVIEW", "channel_tiles", "to_pictures",
           "to_direction_pictures", "picture_trajectory"]


def is_latent_model(model: Any) -> bool:
    """True when ``model`` samples in a latent space: it has ``decode_latents`` and ``latent_preview``."""
    return callable(getattr(model, "decode_latents", None)) and callable(getattr(model, "latent_preview", None))


class LinearPreview:
    """RGB ≈ [z, 1] · M per latent pixel: ``M`` is (C_z + 1, 3), its last row the bias."""

    def __init__(self, matrix: np.ndarray | torch.Tensor):
        m = torch.as_tensor(np.asarray(matrix, np.float32))
        if m.ndim != 2 or m.shape[1] != 3 or m.shape[0] < 2:
            raise ValueError(f"a latent preview matrix is (C + 1, 3), not {tuple(m.shape)}")
        self.matrix = m

    @property
    def channels(self) -> int:
        return int(self.matrix.shape[0]) - 1

    @classmethod
    def fit(cls, z: torch.Tensor, images: torch.Tensor) -> "LinearPreview":
        """Least squares from latents z (N, C, h, w) to pictures (N, 3, H, W) pooled to (h, w)."""
        z = z.detach().float().cpu()
        rgb = F.adaptive_avg_pool2d(images.detach().float().cpu(), z.shape[-2:])  # (N, 3, h, w)
        a = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])  # (N·h·w, C)
        a = torch.cat([a, torch.ones(len(a), 1)], 1)  # (N·h·w, C + 1) with the bias column
        b = rgb.permute(0, 2, 3, 1).reshape(-1, 3)  # (N·h·w, 3)
        return cls(torch.linalg.lstsq(a.double(), b.double()).solution.float())

    def __call__(self, z: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(N, C, h, w) latents → (N, 3, h, w) float32 in [−1, 1] on the CPU."""
        z = torch.as_tensor(np.asarray(z, np.float32)) if isinstance(z, np.ndarray) else z.detach().float().cpu()
        if z.ndim != 4 or z.shape[1] != self.channels:
            raise ValueError(f"the preview maps {self.channels}-channel latents, not {tuple(z.shape)}")
        w, bias = self.matrix[:-1], self.matrix[-1]
        return (torch.einsum("nchw,cr->nrhw", z, w) + bias.view(1, 3, 1, 1)).clamp(-1, 1)


#: AUTOMATIC1111's "cheap approximation" of Stable Diffusion 1.x's VAE (sd_vae_approx.py): the four
#: scaled latent channels to RGB in [−1, 1], no bias. For reference: GenStudio fits its own.
SD_V1_PREVIEW = np.array([[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264],
                          [-0.184, -0.271, -0.473], [0.0, 0.0, 0.0]], np.float32)


@torch.inference_mode()
def fit_preview(decode: Callable[[torch.Tensor], torch.Tensor], channels: int, size: tuple[int, int],
                n: int = 4, seed: int = 0) -> LinearPreview:
    """Fit a :class:`LinearPreview` to ``decode`` (z (N, C, h, w) → pictures in [−1, 1]) on ``n``
    random N(0, I) latents of ``channels`` × ``size`` (unit-variance latents: what the sampler holds)."""
    z = torch.randn((n, channels, *size), generator=torch.Generator().manual_seed(seed))  # (n, C, h, w)
    return LinearPreview.fit(z, decode(z))


def channel_tiles(z: np.ndarray) -> np.ndarray:
    """One latent (C, h, w) as C grey pictures (C, 1, h, w) for a grid, each channel at ±3 (unit variance)."""
    return (np.asarray(z, np.float32) / 3.0).clip(-1, 1)[:, None]


def to_pictures(model: Any, batch: np.ndarray) -> np.ndarray:
    """What to draw for ``batch`` (N, C, h, w) of ``model``'s states: the latent preview for a latent
    model, the batch itself otherwise (float32)."""
    batch = np.asarray(batch, np.float32)
    if model is None or not is_latent_model(model) or batch.ndim != 4:
        return batch
    return model.latent_preview(torch.from_numpy(np.ascontiguousarray(batch))).numpy()


def to_direction_pictures(model: Any, batch: np.ndarray) -> np.ndarray:
    """Like :func:`to_pictures` for a direction in latent space (ε̂, ε̂_c − ε̂_∅): the preview's linear
    part only, preview(d) − preview(0), so zero stays grey."""
    batch = np.asarray(batch, np.float32)
    if model is None or not is_latent_model(model) or batch.ndim != 4:
        return batch
    z = torch.from_numpy(np.ascontiguousarray(batch))
    return (model.latent_preview(z) - model.latent_preview(torch.zeros_like(z))).numpy()


def picture_trajectory(model: Any, traj: Any) -> Any:
    """A recording as pictures, for export: x_t and x̂₀ through the preview at every step, the final
    samples decoded exactly; ``traj`` itself for a model that samples pixels."""
    if model is None or not is_latent_model(model) or traj.final.ndim != 4:
        return traj
    from dataclasses import replace

    k, n = traj.x_t.shape[:2]
    flat = lambda a: to_pictures(model, a.reshape(k * n, *a.shape[2:]))  # noqa: E731
    x_t, x0 = flat(traj.x_t), flat(traj.x0)
    final = model.decode_latents(torch.from_numpy(np.ascontiguousarray(traj.final, np.float32))).numpy()
    f = final.shape[-1] // x_t.shape[-1]  # previews at the latent grid, enlarged to the decoded size
    x_t, x0 = (a.repeat(f, axis=-1).repeat(f, axis=-2) for a in (x_t, x0))
    return replace(traj, x_t=x_t.reshape(k, n, *x_t.shape[1:]), x0=x0.reshape(k, n, *x0.shape[1:]), final=final,
                   eps=np.zeros_like(x_t.reshape(k, n, *x_t.shape[1:])[:, :, :1]), guidance=None)
