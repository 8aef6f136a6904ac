"""``genstudio sample``: draw samples from any checkpoint and write them to disk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from genstudio.safe_text import safe_text


def sample_to_disk(args: argparse.Namespace) -> int:
    """Write ``args.n`` samples of ``args.checkpoint`` to ``args.out``; returns an exit status."""
    from genstudio.loading import load_model

    model = load_model(args.checkpoint, args.device)
    out: Path = args.out
    if model.is_points and out.suffix != ".npy":
        raise ValueError(f"{args.checkpoint.name} makes 2-D points: give --out FILE.npy")
    if model.kind == "gan":
        if args.trajectory is not None:
            raise ValueError("--trajectory is for diffusion models; this is a GAN")
        samples = model.sample(args.n, seed=args.seed).numpy()
        how = "gan"
    else:
        record = args.trajectory is not None
        result = model.sample(args.n, seed=args.seed, sampler=args.sampler, steps=args.steps,
                              eta=args.eta, record=record, progress=_progress(args))
        if record:
            samples_t, trajectory = result
            trajectory.save_npz(args.trajectory)
            print(safe_text(f"trajectory ({len(trajectory.timesteps)} steps) written to {args.trajectory}"))
        else:
            samples_t = result
        samples = samples_t.numpy()
        how = args.sampler if args.sampler == "ddpm" else f"ddim {args.steps} steps eta {args.eta:g}"
    samples = np.clip(samples, -1, 1) if not model.is_points else samples
    text = {"genstudio:model": model.describe(), "genstudio:step": str(model.meta.get("step")),
            "genstudio:seed": str(args.seed), "genstudio:sampler": how,
            "genstudio:checkpoint": args.checkpoint.name}
    _write(out, samples, text)
    print(safe_text(f"{args.n} samples written to {out}"))
    return 0


def _progress(args: argparse.Namespace):
    """A callback(done, total) drawing a terminal bar for long diffusion sampling."""
    from genstudio.progress import ProgressBar

    bar = ProgressBar(enabled=sys.stderr.isatty())
    state = {"started": False}

    def callback(done: int, total: int) -> None:
        if not state["started"]:
            bar.start(0, total, f"sampling {args.n} images ({args.sampler})")
            state["started"] = True
        bar.tick(done)
        if done == total:
            bar.close()

    return callback


def _write(out: Path, samples: np.ndarray, text: dict[str, str]) -> None:
    from genstudio.checkpoint import atomic_write_bytes
    from genstudio.imaging import make_grid, save_png, to_uint8

    if out.suffix == ".npy":
        import io

        buf = io.BytesIO()
        np.save(buf, samples.astype(np.float32))
        atomic_write_bytes(out, buf.getvalue())
        return
    if out.suffix == ".png":  # one grid image
        save_png(out, make_grid(samples), text)
        return
    if out.suffix:
        raise ValueError(f"--out must be a folder, FILE.png or FILE.npy, not {out.name}")
    out.mkdir(parents=True, exist_ok=True)
    images = to_uint8(samples)  # (N, H, W, C)
    for i, img in enumerate(images):
        save_png(out / f"sample_{i:04d}.png", img if img.shape[-1] == 3 else img[..., 0],
                 {**text, "genstudio:index": str(i)})
