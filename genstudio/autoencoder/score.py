"""``genstudio score`` for an autoencoder: reconstruction PSNR / SSIM on held-out images.

The held-out images are every tenth of the data set (:func:`~genstudio.superres.degrade.held_out`,
never trained on), drawn with ``--seed`` (default 0, the seed of the bundled run), at the
checkpoint's size; each is encoded to its posterior mean and decoded. The latents' statistics are
printed too: their standard deviation is what a latent diffusion model divides by (SD's 0.18215).
"""

from __future__ import annotations

import argparse

import torch

from genstudio.superres.metrics import psnr, ssim


def reconstruction_scores(model, x: torch.Tensor) -> dict[str, float]:
    """Mean PSNR (dB), its spread, SSIM and the latents' std of reconstructing images x (B, C, S, S)."""
    x_hat, z = model.reconstruct(x)
    p = psnr(x_hat, x)  # (B,)
    return {"psnr": float(p.mean()), "psnr_p10": float(p.quantile(0.1)), "psnr_min": float(p.min()),
            "ssim": float(ssim(x_hat, x).mean()), "latent_std": float(z.std()), "n": int(x.shape[0])}


def cmd_score(args: argparse.Namespace) -> int:
    """Print the reconstruction scores of the checkpoint on ``--n`` held-out images (default 500)."""
    from genstudio.loading import load_model
    from genstudio.safe_text import safe_text
    from genstudio.superres.score import held_out_images

    given = [f"--{n}" for n in ("sampler", "steps", "prompts", "guidances", "also", "crops")
             if getattr(args, n, None) is not None]
    if given:
        raise ValueError(f"{' and '.join(given)} are not for an autoencoder: it is scored on reconstruction")
    model = load_model(args.checkpoint, args.device)
    data = getattr(args, "data", None) or model.meta.get("data")
    n = args.n or 500
    x = held_out_images(data, model.size, model.channels, n, args.seed)
    s = reconstruction_scores(model, x)
    c, h, w = model.latent_shape
    print(safe_text(f"autoencoder {args.checkpoint.name}: {s['n']} held-out {data} images, {model.size} px → "
                    f"{c}×{h}×{w} latents (seed {args.seed})"))
    print(f"reconstruction PSNR: {s['psnr']:.2f} dB  (10th percentile {s['psnr_p10']:.2f}, worst {s['psnr_min']:.2f})")
    print(f"reconstruction SSIM: {s['ssim']:.4f}")
    print(f"latent std:          {s['latent_std']:.4f}  (a latent diffusion model scales by 1/std = "
          f"{1 / max(s['latent_std'], 1e-8):.4f})")
    return 0
