"""DCGAN generator and discriminator (Radford et al., 2015), after the PyTorch DCGAN example.

Transposed convolutions with batch norm and ReLU in G (tanh output), strided convolutions with
LeakyReLU(0.2) in D, weights from N(0, 0.02). Supports 16, 32 and 64 px and 1 or 3 channels: the
number of up/down-sampling stages is log2(size / 4).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genstudio.models.d_blocks import MinibatchStdDev, with_spectral_norm


def _stages(size: int) -> int:
    if size not in (16, 32, 64):
        raise ValueError(f"DCGAN supports 16, 32 and 64 px, not {size}")
    return int(math.log2(size // 4))


class DCGANGenerator(nn.Module):
    """z (B, nz) -> image (B, nc, size, size) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, size: int = 64):
        super().__init__()
        self.nz, self.ngf, self.nc, self.size = nz, ngf, nc, size
        n = _stages(size)
        ch = ngf * 2 ** (n - 1)
        layers: list[nn.Module] = [
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
            # state size. (ngf*2^(n-1)) x 4 x 4
        ]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
            # state size doubles each stage: ... -> (ngf) x size/2 x size/2
        layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
        # state size. (nc) x size x size
        self.main = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.shape[0], self.nz, 1, 1))  # (B, nc, size, size)


class DCGANDiscriminator(nn.Module):
    """image (B, nc, size, size) -> one logit per image (B,)."""

    def __init__(self, ndf: int = 64, nc: int = 3, size: int = 64, mbstd: int = 0, spectral_norm: bool = False):
        super().__init__()
        self.ndf, self.nc, self.size = ndf, nc, size
        n = _stages(size)
        ch = ndf
        # input is (nc) x size x size; no batch norm on the first layer (as in the paper)
        layers: list[nn.Module] = [nn.Conv2d(nc, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2),
                       nn.LeakyReLU(0.2, inplace=True)]
            ch *= 2
        # state size. (ndf*2^(n-1)) x 4 x 4; with mbstd one more channel: the batch's spread (Karras et al.)
        if mbstd:
            layers.append(MinibatchStdDev(mbstd))
        layers += [nn.Conv2d(ch + (1 if mbstd else 0), 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)
        self.apply(dcgan_init)
        if spectral_norm:  # Miyato et al. (with batch norm kept, as their DCGAN-style D's do not)
            with_spectral_norm(self.main)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)  # (B,) logits; the sigmoid lives in the loss


def dcgan_init(m: nn.Module) -> None:
    """Radford et al.: all weights from N(0, 0.02); batch-norm scale N(1, 0.02), bias 0."""
    if getattr(getattr(m, "weight", None), "is_meta", False):
        return  # built for its shapes only (checkpoint checks): drawing on "meta" imports ~2 s of torch
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
