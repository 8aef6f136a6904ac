"""Distortion and sharpness figures of a super-resolved image against its HR original.

* **PSNR** = 10 log10(1 / MSE) on pixel values in [0, 1], over all channels, per image.
* **SSIM** (Wang, Bovik, Sheikh & Simoncelli 2004, eq. 13) with their standard settings: an 11×11
  Gaussian window of σ = 1.5, K1 = 0.01, K2 = 0.03, L = 1 (values in [0, 1]), evaluated at every
  position where the window fits inside the image (MATLAB ``filter2(..., 'valid')``, as the
  authors' ``ssim_index.m``), averaged over positions and channels.
* **Sharpness**: the gradient energy of SR relative to that of HR, mean |∇SR|² / mean |∇HR|² with
  ∇ the forward differences along x and y. 1 means as much edge and texture energy as the real
  image; bicubic up-sampling is well below 1, a pixel-loss network below 1 (it predicts the blurred
  mean of the plausible images), an adversarially trained one nearer 1 (or above, with artefacts). This is
  the perception side of the perception–distortion trade-off (Blau & Michaeli 2018) that PSNR
  and SSIM cannot show: they reward the blurred mean of the plausible images.

* **PSNR-Y / SSIM-Y**: the same on the luma channel Y of ITU-R BT.601 (MATLAB ``rgb2ycbcr``:
  Y ∈ [16, 235] / 255) with a border of :data:`BORDER` = 4 px (the scale) cut off every side, as
  Ledig et al. and most super-resolution papers report them; a gray image is its own Y.

All take (B, C, H, W) tensors in [-1, 1] and return (B,) tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
K1, K2 = 0.01, 0.03
BORDER = 4  # px cut from each side for the Y-channel figures (= the scale, ×4)
_BT601 = (65.481, 128.553, 24.966)  # Y = 16 + these · (R, G, B) on [0, 1], in 0–255 units


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] → [0, 1], clamped."""
    return ((x.float() + 1) / 2).clamp(0, 1)


def psnr(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image, on [0, 1] values; capped at 100 dB for identical images."""
    mse = (to_unit(sr) - to_unit(hr)).pow(2).flatten(1).mean(1)  # (B,)
    return (10 * torch.log10(1.0 / mse.clamp_min(1e-10))).clamp(max=100.0)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """The normalised 2-D Gaussian (size, size), summing to 1 (MATLAB ``fspecial('gaussian')``)."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(r ** 2) / (2 * sigma ** 2))
    w = torch.outer(g, g)
    return w / w.sum()


def ssim(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Mean SSIM per image (Wang et al. 2004), on [0, 1] values; see the module notes."""
    x, y = to_unit(sr).double(), to_unit(hr).double()
    b, c, h, w = x.shape
    size = min(SSIM_WINDOW, h, w)  # a smaller image gets a smaller window (and so a valid map)
    win = gaussian_window(size).to(x.device).expand(c, 1, size, size)  # (C, 1, k, k), depthwise

    def filt(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, win, groups=c)  # 'valid': (B, C, H-k+1, W-k+1)

    c1, c2 = K1 ** 2, K2 ** 2  # (K L)², L = 1
    mu_x, mu_y = filt(x), filt(y)
    sxx = filt(x * x) - mu_x ** 2
    syy = filt(y * y) - mu_y ** 2
    sxy = filt(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2)
    return (num / den).flatten(1).mean(1).float()  # (B,)


def luma(x: torch.Tensor, border: int = BORDER) -> torch.Tensor:
    """(B, C, H, W) in [-1, 1] → BT.601 Y (B, 1, H − 2·border, W − 2·border) in [-1, 1]'s scale.

    Y ∈ [16, 235] / 255 is mapped back to the [-1, 1] convention, so :func:`psnr` and :func:`ssim`
    (which take [-1, 1]) measure it on Y's own [0, 1] values."""
    u = to_unit(x)
    if u.shape[1] == 3:
        w = torch.tensor(_BT601, dtype=u.dtype, device=u.device).view(1, 3, 1, 1)
        y = (16.0 + (u * w).sum(1, keepdim=True)) / 255.0  # (B, 1, H, W)
    else:
        y = u[:, :1]
    if border:
        y = y[..., border:-border, border:-border]
    return y * 2 - 1


def psnr_y(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """PSNR in dB on the BT.601 luma with a 4-px border cut off (the papers' convention)."""
    return psnr(luma(sr), luma(hr))


def ssim_y(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """SSIM on the BT.601 luma with a 4-px border cut off (the papers' convention)."""
    return ssim(luma(sr), luma(hr))


def gradient_energy(x: torch.Tensor) -> torch.Tensor:
    """Mean squared forward difference along x plus along y, per image, on [0, 1] values: (B,)."""
    u = to_unit(x)
    dx = (u[..., :, 1:] - u[..., :, :-1]).pow(2).flatten(1).mean(1)
    dy = (u[..., 1:, :] - u[..., :-1, :]).pow(2).flatten(1).mean(1)
    return dx + dy


def sharpness(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Gradient energy of SR relative to HR's, per image (1 = as sharp as the original)."""
    return gradient_energy(sr) / gradient_energy(hr).clamp_min(1e-12)
