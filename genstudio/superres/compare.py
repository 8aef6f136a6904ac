"""What the super-resolution view shows, Qt-free: one HR image made LR, then bicubic | each model |
original side by side with their scores, a wipe between any two, and |SR − HR| as an error map.

The view (``genstudio/gui/widgets/superres_view.py``) only turns these numpy pictures into pixmaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genstudio.superres.degrade import SCALE, bicubic_up, downsample
from genstudio.superres.metrics import psnr, sharpness, ssim

ORIGINAL = "original"
BICUBIC = "bicubic"


@dataclass(frozen=True)
class Panel:
    """One picture of the comparison: (H, W, 3) uint8, and its scores against the original (None for it)."""

    name: str
    image: np.ndarray
    error: np.ndarray  # (H, W, 3) uint8: |picture − original| × 4, gray
    psnr: float | None = None
    ssim: float | None = None
    sharpness: float | None = None

    def scores(self) -> str:
        if self.psnr is None:
            return self.name
        return f"{self.name}: PSNR {self.psnr:.2f} dB · SSIM {self.ssim:.3f} · sharpness {self.sharpness:.2f}"


def crop_for_scale(hr: torch.Tensor, limit: int = 256) -> torch.Tensor:
    """The centre of ``hr`` (C, H, W), at most ``limit`` px a side, cut to a multiple of the scale."""
    _, h, w = hr.shape
    ch, cw = min(h, limit) // SCALE * SCALE, min(w, limit) // SCALE * SCALE
    if ch < SCALE or cw < SCALE:
        raise ValueError(f"an image of {w} × {h} px is too small to make a ×{SCALE} low-resolution copy of")
    y, x = (h - ch) // 2, (w - cw) // 2
    return hr[:, y:y + ch, x:x + cw]


def _rgb_uint8(t: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] → (H, W, 3) uint8 (gray repeated)."""
    a = ((t.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a)


def _error(sr: torch.Tensor, hr: torch.Tensor) -> np.ndarray:
    e = ((sr - hr).abs().mean(0, keepdim=True) * 2).clamp(0, 1)  # |Δ| in [0, 1] units × 4
    return _rgb_uint8(e * 2 - 1)


def compare(hr: torch.Tensor, models: dict[str, object]) -> list[Panel]:
    """Panels for ``hr`` (C, H, W) in [-1, 1]: bicubic, each model (name → SRModel), original."""
    x = hr[None].float()
    lr = downsample(x)
    outs = [(BICUBIC, bicubic_up(lr))]
    for name, model in models.items():
        outs.append((name, model.upscale(lr)))
    panels = []
    for name, sr in outs:
        panels.append(Panel(name, _rgb_uint8(sr[0]), _error(sr[0], x[0]), float(psnr(sr, x)[0]),
                            float(ssim(sr, x)[0]), float(sharpness(sr, x)[0])))
    panels.append(Panel(ORIGINAL, _rgb_uint8(x[0]), _error(x[0], x[0])))
    return panels


def wipe(left: np.ndarray, right: np.ndarray, fraction: float) -> np.ndarray:
    """``left`` up to ``fraction`` of the width, ``right`` after it, with a 1 px white line at the seam."""
    out = right.copy()
    cut = int(round(np.clip(fraction, 0.0, 1.0) * left.shape[1]))
    out[:, :cut] = left[:, :cut]
    if 0 < cut < out.shape[1]:
        out[:, cut] = 255
    return out


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: each pixel becomes ``factor`` × ``factor`` (pixels stay visible)."""
    return np.ascontiguousarray(image.repeat(factor, 0).repeat(factor, 1)) if factor > 1 else image
