"""GAN projection: the latent z whose image G(z) best matches a given image (Qt-free).

A GAN has no encoder, so an image is brought into its latent space by optimisation, as StyleGAN's
projector does (Karras et al. 2020, §5; Abdal et al. 2019): start from the best of a few random z,
then run Adam on z (G frozen) to lower the pixel error ‖G(z) − x‖² plus a small pull of z towards
the prior's typical norm, so the result stays a z the sliders can move. The learning rate decays
on a cosine. The loss after every step is kept, so its descent can be shown (and tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

__all__ = ["Projection", "ProjectionProgress", "projection_run", "project"]


@dataclass(frozen=True)
class Projection:
    """The found latent ``z`` (nz,), its image (C, H, W) in [−1, 1] and the pixel loss per step."""

    z: np.ndarray
    image: np.ndarray
    losses: list[float]  # mean squared pixel error after each step (index 0: the chosen start)


@dataclass(frozen=True)
class ProjectionProgress:
    """``done`` of ``total`` Adam steps have run; ``loss`` is the pixel error after the last one."""

    done: int
    total: int
    loss: float


def projection_run(model, image: np.ndarray | torch.Tensor, *, steps: int = 300, starts: int = 64,
                   lr: float = 0.05, prior_weight: float = 1e-3, seed: int = 0
                   ) -> Iterator[ProjectionProgress | Projection]:
    """Project one ``image`` (C, H, W) in [−1, 1] into the GAN ``model``'s latent space, step by step:
    a :class:`ProjectionProgress` after every Adam step (a cancellation point: stop iterating), then
    the :class:`Projection`. G's weights are never changed (their ``requires_grad`` is restored)."""
    target = torch.as_tensor(np.asarray(image, dtype=np.float32)).to(model.device)[None]  # (1, C, H, W)
    G = model.G
    if tuple(model.sample_shape) != tuple(target.shape[1:]):
        raise ValueError(f"an image of shape {tuple(target.shape[1:])} does not fit this generator's "
                         f"{tuple(model.sample_shape)}")
    with torch.no_grad():  # the best of a few random starts
        candidates = model.noise(starts, seed).to(model.device)  # (S, nz)
        errors = torch.cat([((G(c) - target) ** 2).flatten(1).mean(1) for c in candidates.split(16)])
        z = candidates[int(errors.argmin())].clone()[None]
    z.requires_grad_(True)
    trained = [p.requires_grad for p in G.parameters()]
    for p in G.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam([z], lr=lr)
    losses = [float(errors.min())]
    try:
        for step in range(steps):
            for group in opt.param_groups:  # cosine decay to 0
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            with torch.enable_grad():
                pixel = ((G(z) - target) ** 2).mean()
                loss = pixel + prior_weight * (z.pow(2).mean() - 1) ** 2
                opt.zero_grad(set_to_none=True)
                loss.backward()
            opt.step()
            losses.append(float(pixel.detach()))
            yield ProjectionProgress(step + 1, steps, losses[-1])
    finally:
        for p, flag in zip(G.parameters(), trained):
            p.requires_grad_(flag)
    with torch.no_grad():
        final = G(z).float().cpu()[0]
    losses[-1] = float(((final.to(target.device) - target[0]) ** 2).mean())  # the loss of the z returned
    yield Projection(z.detach().float().cpu()[0].numpy(), final.numpy(), losses)


def project(model, image: np.ndarray | torch.Tensor, *, progress: Callable[[int, int, float], None] | None = None,
            **options) -> Projection:
    """:func:`projection_run` to the end; ``progress(done, total, loss)`` after every step."""
    for event in projection_run(model, image, **options):
        if isinstance(event, Projection):
            return event
        if progress is not None:
            progress(event.done, event.total, event.loss)
    raise AssertionError("projection_run ended without a result")  # pragma: no cover
