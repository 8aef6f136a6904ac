"""Does style mixing split the faces' factors as the StyleGAN paper says? Measured with the faces
attribute classifier (:func:`genstudio.faces_reader.read_faces`), not by eye.

For ``n`` pairs (destination A, source B) drawn from one seed, the mixed face M is A with B's styles in
one band (:data:`~genstudio.stylegan.model.CROSSOVERS`). For each factor the classifier reads we count,
over the pairs where A and B *read differently* in that factor, how often M reads as A and how often as
B. The paper's claim for the coarse band: M takes the hair style (the face's layout; ``faces`` has no
pose, head shape is not read) from B, and the colours — hair colour, skin, the background — from A.
Hair colour is only counted where A, B and M all read as having hair (a bald face's hair colour is
not read). The background is the one factor read from pixels, not by the classifier: ``faces`` paints
it plain, so the mean of the two top corners is its colour exactly (:func:`background_colour`); M
counts as A's when its background is nearer A's than B's (every pair counts).

``python -m genstudio.stylegan.mixing_score CKPT [--n 500] [--seeds 0 1 2]`` prints the table.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["MixingAgreement", "mixing_agreement", "background_colour", "FACTORS"]

READ_FACTORS = ("hair_style", "hair_colour", "skin")  # read by the attribute classifier
FACTORS = (*READ_FACTORS, "background")  # the background is read from the pixels


def background_colour(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, C): the mean of the two top corner patches (an eighth of the side each), where
    ``faces`` draws nothing but its plain background (the factor ``background``)."""
    k = max(1, images.shape[-1] // 8)
    return (images[..., :k, :k].mean(dim=(2, 3)) + images[..., :k, -k:].mean(dim=(2, 3))) / 2


@dataclass(frozen=True)
class MixingAgreement:
    """Per factor: (share of M reading as A, share reading as B, pairs counted) for one band and seed."""

    band: str
    seed: int
    n: int
    rates: dict[str, tuple[float, float, int]]

    def line(self) -> str:
        parts = [f"{f}: A {a:.0%} / B {b:.0%} (of {k})" for f, (a, b, k) in self.rates.items()]
        return f"{self.band:6s} seed {self.seed}: " + "; ".join(parts)


def mixing_agreement(model, band: str, n: int = 500, seed: int = 0, psi: float = 1.0) -> MixingAgreement:
    """Mix ``n`` (A, B) pairs of ``model`` (a StyleGanModel) in ``band`` and read A, B and M."""
    from genstudio.faces_reader import load_face_classifier, read_faces
    from genstudio.stylegan.model import crossover_layers

    z = model.noise(2 * n, seed)  # (2n, nz): A = first n, B = last n
    ws = model.ws_of(z, psi)
    a_ws, b_ws = ws[:n], ws[n:]
    m_ws = model.mix(a_ws, b_ws, crossover_layers(model.resolutions, band))
    images = model.synthesize(torch.cat([a_ws, b_ws, m_ws])).clamp(-1, 1)
    net = load_face_classifier()
    reads = read_faces(images, net)
    A, B, M = reads[:n], reads[n:2 * n], reads[2 * n:]
    rates: dict[str, tuple[float, float, int]] = {}
    for f in READ_FACTORS:
        keep = [i for i in range(n) if A[i][f] != B[i][f]]
        if f == "hair_colour":
            keep = [i for i in keep if "bald" not in (A[i]["hair_style"], B[i]["hair_style"], M[i]["hair_style"])]
        k = len(keep)
        as_a = sum(M[i][f] == A[i][f] for i in keep) / k if k else float("nan")
        as_b = sum(M[i][f] == B[i][f] for i in keep) / k if k else float("nan")
        rates[f] = (as_a, as_b, k)
    bg_a, bg_b, bg_m = (background_colour(x) for x in images.split(n))  # (n, C) each
    nearer_a = (bg_m - bg_a).norm(dim=1) < (bg_m - bg_b).norm(dim=1)
    rates["background"] = (float(nearer_a.float().mean()), float((~nearer_a).float().mean()), n)
    return MixingAgreement(band, seed, n, rates)


def main(argv: list[str] | None = None) -> int:
    from genstudio.loading import load_model
    from genstudio.stylegan.model import CROSSOVERS

    p = argparse.ArgumentParser(prog="python -m genstudio.stylegan.mixing_score",
                                description="style mixing read by the faces attribute classifier")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--psi", type=float, default=1.0)
    args = p.parse_args(argv)
    model = load_model(args.checkpoint, "cpu")
    if getattr(model, "num_ws", None) is None:
        print(f"{args.checkpoint} is not a style-based generator", file=sys.stderr)
        return 2
    print(f"{args.n} pairs a seed; M = A with B's styles in the band; shares of M reading as A / as B, "
          f"over the pairs where A and B differ (psi {args.psi})")
    for band in CROSSOVERS:
        results = [mixing_agreement(model, band, args.n, s, args.psi) for s in args.seeds]
        for r in results:
            print(r.line())
        for f in FACTORS:
            a = np.array([r.rates[f][0] for r in results])
            b = np.array([r.rates[f][1] for r in results])
            print(f"  {band} {f}: as A {a.mean():.0%} ± {a.std():.0%}, as B {b.mean():.0%} ± {b.std():.0%} "
                  f"(mean ± sd over {len(results)} seeds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
