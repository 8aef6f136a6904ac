"""The GAN losses of Goodfellow et al. (2014), on logits (numerically stable ``BCEWithLogits``):

* discriminator: BCE(D(x), 1) + BCE(D(G(z)), 0)
* generator (non-saturating form): BCE(D(G(z)), 1)

with z ~ N(0, I).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0), each the mean over its batch, on logits."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss BCE(D(G(z)), 1) = −mean log σ(D(G(z)))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
