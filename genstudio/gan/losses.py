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


def relativistic_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The relativistic average D loss of ESRGAN (Wang et al. 2018, eq. 1; Jolicoeur-Martineau 2018):

    −E_xr[log D_Ra(xr, xf)] − E_xf[log(1 − D_Ra(xf, xr))],  D_Ra(x, y) = σ(C(x) − E_y[C(y)]),

    on logits C, the expectations over the batch (dim 0; a patch D's logits keep their positions).
    """
    real = real_logits - fake_logits.mean(0, keepdim=True)  # C(xr) − E[C(xf)]
    fake = fake_logits - real_logits.mean(0, keepdim=True)  # C(xf) − E[C(xr)]
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def relativistic_generator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """ESRGAN's symmetric G loss (eq. 2): −E_xr[log(1 − D_Ra(xr, xf))] − E_xf[log D_Ra(xf, xr)], so G's
    gradient comes from the real images' logits too, not only the fake ones'."""
    real = real_logits - fake_logits.mean(0, keepdim=True)
    fake = fake_logits - real_logits.mean(0, keepdim=True)
    return (F.binary_cross_entropy_with_logits(real, torch.zeros_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)))
