"""What the app's Autoencoder tab shows, computed without Qt: input | reconstruction | latent channels.

:func:`reconstruction_panel` encodes a few held-out images, decodes them, and lays out one row per
image: the input, the reconstruction, the error |x − x̂| (brightened ×4) and each latent channel as
a grey tile (nearest-neighbour upsampled to the image size, each channel scaled by its own range over
the rows shown), with every row's PSNR. The widget only draws the uint8 picture this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from genstudio.imaging import make_grid

ERROR_GAIN = 4.0  # |x − x̂| is small: brightened so the eye can see where it lies
PAD = 2


@dataclass(frozen=True)
class ReconstructionPanel:
    """One picture of rows (input | reconstruction | error | channel 1 … c) and the numbers beside it."""

    picture: np.ndarray  # (H, W, 3) uint8
    psnr: tuple[float, ...]  # dB, one per row
    columns: tuple[str, ...]  # the column titles, left to right
    latent_shape: tuple[int, int, int]  # (c, h, w)
    latent_std: float  # of the rows' latents (what a latent diffusion model divides by)

    @property
    def mean_psnr(self) -> float:
        return float(np.mean(self.psnr)) if self.psnr else float("nan")


def _channels_as_tiles(z: torch.Tensor, size: int) -> torch.Tensor:
    """(N, c, h, w) → (N, c, 3, size, size) grey tiles in [−1, 1], each channel scaled by its own range."""
    lo = z.amin(dim=(0, 2, 3), keepdim=True)
    hi = z.amax(dim=(0, 2, 3), keepdim=True)
    unit = (z - lo) / (hi - lo).clamp_min(1e-6)  # (N, c, h, w) in [0, 1]
    big = F.interpolate(unit, size=(size, size), mode="nearest")  # (N, c, size, size)
    return (big * 2 - 1)[:, :, None].expand(-1, -1, 3, -1, -1)


def reconstruction_panel(model, images: torch.Tensor, zoom: int = 2) -> ReconstructionPanel:
    """The panel for ``images`` (N, C, S, S) in [−1, 1] through ``model`` (an AutoencoderModel), drawn
    ``zoom``× with column titles and each row's PSNR."""
    from genstudio.superres.metrics import psnr

    x_hat, z = model.reconstruct(images)  # (N, C, S, S), (N, c, h, w)
    x = images.float()
    rgb = (lambda a: a.expand(-1, 3, -1, -1)) if x.shape[1] == 1 else (lambda a: a)
    error = ((x_hat - x).abs().mean(1, keepdim=True) * ERROR_GAIN).clamp(0, 1) * 2 - 1  # (N, 1, S, S)
    tiles = _channels_as_tiles(z, x.shape[-1])  # (N, c, 3, S, S)
    rows = torch.cat([rgb(x)[:, None], rgb(x_hat)[:, None], error.expand(-1, 3, -1, -1)[:, None], tiles], 1)
    per_row = rows.shape[1]
    grid = make_grid(rows.flatten(0, 1).numpy(), nrow=per_row, pad=PAD)
    # ASCII titles: PIL's built-in font has no ×
    columns = ("input", "recon.", f"error x{ERROR_GAIN:g}") + tuple(f"z{i + 1}" for i in range(z.shape[1]))
    values = tuple(float(p) for p in psnr(x_hat, x))
    picture = _labelled(grid, columns, [f"{v:.1f} dB" for v in values], x.shape[-1], zoom)
    return ReconstructionPanel(picture, values, columns, tuple(int(s) for s in z.shape[1:]), float(z.std()))


def _labelled(grid: np.ndarray, columns: tuple[str, ...], rows: list[str], tile: int, zoom: int) -> np.ndarray:
    """``grid`` enlarged ``zoom``× (nearest), a title over each column and a label right of each row."""
    from PIL import Image, ImageDraw

    big = np.repeat(np.repeat(grid, zoom, 0), zoom, 1)  # (zH, zW, 3)
    head, side = 16, 64
    canvas = Image.new("RGB", (big.shape[1] + side, big.shape[0] + head), (40, 40, 40))
    canvas.paste(Image.fromarray(big), (0, head))
    draw = ImageDraw.Draw(canvas)
    step = (tile + PAD) * zoom
    for i, title in enumerate(columns):
        draw.text((PAD * zoom + i * step + 2, 2), title, fill=(230, 230, 230))
    for j, text in enumerate(rows):
        draw.text((big.shape[1] + 4, head + PAD * zoom + j * step + step // 2 - 6), text, fill=(230, 230, 230))
    return np.asarray(canvas)


def held_out_examples(model, n: int = 4, start: int = 0) -> torch.Tensor:
    """``n`` held-out images of the model's data set (every tenth item of a fresh draw), from ``start``."""
    from genstudio.data import load_dataset
    from genstudio.superres.degrade import held_out

    data = str(model.meta.get("data", "faces"))
    count = 10 * (start + n) + 10
    d = load_dataset(data, size=model.size, channels=model.channels,
                     num_images=0 if data.lower() in ("digits",) or data.lower().startswith("folder:") else count)
    return d.tensor[held_out(len(d))][start:start + n]
