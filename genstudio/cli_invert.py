"""``genstudio invert``: an image of your own, run back to a model's noise and regenerated — DDIM inversion
for a diffusion model, projection (z optimised so that G(z) matches) for a GAN; and ``genstudio
neighbours``: did the model copy — its samples beside their nearest training images."""

from __future__ import annotations

import argparse
import time

import numpy as np

from genstudio.metrics import psnr


def cmd_invert(args: argparse.Namespace) -> int:
    """Invert ``args.image`` with DDIM, regenerate it (η = 0) and, with ``--eta``, a variation; write
    original | reconstruction [| variation] as one PNG and print the reconstruction's PSNR."""
    from genstudio.data import uint8_to_tensor
    from genstudio.data.folder import read_one_image
    from genstudio.diffusion.inversion import ddim_invert
    from genstudio.families import get_family
    from genstudio.loading import load_model
    from genstudio.safe_text import safe_text
    from genstudio.sampling import SampleSpec, sample

    if args.out.suffix != ".png":
        raise ValueError(f"--out must be FILE.png, not {args.out.name}")
    model = load_model(args.checkpoint, args.device)
    family = get_family(model.kind)
    if getattr(model, "is_points", False):
        raise ValueError(f"invert works on image models; {args.checkpoint.name} is a 2-D point model")
    if not family.uses_samplers and not hasattr(model, "G"):
        raise ValueError(f"invert works on image diffusion models and GANs; {args.checkpoint.name} is "
                         f"{family.noun}")
    channels, size = model.sample_shape[0], model.sample_shape[-1]
    pixels = read_one_image(args.image, size, gray=channels == 1)  # (size, size, C) uint8
    image = uint8_to_tensor(pixels[None].copy()).numpy()  # (1, C, size, size) in [-1, 1]
    if not family.uses_samplers:
        return _project(model, image, args)
    steps = args.steps or 50
    inversion = ddim_invert(model, image, steps)
    spec = SampleSpec(n=1, seed=args.seed, sampler="ddim", steps=steps, eta=0.0, record=False)
    reconstruction = sample(model, spec, start_x=inversion.noise).final
    panels = [image, reconstruction]
    print(safe_text(f"DDIM inversion, {steps} steps: reconstruction {psnr(reconstruction, image):.1f} dB PSNR "
                    f"against the image ({size}×{size} px, as the model sees it)"))
    if args.eta > 0:  # the inverted noise with fresh per-step noise: a variation on the image
        variation = sample(model, SampleSpec(n=1, seed=args.seed, sampler="ddim", steps=steps,
                                             eta=args.eta, record=False), start_x=inversion.noise).final
        panels.append(variation)
        print(safe_text(f"variation (η = {args.eta:g}, seed {args.seed}): {psnr(variation, image):.1f} dB PSNR"))
    if args.noise_out is not None:
        np.save(args.noise_out, inversion.noise.astype(np.float32))
        print(safe_text(f"inverted noise x_T written to {args.noise_out}"))
    _write(args, model, panels, {"genstudio:sampler": f"ddim {steps} steps",
                                 "genstudio:panels": "image | reconstruction"
                                 + (f" | variation eta {args.eta:g} seed {args.seed}" if args.eta > 0 else "")})
    return 0


def _project(model, image: np.ndarray, args: argparse.Namespace) -> int:
    """A GAN has no encoder: optimise z so that G(z) matches the image (``genstudio.gan.projection``)."""
    from genstudio.gan.projection import project
    from genstudio.progress import ProgressBar
    from genstudio.safe_text import safe_text

    if args.eta > 0:
        raise ValueError("--eta is for diffusion models (a GAN's image is fixed by its z)")
    steps = args.steps or 300
    bar = ProgressBar(enabled=True)
    bar.start(0, steps, "z to match the image (G frozen)")
    t0 = time.perf_counter()
    result = project(model, image[0], steps=steps, seed=args.seed,
                     progress=lambda done, total, loss: bar.update(done, done / (time.perf_counter() - t0),
                                                                    {"pixel error": loss}))
    bar.close()
    print(safe_text(f"GAN projection, {steps} Adam steps on z: pixel error {result.losses[0]:.4f} (best of 64 "
                    f"random z) → {result.losses[-1]:.4f}, {psnr(result.image, image[0]):.1f} dB PSNR"))
    if args.noise_out is not None:
        np.save(args.noise_out, result.z.astype(np.float32)[None])
        print(safe_text(f"latent z written to {args.noise_out}"))
    _write(args, model, [image, result.image[None]], {"genstudio:sampler": f"projection, {steps} steps",
                                                      "genstudio:panels": "image | projection G(z)"})
    return 0


