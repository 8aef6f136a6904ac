"""Copy a diffusion checkpoint with its raw weights in place of its EMA, to sample a young run.

Samplers use a diffusion checkpoint's EMA weights (``ema/eps``). Early in a run with a slow EMA
(0.999) those are still mostly the initial weights (0.999^412 = 0.66 of them after 412 steps), so
the README's "why latent?" side-by-side samples both models at the same wall-clock budget from their
raw weights (``model/eps``) instead:

    python docs/raw_weights.py runs/pix/checkpoints/last.safetensors pix_raw.safetensors
    genstudio sample pix_raw.safetensors --prompt "a smiling face with long red hair" --guidance 3 ...
"""

from __future__ import annotations

import sys

from safetensors import safe_open
from safetensors.torch import save_file


def main(src: str, dst: str) -> None:
    with safe_open(src, "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if not any(k.startswith("model/eps/") for k in tensors):
        raise SystemExit(f"{src} has no raw diffusion weights (model/eps): an exported file keeps only the EMA")
    for k in [k for k in tensors if k.startswith("ema/eps/")]:
        tensors[k] = tensors["model/eps/" + k[len("ema/eps/"):]].clone()
    save_file(tensors, dst, metadata=meta)
    print(f"wrote {dst}: the raw weights of {src} as its EMA")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python docs/raw_weights.py CHECKPOINT OUT.safetensors")
    main(sys.argv[1], sys.argv[2])
