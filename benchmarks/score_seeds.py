"""The digits score of a checkpoint as a distribution over sampling seeds and CPU kernel sets.

``genstudio score FILE`` draws 500 samples with one seed; another seed, or another CPU's kernels,
draws others. For every seed and kernel set (``ATEN_CPU_CAPABILITY``: ``default``, ``avx2``, and
``native`` = what this CPU picks) this runs, in a fresh process, exactly

    genstudio score FILE --seed S

and prints the Fréchet distance, the real-vs-real figure and their ratio, then min / median / max.

Run: ``python benchmarks/score_seeds.py checkpoints/dcgan_digits.safetensors`` (5 seeds × 3 kernel
sets; ``--seeds``, ``--caps``, ``--jobs``; extra score flags after ``--``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import kernel_env, split_passthrough


def one_score(path: Path, seed: int, cap: str, extra: list[str]) -> tuple[float, float, float]:
    """``(fd, real_vs_real, ratio)`` of ``genstudio score path --seed seed`` under kernel set ``cap``."""
    env = kernel_env(cap)
    out = subprocess.run([sys.executable, "-m", "genstudio", "score", str(path), "--seed", str(seed),
                          "--device", "cpu", *extra], env=env, check=True, capture_output=True, text=True).stdout
    fd, rr, ratio = (float(re.search(rf"{label}:\s+([\d.]+)", out).group(1))
                     for label in ("distance", "real vs real", "ratio"))
    return fd, rr, ratio


def main(argv: list[str] | None = None) -> int:
    argv, extra = split_passthrough(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--caps", nargs="+", default=["default", "avx2", "native"])
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    jobs = [(seed, cap) for cap in args.caps for seed in args.seeds]
    print(f"genstudio score {args.checkpoint} {' '.join(extra)} | seeds {args.seeds} | kernels {args.caps}",
          flush=True)
    ratios, fds = [], []
    with ThreadPoolExecutor(args.jobs) as pool:
        for (seed, cap), fut in zip(jobs, [pool.submit(one_score, args.checkpoint, s, c, extra) for s, c in jobs]):
            fd, rr, ratio = fut.result()
            fds.append(fd)
            ratios.append(ratio)
            print(f"seed {seed} {cap:8s} Fréchet distance {fd:6.2f}  real vs real {rr:6.2f}  ratio {ratio:.2f}",
                  flush=True)
    print(f"Fréchet distance: min {min(fds):.2f}, median {statistics.median(fds):.2f}, max {max(fds):.2f}; "
          f"ratio: min {min(ratios):.2f}, median {statistics.median(ratios):.2f}, max {max(ratios):.2f} "
          f"({len(fds)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
