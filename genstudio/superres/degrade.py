"""Low-resolution inputs made from high-resolution images, as in the paper: bicubic down-sampling
by the factor r = 4 (Ledig et al. §3: "I^LR … obtained by applying a Gaussian filter to I^HR followed
by a downsampling operation with factor r"; their experiments use bicubic, as MATLAB's imresize).

``F.interpolate(..., mode="bicubic", antialias=True)`` is the antialiased (MATLAB/Pillow-style)
bicubic: the kernel is widened by the factor when shrinking, which is the low-pass filter the
quote asks for. The bicubic *up*-sampling of the same LR image is the baseline every score is
compared with.

The held-out split: every tenth image of a data set (index 0, 10, 20, …) is never trained on; it is
what ``genstudio score`` measures and what previews show.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SCALE = 4
HELD_OUT_EVERY = 10


def downsample(hr: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Bicubic, antialiased ×1/scale: (B, C, H, W) → (B, C, H/scale, W/scale), clamped to [-1, 1]."""
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"an HR image of {w}×{h} px does not divide by the factor {scale}")
    lr = F.interpolate(hr, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False)
    return lr.clamp(-1, 1)


def bicubic_up(lr: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """The baseline: bicubic ×scale, (B, C, h, w) → (B, C, scale·h, scale·w), clamped to [-1, 1]."""
    h, w = lr.shape[-2:]
    return F.interpolate(lr, size=(h * scale, w * scale), mode="bicubic", align_corners=False).clamp(-1, 1)


def held_out(n: int) -> torch.Tensor:
    """Bool mask (n,): True for the held-out images (every tenth, from index 0)."""
    return torch.arange(n) % HELD_OUT_EVERY == 0
