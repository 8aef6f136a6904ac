"""Small MLPs for 2-D point data: a GAN generator and discriminator (as in GAN Lab)."""

from __future__ import annotations

import torch
from torch import nn

from genstudio.models.d_blocks import MinibatchStdDev, with_spectral_norm


def _mlp(inp: int, hidden: int, out: int, depth: int, act: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = inp
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), act]
        d = hidden
    layers.append(nn.Linear(d, out))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, nz) -> point (B, out_dim). Linear output: 2-D data live in their own units."""

    def __init__(self, nz: int = 2, hidden: int = 128, depth: int = 3, out_dim: int = 2):
        super().__init__()
        self.nz, self.hidden, self.depth, self.out_dim = nz, hidden, depth, out_dim
        self.net = _mlp(nz, hidden, out_dim, depth, nn.ReLU())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, out_dim)


class MLPDiscriminator(nn.Module):
    """point (B, in_dim) -> logit (B,).

    ``mbstd`` > 0 appends the minibatch standard deviation over groups of ``mbstd`` samples to the
    last hidden features (Karras et al.); ``spectral_norm`` normalises every weight (Miyato et al.).
    See :mod:`genstudio.models.d_blocks`.
    """

    def __init__(self, hidden: int = 128, depth: int = 3, in_dim: int = 2, mbstd: int = 0,
                 spectral_norm: bool = False):
        super().__init__()
        self.hidden, self.depth, self.in_dim = hidden, depth, in_dim
        self.net = _mlp(in_dim, hidden, 1, depth, nn.LeakyReLU(0.2))
        self.mbstd = MinibatchStdDev(mbstd) if mbstd else None
        if self.mbstd is not None:  # the last layer reads one more feature: the batch's spread
            self.net[-1] = nn.Linear(self.net[-1].in_features + 1, 1)
        if spectral_norm:
            with_spectral_norm(self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mbstd is None:
            return self.net(x).view(-1)  # (B,)
        h = self.net[:-1](x)  # (B, hidden)
        return self.net[-1](self.mbstd(h)).view(-1)  # (B, hidden + 1) -> (B,)
