"""Why latent? The same text-conditioned U-Net, one sampling step in pixel space against latent space.

Rombach et al. (2022) run the diffusion model on an autoencoder's latents because a step there costs
a fraction of a step on pixels, and the decoder runs once per picture, not once per step. This
benchmark times, interleaved round by round (load from other processes hits every side alike), in
CPU time of one torch thread:

* **pixel step**: one classifier-free-guided forward (2N rows) of the text2image U-Net on 64 × 64 × 3
  pictures, as ``genstudio train text2image --size 64`` would build it (mults 1, 2, 2, 2);
* **latent step**: the same U-Net and width on 16 × 16 × 4 latents, as ``genstudio train ldm`` builds
  it (mults 1, 2, 2: a 16 px input);
* **decode**: the KL autoencoder's decoder on N latents (the bundled ``ae_faces`` network), once.

Random weights cost the same as trained ones. It prints the time of each and of a whole 50-step
DDIM run of N pictures both ways (latent: 50 steps + one decode).

Run: ``python benchmarks/why_latent.py [--n 8] [--width 32] [--rounds 10]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from _common import interleave, machine_note
from genstudio.models.cond_unet import CondUNet
from genstudio.models.kl_vae import KLAutoencoder

VOCAB, MAX_LEN = 40, 12  # about the faces captions' vocabulary and length


def unet(channels: int, width: int, mults: list[int]) -> CondUNet:
    torch.manual_seed(0)
    return CondUNet(channels=channels, width=width, mults=mults, vocab_size=VOCAB, max_len=MAX_LEN,
                    text_dim=2 * width, text_layers=2, heads=4).eval()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8, help="pictures sampled at once (a guided step runs 2N rows)")
    p.add_argument("--width", type=int, default=32, help="the U-Net's base width (the bundled ldm_faces: 32)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--steps", type=int, default=50, help="DDIM steps of the whole-run figure")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    n = args.n
    pixel, latent = unet(3, args.width, [1, 2, 2, 2]), unet(4, args.width, [1, 2, 2])
    vae = KLAutoencoder(3, 32, (1, 2, 2), 4).eval()
    ids = torch.randint(2, VOCAB, (2 * n, MAX_LEN))
    t = torch.full((2 * n,), 500, dtype=torch.long)
    with torch.inference_mode():
        ctx_p, ctx_l = pixel.encode(ids), latent.encode(ids)
    x_pixel, x_latent, z = torch.randn(2 * n, 3, 64, 64), torch.randn(2 * n, 4, 16, 16), torch.randn(n, 4, 16, 16)

    def timed(fn) -> float:
        with torch.inference_mode():
            c0 = time.thread_time()
            fn()
            return time.thread_time() - c0

    sides = {"pixel step": lambda: timed(lambda: pixel.denoise(x_pixel, t, ctx_p)),
             "latent step": lambda: timed(lambda: latent.denoise(x_latent, t, ctx_l)),
             "decode": lambda: timed(lambda: vae.decode(z))}
    for f in sides.values():
        f()  # warm-up
    times = {k: statistics.median(v) for k, v in interleave(sides, args.rounds).items()}
    ps, ls, dec = times["pixel step"], times["latent step"], times["decode"]
    params = lambda m: sum(q.numel() for q in m.parameters()) / 1e6  # noqa: E731
    print(machine_note())
    print(f"text-conditioned U-Net width {args.width}, N = {n} pictures (guided: {2 * n} rows a step), "
          f"{args.rounds} rounds, CPU time of one thread, median")
    print(f"pixel space  64×64×3  ({params(pixel):.2f} M parameters): {ps * 1e3:9.1f} ms a step")
    print(f"latent space 16×16×4  ({params(latent):.2f} M parameters): {ls * 1e3:9.1f} ms a step  "
          f"({ps / ls:.1f}× faster)")
    print(f"decoder, once for N latents ({params(vae.decoder) + params(vae.post_quant):.2f} M parameters): "
          f"{dec * 1e3:9.1f} ms")
    print(f"{args.steps}-step DDIM run of {n} pictures: pixel {args.steps * ps:.2f} s, latent "
          f"{args.steps * ls + dec:.2f} s (with the decode): {args.steps * ps / (args.steps * ls + dec):.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
