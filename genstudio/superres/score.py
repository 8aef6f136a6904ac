"""``genstudio score`` for super-resolution checkpoints: PSNR, SSIM and sharpness on held-out
images, beside bicubic up-sampling of the same LR inputs — a table like the paper's (Ledig et al.
table 2: bicubic | SRResNet | SRGAN), so the perception–distortion trade-off shows in numbers.

The held-out images are every tenth of the data set (:func:`~genstudio.superres.degrade.held_out`)
drawn with ``--seed`` (default 0, the seed of the bundled runs), at the checkpoint's HR size.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genstudio.superres.degrade import bicubic_up, downsample, held_out
from genstudio.superres.metrics import gradient_energy, psnr, psnr_y, ssim, ssim_y


@dataclass(frozen=True)
class Scores:
    """Means over the held-out images; ``sharpness`` = Σ gradient energy of SR / Σ of HR; ``psnr`` and
    ``ssim`` on RGB, ``psnr_y`` and ``ssim_y`` on the luma with a 4-px border cut (the papers' way)."""

    name: str
    psnr: float
    ssim: float
    sharpness: float
    psnr_y: float = float("nan")
    ssim_y: float = float("nan")


def held_out_images(data: str, size: int, channels: int, n: int, seed: int = 0) -> torch.Tensor:
    """Up to ``n`` held-out HR images (N, C, size, size) of ``data`` drawn with ``seed``."""
    from genstudio.data import load_dataset

    num = 0 if data.lower() == "digits" or data.lower().startswith("folder:") else max(10 * n, 10)
    d = load_dataset(data, size=size, channels=channels, num_images=num, seed=seed)
    if d.kind != "images":
        raise ValueError(f"{data} is not an image data set")
    return d.tensor[held_out(len(d))][:n]


def score_images(name: str, sr: torch.Tensor, hr: torch.Tensor) -> Scores:
    return Scores(name, float(psnr(sr, hr).mean()), float(ssim(sr, hr).mean()),
                  float(gradient_energy(sr).sum() / gradient_energy(hr).sum().clamp_min(1e-12)),
                  float(psnr_y(sr, hr).mean()), float(ssim_y(sr, hr).mean()))


def upscale_all(model, lr: torch.Tensor, batch: int = 64) -> torch.Tensor:
    return torch.cat([model.upscale(lr[i:i + batch]) for i in range(0, lr.shape[0], batch)])


def cmd_score(args: argparse.Namespace) -> int:
    """Score the checkpoint (and every ``--also`` one) on the same held-out images; print a table."""
    from genstudio.loading import load_model
    from genstudio.safe_text import safe_text

    given = [f"--{n}" for n in ("sampler", "steps") if getattr(args, n, None) is not None]
    if given:
        raise ValueError(f"{' and '.join(given)} are for diffusion models; a super-resolution model "
                         "upscales in one pass: leave them out")
    paths = [args.checkpoint, *(getattr(args, "also", None) or [])]
    models = [load_model(p, args.device) for p in paths]
    first = models[0].meta
    for p, m in zip(paths[1:], models[1:]):
        if m.meta.get("kind") not in ("srresnet", "srgan") or m.channels != models[0].channels:
            raise ValueError(f"--also {p.name}: not a super-resolution model of the same channels")
    data = getattr(args, "data", None) or first.get("data")
    size = int(first.get("size", 64))
    hr = held_out_images(data, size, models[0].channels, args.n, args.seed)
    lr = downsample(hr)
    rows = [score_images("bicubic", bicubic_up(lr), hr)]
    outs = []
    for p, m in zip(paths, models):
        sr = upscale_all(m, lr)
        outs.append(sr)
        rows.append(score_images(f"{m.kind} ({p.name})", sr, hr))
    print(safe_text(f"×4 super-resolution, {hr.shape[0]} held-out {data} images, "
                    f"{size // 4} → {size} px (seed {args.seed})"))
    print(format_table(rows))
    crops = getattr(args, "crops", None)
    if crops is not None:
        save_crops(crops, lr, hr, outs, rows=getattr(args, "crop_rows", 4))
        print(safe_text(f"wrote {crops}: bicubic | {' | '.join(m.kind for m in models)} | original"))
    return 0


def format_table(rows: list[Scores]) -> str:
    width = max(len(r.name) for r in rows)
    lines = [f"{'method'.ljust(width)}  PSNR (dB)   SSIM    sharpness   PSNR-Y  SSIM-Y",
             f"{'-' * width}  ---------  ------  ---------  -------  ------"]
    base = rows[0].psnr
    for r in rows:
        gain = "" if r is rows[0] else f" ({r.psnr - base:+.2f} dB vs bicubic)"
        lines.append(f"{r.name.ljust(width)}  {r.psnr:9.2f}  {r.ssim:.4f}  {r.sharpness:9.3f}  "
                     f"{r.psnr_y:7.2f}  {r.ssim_y:.4f}{gain}")
    lines.append("PSNR, SSIM: RGB in [0, 1]; PSNR-Y, SSIM-Y: BT.601 luma, 4-px border cut (as the papers)")
    return "\n".join(lines)


def save_crops(path: Path, lr: torch.Tensor, hr: torch.Tensor, outs: list[torch.Tensor], rows: int = 4,
               zoom: int = 3) -> Path:
    """A PNG: one row per image, bicubic | each model | original, each shown ``zoom``× (nearest)."""
    from genstudio.imaging import make_grid, save_png

    n = min(rows, hr.shape[0])
    cols = [bicubic_up(lr[:n]), *(o[:n] for o in outs), hr[:n]]
    tiles = torch.stack(cols, 1).flatten(0, 1)  # (n·k, C, H, W)
    tiles = tiles.repeat_interleave(zoom, -1).repeat_interleave(zoom, -2)
    grid = make_grid(tiles.numpy(), nrow=len(cols))
    return save_png(path, np.ascontiguousarray(grid))
