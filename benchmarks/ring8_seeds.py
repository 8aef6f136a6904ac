"""Ring8 quality as a distribution over seeds and CPU kernel sets, from the exact commands a user runs.

Training is chaotic: another CPU's kernels round differently and a seed lands elsewhere. So a
quality figure is only honest as a distribution. For every seed and every kernel set
(``ATEN_CPU_CAPABILITY``: ``default`` = portable C++ kernels, ``avx2``, and ``native`` = what this
CPU picks) this runs, in a fresh process, exactly what the README shows:

    genstudio train KIND --data ring8 --steps STEPS --seed S --out RUN [--quiet]
    genstudio sample RUN/checkpoints/last.safetensors --n 5000 --out points.npy --seed S

(the recipe's defaults, ``genstudio sample``'s default sampler) and scores the points with
:func:`genstudio.metrics.mode_coverage`: the share of samples within 0.1 (5σ) of a mode centre and
the modes hit. It prints one line per run and a summary: modes 8/8 in how many runs, the share's
min / median / max.

Run: ``python benchmarks/ring8_seeds.py gan`` (10 seeds × 3 kernel sets, 2 at a time, one torch
thread each; ~30 min on a quiet 2-core machine), ``--seeds 0 1 2``, ``--caps default``, ``--steps``,
``--jobs``, and ``-- EXTRA TRAIN FLAGS`` to try another recipe (e.g. ``-- --lr 1e-3``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from _common import kernel_env, split_passthrough


def one_run(kind: str, seed: int, cap: str, steps: int | None, extra: list[str], tmp: Path) -> dict:
    """Train and sample as the CLI does in a fresh process under kernel set ``cap``; score the samples."""
    from genstudio.data.toy2d import ring8_centers
    from genstudio.metrics import mode_coverage

    env = kernel_env(cap)
    run = tmp / f"{kind}-s{seed}-{cap}"
    train = [sys.executable, "-m", "genstudio", "train", kind, "--data", "ring8", "--seed", str(seed),
             "--out", str(run), "--quiet", "--device", "cpu", *(["--steps", str(steps)] if steps else []), *extra]
    t0 = time.perf_counter()
    subprocess.run(train, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    points = run / "points.npy"
    subprocess.run([sys.executable, "-m", "genstudio", "sample", str(run / "checkpoints" / "last.safetensors"),
                    "--n", "5000", "--out", str(points), "--seed", str(seed), "--device", "cpu"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    frac, modes = mode_coverage(np.load(points), ring8_centers(), radius=0.1)
    return {"kind": kind, "seed": seed, "cap": cap, "share": round(100 * frac, 1), "modes": modes,
            "train_s": round(seconds)}


def summary(rows: list[dict]) -> str:
    shares = [r["share"] for r in rows]
    full = sum(r["modes"] == 8 for r in rows)
    return (f"8/8 modes in {full} of {len(rows)} runs; fewest modes {min(r['modes'] for r in rows)}; "
            f"share within 0.1: min {min(shares):.1f} %, median {statistics.median(shares):.1f} %, "
            f"max {max(shares):.1f} %")


def main(argv: list[str] | None = None) -> int:
    argv, extra = split_passthrough(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=("gan", "diffusion"))
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    p.add_argument("--caps", nargs="+", default=["default", "avx2", "native"])
    p.add_argument("--steps", type=int, default=None, help="default: the recipe's")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write every row to this JSON-lines file")
    args = p.parse_args(argv)

    print(f"ring8 {args.kind}: genstudio train {args.kind} --data ring8"
          f"{f' --steps {args.steps}' if args.steps else ''} {' '.join(extra)} | seeds {args.seeds} | "
          f"kernels {args.caps}", flush=True)
    jobs = [(seed, cap) for cap in args.caps for seed in args.seeds]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_run, args.kind, seed, cap, args.steps, extra, Path(tmp)) for seed, cap in jobs]
        for fut in futures:
            row = fut.result()
            rows.append(row)
            print(f"seed {row['seed']:2d} {row['cap']:8s} {row['share']:5.1f} % within 0.1, "
                  f"{row['modes']}/8 modes (train {row['train_s']} s)", flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(row) + "\n")
    for cap in args.caps:
        print(f"{cap:8s}: " + summary([r for r in rows if r["cap"] == cap]))
    print("all     : " + summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