def _write(args: argparse.Namespace, model, panels: list[np.ndarray], text: dict[str, str],
           nrow: int | None = None) -> None:
    from genstudio.imaging import make_grid, resize_long_side, save_png
    from genstudio.safe_text import safe_text

    grid = make_grid(np.concatenate(panels), nrow=nrow or len(panels), pad=1)
    source = {"genstudio:inverted": str(args.image)} if hasattr(args, "image") else {}
    save_png(args.out, resize_long_side(grid, args.px) if args.px else grid,
             {"genstudio:model": model.describe(), **source, **text})
    print(safe_text(f"written to {args.out}"))


def cmd_neighbours(args: argparse.Namespace) -> int:
    """``genstudio neighbours``: samples of a checkpoint beside their nearest training images, and the
    share that pass as copies (:mod:`genstudio.memorisation`)."""
    from genstudio.config import RunConfig
    from genstudio.data import load_dataset
    from genstudio.families import get_family
    from genstudio.loading import load_model
    import torch

    from genstudio.memorisation import COPY_RATIO, at_size, nearest_training
    from genstudio.safe_text import safe_text
    from genstudio.sampling import SampleSpec, sample

    if args.out.suffix != ".png":
        raise ValueError(f"--out must be FILE.png, not {args.out.name}")
    model = load_model(args.checkpoint, args.device)
    if getattr(model, "is_points", False) or model.kind not in ("gan", "diffusion"):
        raise ValueError(f"neighbours works on GANs and diffusion models of images; {args.checkpoint.name} is "
                         f"{'a 2-D point model' if getattr(model, 'is_points', False) else get_family(model.kind).noun}")
    config = RunConfig.from_dict(model.meta["config"])
    data = load_dataset(config.data, size=config.size, channels=config.channels, seed=config.seed)
    if get_family(model.kind).uses_samplers:
        samples = sample(model, SampleSpec(n=args.n, seed=args.seed, sampler="ddim", steps=50, record=False)).final
        how = "DDIM 50 steps"
    else:
        samples = model.sample(args.n, seed=args.seed).numpy()
        how = "one pass of G"
    samples = np.clip(samples, -1, 1)
    nb = nearest_training(samples, data.tensor.numpy(), k=args.k, space=args.space)
    ratios = nb.ratios
    print(safe_text(f"{args.n} samples ({how}, seed {args.seed}) against the {len(data):,} training images of "
                    f"{data.name} in {args.space} space: {nb.copies.mean():.0%} pass as copies (d1/d2 < "
                    f"{COPY_RATIO:.2f}); d1/d2 median {np.median(ratios):.2f}, lowest {ratios.min():.2f}"))
    for i in np.argsort(ratios)[:min(args.n, 8)]:  # the most copy-like first
        print(safe_text(f"  row {i + 1}: d1/d2 {ratios[i]:.2f}, nearest training image #{nb.indices[i, 0]} "
                        f"at {nb.distances[i, 0]:.2f}" + ("  ← a copy" if ratios[i] < COPY_RATIO else "")))
    train = data.tensor.numpy()
    rows = []
    for i in range(args.n):  # the sample (resized to the training size) | its k nearest
        small = at_size(torch.from_numpy(samples[i:i + 1]), tuple(train.shape[-2:])).numpy()
        rows.append(np.concatenate([small, train[nb.indices[i]]]))
    _write(args, model, [np.concatenate(rows)], {"genstudio:sampler": how,
                                                  "genstudio:panels": f"each row: sample | {args.k} nearest "
                                                                      f"training images ({args.space})"},
           nrow=args.k + 1)
    return 0
