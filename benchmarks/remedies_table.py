"""Mode collapse on ring8: the plain GAN against each remedy, over seeds (the README's remedies table).

For every seed and every row this trains, in this process and on the CPU, the README's ring8 recipe
(:mod:`genstudio.recipes`: MLP width 128, z ∈ ℝ², Adam lr 1e-3 betas 0.5/0.999, batch 256, G's
weights averaged with decay 0.99) with one remedy of :mod:`genstudio.gan.remedies` switched on, draws
5,000 samples as ``genstudio sample --n 5000 --seed S`` does, and scores them with
:func:`genstudio.metrics.mode_coverage` (radius 0.1 = 5σ): the modes hit and the share within 0.1.
A run "collapsed" when it hits fewer than 8 modes.

It prints one line per run and then the table (mean ± sd over seeds). Rows are run seed by seed,
so a table cut short still compares every row on the same seeds.

Run: ``OMP_NUM_THREADS=1 python benchmarks/remedies_table.py --steps 5000`` (the full recipe),
``--seeds 0 1 2``, ``--rows plain r1``, ``--json FILE`` (rows appended as they finish; ``--table
FILE`` prints the table of such a file, for ``--seeds`` and ``--rows``, without training).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

#: row name -> (label, config.extra); the remedies' settings are the papers' usual ones for this size
ROWS: dict[str, tuple[str, dict]] = {
    "plain": ("plain GAN (BCE, 1 D step)", {}),
    "unrolled": ("unrolled D, k = 5 (Metz et al.)", {"unrolled": 5}),
    "mbstd": ("minibatch std, groups of 4 (Karras et al.)", {"mbstd": 4}),
    "sn": ("spectral norm on D (Miyato et al.)", {"spectral_norm": True}),
    "r1": ("R1 penalty, γ = 1 (Mescheder et al.)", {"r1": 1.0}),
}


def one_run(row: str, seed: int, steps: int) -> dict:
    """Train row ``row`` for ``steps`` steps with ``seed``; score 5,000 samples of its checkpoint."""
    import numpy as np

    from genstudio.data.toy2d import ring8_centers
    from genstudio.loading import load_model
    from genstudio.metrics import mode_coverage
    from genstudio.recipes import recipe_config
    from genstudio.runs.loop import run_to_end

    config = recipe_config("gan", "ring8", seed=seed, steps=steps, device="cpu", extra=dict(ROWS[row][1]))
    config = config.replace(preview_every=10**6, checkpoint_every=10**6, log_every=100)
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        finished = run_to_end(config, Path(tmp) / "run")
        model = load_model(finished.checkpoint, "cpu")
        points = model.sample(5000, seed).numpy()  # as `genstudio sample --n 5000 --seed S`
    share, modes = mode_coverage(points, ring8_centers(), radius=0.1)
    return {"row": row, "seed": seed, "steps": steps, "modes": modes, "share": round(100 * share, 2),
            "cpu_s": round(time.process_time() - t0, 1), "reason": finished.reason}


def table(results: list[dict]) -> str:
    """The README's table of ``results`` (rows in :data:`ROWS` order)."""
    lines = ["| run | seeds | modes covered (of 8) | share within 0.1 | collapsed (< 8 modes) | CPU s / run |",
             "|---|---|---|---|---|---|"]
    for row, (label, _) in ROWS.items():
        rs = [r for r in results if r["row"] == row]
        if not rs:
            continue
        modes = [r["modes"] for r in rs]
        shares = [r["share"] for r in rs]
        sd = (lambda v: statistics.stdev(v) if len(v) > 1 else 0.0)
        lines.append(f"| {label} | {len(rs)} | {statistics.mean(modes):.1f} ± {sd(modes):.1f} | "
                     f"{statistics.mean(shares):.1f} ± {sd(shares):.1f} % | {sum(m < 8 for m in modes)} of {len(rs)} | "
                     f"{statistics.mean(r['cpu_s'] for r in rs):.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    p.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    p.add_argument("--steps", type=int, default=5000, help="training steps (the recipe: 5000)")
    p.add_argument("--json", type=Path, default=None, help="append every run to this JSON-lines file")
    p.add_argument("--table", type=Path, default=None, help="print the table of a --json file and exit")
    args = p.parse_args(argv)
    if args.table:
        results = [json.loads(line) for line in args.table.read_text().splitlines() if line.strip()]
        print(table([r for r in results if r["seed"] in args.seeds and r["row"] in args.rows]))
        return 0
    import torch

    torch.set_num_threads(1)
    print(f"ring8 remedies: recipe, {args.steps} steps, seeds {args.seeds}, rows {args.rows}", flush=True)
    results = []
    for seed in args.seeds:
        for row in args.rows:
            r = one_run(row, seed, args.steps)
            results.append(r)
            print(f"{row:9s} seed {seed:2d}: {r['modes']}/8 modes, {r['share']:5.1f} % within 0.1 "
                  f"({r['cpu_s']} CPU s)", flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(r) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
