"""The faces Fréchet distance (:mod:`genstudio.faces_score`) of face models over sample seeds.

For each checkpoint, ``--n`` samples for each of ``--seeds`` go through the faces attribute
classifier's features against the same real reference (seed 7); real-vs-real is printed once. This is
the README's comparison of the bundled style-based generator and the bundled DCGAN (both 32 px).

Run: ``python benchmarks/faces_fd_seeds.py checkpoints/dcgan_faces.safetensors checkpoints/stylegan_faces.safetensors``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from genstudio.faces_score import faces_score
    from genstudio.loading import load_model

    p = argparse.ArgumentParser()
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = p.parse_args(argv)
    for path in args.checkpoints:
        model = load_model(path, "cpu")
        scores = [faces_score(model.sample(args.n, seed=s)) for s in args.seeds]
        fd = np.array([s.fd for s in scores])
        print(f"{path}: faces FD {fd.mean():.1f} ± {fd.std():.1f} (mean ± sd over seeds {args.seeds}; "
              f"each {args.n} samples), per seed {', '.join(f'{v:.1f}' for v in fd)}; "
              f"real vs real {scores[0].real_vs_real:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
