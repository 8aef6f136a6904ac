"""A text-conditioned U-Net ε-network: ε_θ(x_t, t, caption), as Imagen conditions on text.

The DDPM U-Net of :mod:`genstudio.models.unet` (its residual blocks, self-attention and timestep
embedding) reads the caption two ways (Saharia et al. 2022, "Photorealistic Text-to-Image Diffusion
Models with Deep Language Understanding", §2.4 / App. E):

* the text encoder's **pooled** embedding, through a small MLP, is added to the timestep embedding,
  so every residual block sees it;
* **cross-attention** from the image features to the per-token embeddings after every residual
  block at the low resolutions (every level but the first, and the middle): queries from the
  pixels, keys and values from the tokens. This is what can put "left" on the left, and its
  attention weights are the per-word maps (:meth:`CondUNet.forward` with ``return_attention``).

The text encoder (:class:`genstudio.text.encoder.TextEncoder`) is part of this module, so it is
trained, averaged (EMA) and checkpointed with the U-Net. :meth:`encode` and :meth:`denoise` split
the forward pass so a sampler encodes the prompt once, not at every step.

Shapes for 16 px digits, width 32, mults (1, 2, 2): 16² (32 ch) → 8² (64, cross) → 4² (64, cross)
→ mid (self + cross) → back up.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.models.unet import Attention, ResBlock, sinusoidal_embedding
from genstudio.text.encoder import TextEncoder


class TextContext(NamedTuple):
    """An encoded caption batch: what the U-Net reads at every step."""

    tokens: torch.Tensor  # (B, L, D) per-token embeddings
    pooled: torch.Tensor  # (B, D) mean of the real tokens
    mask: torch.Tensor  # (B, L) True at real tokens (or a float weight in [0, 1]: text2image.walk)


class CrossAttention(nn.Module):
    """Multi-head attention from image features (queries) to token embeddings (keys, values), residual.

    Returns the attention weights (B, heads, H·W, L) when asked: how much each pixel reads each token.
    """

    def __init__(self, c: int, text_dim: int, heads: int, groups: int):
        super().__init__()
        if c % heads:
            raise ValueError(f"{c} channels do not split over {heads} heads")
        self.heads = heads
        self.norm = nn.GroupNorm(groups, c)
        self.q = nn.Conv2d(c, c, 1)
        self.kv = nn.Linear(text_dim, 2 * c)
        self.out = nn.Conv2d(c, c, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity: the unconditional U-Net
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, ctx: TextContext, want_maps: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, c, h, w = x.shape
        d = c // self.heads
        q = self.q(self.norm(x)).reshape(b, self.heads, d, h * w).transpose(-1, -2)  # (B, heads, HW, d)
        k, v = self.kv(ctx.tokens).reshape(b, -1, 2, self.heads, d).permute(2, 0, 3, 1, 4)  # 2 × (B, heads, L, d)
        logits = q @ k.transpose(-1, -2) / math.sqrt(d)  # (B, heads, HW, L)
        mask = ctx.mask[:, None, None, :]  # (B, 1, 1, L)
        if mask.dtype == torch.bool:
            logits = logits.masked_fill(~mask, float("-inf"))
        else:  # a soft mask (a prompt walk): a token of weight w counts w times; 0 is masked out, as False
            logits = logits + mask.log()
        weights = logits.softmax(-1)  # (B, heads, HW, L)
        a = weights @ v  # (B, heads, HW, d)
        x = x + self.out(a.transpose(-1, -2).reshape(b, c, h, w))
        return x, (weights if want_maps else None)


class CondUNet(nn.Module):
    """ε_θ(x_t, t, ids) for images (B, C, H, W) and token ids (B, L).

    Parameters
    ----------
    channels, width, mults, attention, groups
        As :class:`genstudio.models.unet.UNet`.
    vocab_size, max_len : int
        The tokenizer's vocabulary size and sequence length.
    text_dim, text_layers : int
        The text encoder's width and depth.
    heads : int
        Heads of the text encoder and of the cross-attention.
    """

    def __init__(self, channels: int = 1, width: int = 32, mults: list[int] | tuple[int, ...] = (1, 2, 2),
                 vocab_size: int = 16, max_len: int = 8, text_dim: int = 64, text_layers: int = 2,
                 heads: int = 4, attention: bool = True, groups: int = 8):
        super().__init__()
        if width % groups or width <= 0:
            raise ValueError(f"U-Net width must be a positive multiple of {groups}, not {width}")
        self.channels, self.width, self.mults = channels, width, tuple(mults)
        self.text = TextEncoder(vocab_size, max_len, text_dim, text_layers, heads)
        t_dim = 4 * width
        self.time_mlp = nn.Sequential(nn.Linear(width, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.text_mlp = nn.Sequential(nn.Linear(text_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        chans = [width * m for m in self.mults]

        def cross(c: int, level: int) -> nn.Module:  # cross-attention below the full resolution
            return CrossAttention(c, text_dim, heads, groups) if level > 0 else nn.Identity()

        self.down, self.down_cross, self.downsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c = width
        for i, c_out in enumerate(chans):
            self.down.append(ResBlock(c, c_out, t_dim, groups))
            self.down_cross.append(cross(c_out, i))
            last = i == len(chans) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c_out, c_out, 3, stride=2, padding=1))
            c = c_out
        self.mid1 = ResBlock(c, c, t_dim, groups)
        self.attn = Attention(c, groups) if attention else nn.Identity()
        self.mid_cross = CrossAttention(c, text_dim, heads, groups)
        self.mid2 = ResBlock(c, c, t_dim, groups)
        self.up, self.up_cross, self.upsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(len(chans))):
            self.up.append(ResBlock(c + chans[i], chans[i], t_dim, groups))
            self.up_cross.append(cross(chans[i], i))
            self.upsample.append(nn.Conv2d(chans[i], chans[i], 3, padding=1) if i > 0 else nn.Identity())
            c = chans[i]
        self.norm_out = nn.GroupNorm(groups, c)
        self.conv_out = nn.Conv2d(c, channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start by predicting ε̂ = 0
        nn.init.zeros_(self.conv_out.bias)

    def encode(self, ids: torch.Tensor) -> TextContext:
        """Token ids (B, L) → the :class:`TextContext` the U-Net reads."""
        return TextContext(*self.text(ids))

    def denoise(self, x: torch.Tensor, t: torch.Tensor, ctx: TextContext, return_attention: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """ε̂ (B, C, H, W) for x_t, t (B,) and an encoded caption batch; with ``return_attention``
        also every cross-attention layer's weights, (B, heads, H_l·W_l, L) each, in network order."""
        maps: list[torch.Tensor] = []

        def attend(layer: nn.Module, h: torch.Tensor) -> torch.Tensor:
            if isinstance(layer, nn.Identity):
                return h
            h, m = layer(h, ctx, return_attention)
            if m is not None:
                maps.append(m)
            return h

        temb = self.time_mlp(sinusoidal_embedding(t, self.width)) + self.text_mlp(ctx.pooled)  # (B, 4·width)
        h = self.conv_in(x)  # (B, width, H, W)
        skips = []
        for block, cross, down in zip(self.down, self.down_cross, self.downsample):
            h = attend(cross, block(h, temb))  # (B, width·m_i, H/2^i, W/2^i)
            skips.append(h)
            h = down(h)
        h = self.mid2(attend(self.mid_cross, self.attn(self.mid1(h, temb))), temb)  # (B, c, H/2^L, W/2^L)
        for block, cross, up in zip(self.up, self.up_cross, self.upsample):
            h = attend(cross, block(torch.cat([h, skips.pop()], dim=1), temb))  # (B, width·m_i, ...)
            if not isinstance(up, nn.Identity):
                h = up(F.interpolate(h, scale_factor=2.0, mode="nearest"))  # doubles H, W
        eps = self.conv_out(F.silu(self.norm_out(h)))  # (B, C, H, W)
        return (eps, maps) if return_attention else eps

    def forward(self, x: torch.Tensor, t: torch.Tensor, ids: torch.Tensor, return_attention: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        return self.denoise(x, t, self.encode(ids), return_attention)


def token_maps(maps: list[torch.Tensor], size: int) -> torch.Tensor:
    """Per-token attention maps: every layer's weights averaged over heads and layers, upsampled.

    ``maps`` as :meth:`CondUNet.denoise` returns them → (B, L, size, size), each token's map the mean
    (over heads and layers) of how much each pixel attends to it (bilinear upsampling per layer).
    """
    out = None
    for m in maps:
        b, _, hw, n = m.shape
        side = int(round(math.sqrt(hw)))
        grid = m.mean(1).transpose(1, 2).reshape(b, n, side, side)  # (B, L, h, w)
        grid = F.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)  # (B, L, size, size)
        out = grid if out is None else out + grid
    if out is None:
        raise ValueError("no attention maps were recorded")
    return out / len(maps)
