"""StyleGAN2's residual discriminator (Karras et al. 2020, Fig. 7c), small: fromRGB at full size, then
per resolution two 3×3 convs with a 1×1 skip, both halved in size, summed and scaled by 1/√2; at
4×4 a minibatch standard deviation channel (Karras et al. 2018, :class:`~genstudio.models.d_blocks.MinibatchStdDev`),
a 3×3 conv and two dense layers to one logit. Equalised learning rate throughout."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.models.d_blocks import MinibatchStdDev
from genstudio.models.stylegan import SQRT2, EqualLinear, channels_for

__all__ = ["ResidualDiscriminator"]


class EqualConv2d(nn.Module):
    """Conv with the equalised learning rate (weights N(0, 1) scaled by 1/√fan_in at run time)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, bias: bool = True, activate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale, self.padding, self.activate = 1 / math.sqrt(in_ch * kernel * kernel), kernel // 2, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)
        return F.leaky_relu(y, 0.2) * SQRT2 if self.activate else y


class DBlock(nn.Module):
    """(B, in, H, W) → (B, out, H/2, W/2): conv, conv, 2×2 average pool; + a pooled 1×1 skip; / √2."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv1, self.conv2 = EqualConv2d(in_ch, in_ch, 3), EqualConv2d(in_ch, out_ch, 3)
        self.skip = EqualConv2d(in_ch, out_ch, 1, bias=False, activate=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.avg_pool2d(self.conv2(self.conv1(x)), 2)
        return (y + self.skip(F.avg_pool2d(x, 2))) / SQRT2


class ResidualDiscriminator(nn.Module):
    """D(x): (B, nc, size, size) → (B,) logits. Channels mirror the generator's (``width`` up to 16²)."""

    def __init__(self, width: int = 128, nc: int = 3, size: int = 64, mbstd: int = 4):
        super().__init__()
        self.from_rgb = EqualConv2d(nc, channels_for(size, width), 1)
        blocks, res = [], size
        while res > 4:
            blocks.append(DBlock(channels_for(res, width), channels_for(res // 2, width)))
            res //= 2
        self.blocks = nn.Sequential(*blocks)
        self.mbstd = MinibatchStdDev(mbstd) if mbstd else None
        self.conv = EqualConv2d(width + (1 if mbstd else 0), width, 3)
        self.fc = EqualLinear(width * 16, width, activate=True)
        self.out = EqualLinear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.from_rgb(x))  # (B, width, 4, 4)
        if self.mbstd is not None:
            h = self.mbstd(h)  # (B, width + 1, 4, 4)
        h = self.conv(h).flatten(1)  # (B, width·16)
        return self.out(self.fc(h)).squeeze(1)  # (B,)
