"""Slow motion on 2-D data (GAN Lab's step button): where the generator's loss pushes each point it made.

After a single training step the run shows G's points x = G(z) and, on each, the force
−∂ℓ_G/∂x of that point's own generator loss ℓ_G(x) = −log σ(D(x)) (the non-saturating loss of
:mod:`genstudio.gan.losses`) with D as it now is. Back-propagated through G, these are exactly what
moves G's weights, so the arrows say where the discriminator is pulling the generated points: up the
slope of D's field, towards what D calls real. A step of size ε along an arrow lowers that point's
loss (to first order by ε·|arrow|); ``tests/core/test_slow_motion.py`` checks it by finite differences.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from genstudio.gan.losses import generator_loss

#: How many generated points slow motion shows with their arrows (the first of the preview's fixed z):
#: GAN Lab's few hundred; two thousand arrows would hide the field they are drawn over.
SLOW_MOTION_POINTS = 300


def generator_forces(G: nn.Module, D: nn.Module, z: torch.Tensor,
                     loss: Callable[[torch.Tensor], torch.Tensor] = generator_loss
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The points ``G(z)`` and the force on each, ``−∂ℓ_G/∂x`` of its own loss.

    Parameters
    ----------
    G, D : nn.Module
        The generator and the discriminator (logits), run in eval mode here and put back after.
    z : torch.Tensor
        (N, nz) latent codes.
    loss : callable
        The generator loss of a batch of logits, a *mean* over the batch (the trainer's); times N it
        is the sum of the points' own losses, so each point's gradient is its own.

    Returns
    -------
    points, forces : np.ndarray
        (N, 2) float32 each, in data units.
    """
    modes = G.training, D.training
    G.eval()
    D.eval()
    try:
        with torch.enable_grad():
            with torch.no_grad():
                x = G(z).float()  # (N, 2)
            x.requires_grad_(True)
            total = loss(D(x).float()) * x.shape[0]  # Σ_i ℓ_G(x_i)
            (grad,) = torch.autograd.grad(total, x)  # (N, 2); D's weights get no .grad
    finally:
        G.train(modes[0])
        D.train(modes[1])
    return x.detach().cpu().numpy().astype(np.float32), (-grad).cpu().numpy().astype(np.float32)
