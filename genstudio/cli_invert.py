"""``genstudio invert``: an image of your own, run back to a diffusion model's noise and regenerated."""

from __future__ import annotations

import argparse

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images in [−1, 1] (peak-to-peak 2, as 8-bit PSNR)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(4.0 / mse)


def cmd_invert(args: argparse.Namespace) -> int:
    """Invert ``args.image`` with DDIM, regenerate it (η = 0) and, with ``--eta``, a variation; write
    original | reconstruction [| variation] as one PNG and print the reconstruction's PSNR."""
    from genstudio.data import uint8_to_tensor
    from genstudio.data.folder import read_one_image
    from genstudio.diffusion.inversion import ddim_invert
    from genstudio.families import get_family
    from genstudio.imaging import make_grid, resize_long_side, save_png
    from genstudio.loading import load_model
    from genstudio.safe_text import safe_text
    from genstudio.sampling import SampleSpec, sample

    if args.out.suffix != ".png":
        raise ValueError(f"--out must be FILE.png, not {args.out.name}")
    model = load_model(args.checkpoint, args.device)
    family = get_family(model.kind)
    if not family.uses_samplers or getattr(model, "is_points", False):
        what = "a 2-D point model" if getattr(model, "is_points", False) else family.noun
        raise ValueError(f"invert works on image diffusion models; {args.checkpoint.name} is {what}")
    channels, size = model.sample_shape[0], model.sample_shape[-1]
    pixels = read_one_image(args.image, size, gray=channels == 1)  # (size, size, C) uint8
    image = uint8_to_tensor(pixels[None].copy()).numpy()  # (1, C, size, size) in [-1, 1]
    inversion = ddim_invert(model, image, args.steps)
    spec = SampleSpec(n=1, seed=args.seed, sampler="ddim", steps=args.steps, eta=0.0, record=False)
    reconstruction = sample(model, spec, start_x=inversion.noise).final
    panels = [image, reconstruction]
    print(safe_text(f"DDIM inversion, {args.steps} steps: reconstruction {psnr(reconstruction, image):.1f} dB PSNR "
                    f"against the image ({size}×{size} px, as the model sees it)"))
    if args.eta > 0:  # the inverted noise with fresh per-step noise: a variation on the image
        variation = sample(model, SampleSpec(n=1, seed=args.seed, sampler="ddim", steps=args.steps,
                                             eta=args.eta, record=False), start_x=inversion.noise).final
        panels.append(variation)
        print(safe_text(f"variation (η = {args.eta:g}, seed {args.seed}): {psnr(variation, image):.1f} dB PSNR"))
    if args.noise_out is not None:
        np.save(args.noise_out, inversion.noise.astype(np.float32))
        print(safe_text(f"inverted noise x_T written to {args.noise_out}"))
    grid = make_grid(np.concatenate(panels), nrow=len(panels), pad=1)
    save_png(args.out, resize_long_side(grid, args.px) if args.px else grid,
             {"genstudio:model": model.describe(), "genstudio:inverted": str(args.image),
              "genstudio:sampler": f"ddim {args.steps} steps", "genstudio:panels": "image | reconstruction"
              + (f" | variation eta {args.eta:g} seed {args.seed}" if args.eta > 0 else "")})
    print(safe_text(f"written to {args.out}"))
    return 0
