"""Ring8 mode coverage of the MLP GAN trained on the CPU (issue 2's goal).

Goal: on ring8 (8 Gaussians of std 0.02 on a circle of radius 2) the MLP GAN covers all 8 modes
with at least 85 % of 5,000 samples within 0.1 (5σ) of a mode centre after at most 5,000 steps,
for 3 seeds out of 3.

For each seed this trains a ``GanTrainer`` (the same step the run loop and ``genstudio train gan``
call) with the classic losses, then draws 5,000 points from G in eval mode with the same per-sample
latents ``genstudio sample`` uses, and prints the fraction within ``--radius`` and the modes hit.
The metric is :func:`genstudio.metrics.mode_coverage` (Metz et al. 2017; Srivastava et al. 2017).

Run: ``python benchmarks/ring8_gan_coverage.py`` (one CPU thread; about a minute per seed on a
shared 2-core machine). ``--steps``, ``--seeds`` etc. change the budget. The equivalent CLI run is
``genstudio train gan --data ring8 --lr 1e-3 --batch 256 --steps 5000 --seed S --out RUN``.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from genstudio.config import RunConfig
from genstudio.devices import sample_noise
from genstudio.metrics import mode_coverage
from genstudio.training import make_trainer

GOAL_FRACTION, GOAL_MODES = 0.85, 8


def train_and_measure(seed: int, steps: int, *, batch: int = 256, lr: float = 1e-3, width: int = 0,
                      latent_dim: int = 0, samples: int = 5000, radius: float = 0.1
                      ) -> tuple[float, int, float]:
    """Train the ring8 MLP GAN for ``steps`` and return ``(fraction_within, modes_hit, train_seconds)``."""
    cfg = RunConfig(kind="gan", data="ring8", steps=steps, batch=batch, lr=lr, width=width,
                    latent_dim=latent_dim, seed=seed).validate()
    trainer = make_trainer(cfg, torch.device("cpu"))
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(trainer.next_batch())
    t_train = time.perf_counter() - t0
    G = trainer.G.eval()
    z = sample_noise((G.nz,), samples, seed)  # (N, nz): what `genstudio sample --seed S` draws
    with torch.inference_mode():
        points = G(z)  # (N, 2)
    frac, modes = mode_coverage(points, trainer.data.centers, radius=radius)
    return frac, modes, t_train


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)  # 2-D data: faster than the DCGAN paper's 2e-4
    p.add_argument("--width", type=int, default=0)  # 0 = MLP default (128)
    p.add_argument("--latent-dim", type=int, default=0)  # 0 = 2 for 2-D data
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--radius", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    print(f"ring8 MLP GAN | steps {args.steps} batch {args.batch} lr {args.lr:g} "
          f"width {args.width or 'default'} nz {args.latent_dim or 'default'} | "
          f"{args.samples} samples, radius {args.radius}")
    ok = True
    t_start = time.perf_counter()
    for seed in args.seeds:
        frac, modes, t_train = train_and_measure(seed, args.steps, batch=args.batch, lr=args.lr,
                                                 width=args.width, latent_dim=args.latent_dim,
                                                 samples=args.samples, radius=args.radius)
        passed = frac >= GOAL_FRACTION and modes >= GOAL_MODES
        ok &= passed
        print(f"seed {seed}: {100 * frac:5.1f} % within {args.radius}, {modes}/8 modes "
              f"{'PASS' if passed else 'fail'} (train {t_train:.0f} s)", flush=True)
    print(f"goal (≥ {100 * GOAL_FRACTION:.0f} % and {GOAL_MODES}/8 modes for every seed): "
          f"{'PASS' if ok else 'FAIL'}; total {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
