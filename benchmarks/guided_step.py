"""A guided DDIM step costs no more than one forward pass of the network at twice the batch.

Classifier-free guidance (:mod:`genstudio.diffusion.guidance`) runs the conditional and the
unconditional prediction in one batched forward of 2N rows; the captions are encoded once per
sampling run, not per step. This benchmark times, interleaved round by round (load from other
processes hits both sides alike), on one torch thread, in CPU time of this thread:

* **guided step**: one DDIM step (η = 0) of the registered sampler through
  :func:`genstudio.sampling.sampling_run` with a prompt and s = 3, recording off, N images;
* **reference**: the text-conditioned U-Net's bare ``denoise`` on 2N rows (the same encoded
  captions), under ``inference_mode``.

The network is the digits text-to-image recipe's (16 px, width 32 — what ``t2i_digits`` trains at
width 16 is cheaper still), random weights, which cost the same as trained ones. Goal (issue 16):
guided step ≤ 1.1× the reference.

Run: ``python benchmarks/guided_step.py [--n 16] [--rounds 30]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from _common import interleave, machine_note, verdict
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.models.cond_unet import CondUNet
from genstudio.sampling import SampleSpec, sampling_run
from genstudio.text.tokenizer import Tokenizer
from genstudio.text2image.model import Text2ImageModel

GOAL = 1.1


def build(width: int) -> Text2ImageModel:
    torch.manual_seed(0)
    tok = Tokenizer.build([f"a handwritten {d}" for d in range(10)] + ["the digit seven", "seven"])
    args = {"channels": 1, "width": width, "mults": [1, 2, 2], "vocab_size": len(tok), "max_len": tok.max_len,
            "text_dim": 2 * width, "text_layers": 2, "heads": 4}
    meta = {"kind": "text2image", "data_kind": "images", "channels": 1, "size": 16, "data": "digits", "step": 0,
            "models": {"eps": {"arch": "cond_unet", "args": args}}, "text": tok.to_meta(),
            "schedule": {"kind": "linear", "num_steps": 1000}}
    return Text2ImageModel(CondUNet(**args), NoiseSchedule(1000), meta, torch.device("cpu"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=16, help="images per batch (the reference runs 2N rows)")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--rounds", type=int, default=30)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    model = build(args.width)
    n = args.n
    spec = SampleSpec(n, 0, "ddim", 50, prompt="a handwritten 7", guidance=3.0, record=False)
    ids = torch.cat([model.tokenizer.encode_batch(["a handwritten 7"] * n), model.tokenizer.null().expand(n, -1)])
    with torch.inference_mode():
        context = model.net.encode(ids)
    x2 = torch.randn(2 * n, *model.sample_shape)
    t2 = torch.full((2 * n,), 500, dtype=torch.long)

    def guided_step() -> float:
        run = sampling_run(model, spec)
        c0 = time.thread_time()
        next(run)  # one DDIM step: encode once, one 2N forward, the update
        c1 = time.thread_time()
        run.close()
        return c1 - c0

    def reference() -> float:
        with torch.inference_mode():
            c0 = time.thread_time()
            model.net.denoise(x2, t2, context)
            return time.thread_time() - c0

    guided_step(), reference()  # warm-up
    times = interleave({"guided DDIM step": guided_step, "one forward, 2N rows": reference}, args.rounds)
    g, r = statistics.median(times["guided DDIM step"]), statistics.median(times["one forward, 2N rows"])
    print(machine_note())
    print(f"text-conditioned U-Net width {args.width}, 16 px, N = {n} (reference: {2 * n} rows), "
          f"{args.rounds} rounds, CPU time of one thread, median")
    print(f"guided DDIM step (prompt, s = 3): {g * 1e3:8.2f} ms  (includes encoding the prompt)")
    print(f"one forward at 2N rows:          {r * 1e3:8.2f} ms")
    ratio = g / r
    print(f"ratio: {ratio:.3f}x  (goal <= {GOAL}x: {verdict(ratio <= GOAL)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
