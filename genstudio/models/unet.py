"""A small U-Net ε-network for images, after Ho et al. (2020), "Denoising Diffusion Probabilistic Models".

Ronneberger et al.'s U-Net with the DDPM changes: residual blocks with group norm and SiLU, the
timestep fed in through a sinusoidal embedding (Vaswani et al. 2017) and an MLP, added to every
residual block, and optional self-attention (here only at the lowest resolution, where it is cheap).
Kept small for CPUs: one residual block per level, channel multipliers (1, 2, 2) by default.

Shapes for the default 32 px, width 32: 32² (32 ch) → 16² (64) → 8² (64) → mid → back up.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer position encoding of timesteps: (B,) → (B, dim), [cos | sin] halves."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]  # (B, half)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)  # (B, 2·half)
    return F.pad(emb, (0, dim % 2))  # (B, dim)


class ResBlock(nn.Module):
    """GN → SiLU → conv3 → + time → GN → SiLU → conv3, plus a (1×1 if needed) skip."""

    def __init__(self, c_in: int, c_out: int, t_dim: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(t_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        h = h + self.time(temb)[:, :, None, None]  # (B, c_out, 1, 1) broadcast
        h = self.conv2(F.silu(self.norm2(h)))  # (B, c_out, H, W)
        return self.skip(x) + h


class Attention(nn.Module):
    """Single-head self-attention over the H·W positions, with a residual connection."""

    def __init__(self, c: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.out = nn.Conv2d(c, c, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).transpose(-1, -2).unbind(1)  # 3 × (B, HW, C)
        a = F.scaled_dot_product_attention(q, k, v)  # (B, HW, C)
        return x + self.out(a.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    """ε_θ(x_t, t) for images (B, C, H, W) with H = W a multiple of 2^(levels−1).

    Parameters
    ----------
    channels : int
        Image channels C (1 or 3).
    width : int
        Base channel count (a multiple of ``groups``).
    mults : list of int
        Channel multiplier per resolution level; each level after the first halves H and W.
    attention : bool
        Self-attention in the middle block (lowest resolution).
    groups : int
        Group-norm groups.
    """

    def __init__(self, channels: int = 3, width: int = 32, mults: list[int] | tuple[int, ...] = (1, 2, 2),
                 attention: bool = True, groups: int = 8):
        super().__init__()
        if width % groups or width <= 0:
            raise ValueError(f"U-Net width must be a positive multiple of {groups}, not {width}")
        self.channels, self.width, self.mults = channels, width, tuple(mults)
        t_dim = 4 * width
        self.time_mlp = nn.Sequential(nn.Linear(width, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        chans = [width * m for m in self.mults]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c = width
        for i, c_out in enumerate(chans):
            self.down.append(ResBlock(c, c_out, t_dim, groups))
            last = i == len(chans) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c_out, c_out, 3, stride=2, padding=1))
            c = c_out
        self.mid1 = ResBlock(c, c, t_dim, groups)
        self.attn = Attention(c, groups) if attention else nn.Identity()
        self.mid2 = ResBlock(c, c, t_dim, groups)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(chans))):
            self.up.append(ResBlock(c + chans[i], chans[i], t_dim, groups))
            self.upsample.append(nn.Conv2d(chans[i], chans[i], 3, padding=1) if i > 0 else nn.Identity())
            c = chans[i]
        self.norm_out = nn.GroupNorm(groups, c)
        self.conv_out = nn.Conv2d(c, channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start by predicting ε̂ = 0
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.time_mlp(sinusoidal_embedding(t, self.width))  # (B, 4·width)
        h = self.conv_in(x)  # (B, width, H, W)
        skips = []
        for block, down in zip(self.down, self.downsample):
            h = block(h, temb)  # (B, width·m_i, H/2^i, W/2^i)
            skips.append(h)
            h = down(h)  # halves H, W except at the last level
        h = self.mid2(self.attn(self.mid1(h, temb)), temb)  # (B, c, H/2^L, W/2^L)
        for block, up in zip(self.up, self.upsample):
            h = block(torch.cat([h, skips.pop()], dim=1), temb)  # (B, width·m_i, H/2^i, W/2^i)
            if not isinstance(up, nn.Identity):
                h = up(F.interpolate(h, scale_factor=2.0, mode="nearest"))  # doubles H, W
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, C, H, W)
