"""B1 and B5 on a GPU: training and sampling throughput, and the share of the GPU's peak they reach.

For when a CUDA machine is at hand (runs on any device torch has; ``--device cpu`` for a dry run):

* B1: GenStudio's run loop (``train()``, as in ``b1_throughput.py``) vs the bare PyTorch loop of
  the same model, batch and optimiser, for the DCGAN and the DDPM U-Net at 32 px, in img/s;
* B5: DDPM (1,000 steps) and DDIM (50) sampling of 16 images with GenStudio's samplers vs the
  network alone, in images/s and the sampler's overhead.

"Share of peak": the model FLOPs of a step (``torch.utils.flop_counter``) per second, divided by
the best matmul FLOP/s this GPU reaches in float32 (TF32 allowed, measured here): what fraction of
the achievable arithmetic the training uses. Small 32 px models at batch 64 are launch-bound on a
large GPU, so expect small shares; ``--batch`` shows how the share grows.

Run: ``python benchmarks/gpu.py [--device cuda] [--batch 64] [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

import b1_throughput as b1
from _common import machine_note, verdict
from genstudio.data import load_dataset
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.sampling import SampleSpec
from genstudio.models.unet import UNet


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_peak(device: str, n: int = 8192, reps: int = 10) -> float:
    """Best float32 (TF32 allowed) matmul FLOP/s on ``device``."""
    n = n if device.startswith("cuda") else 1024
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    sync(device)
    best = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best


def step_flops(step) -> float:
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def timed_steps(step, n: int, device: str) -> float:
    sync(device)
    t0 = time.perf_counter()
    step(n)
    sync(device)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=50, help="training steps per timed round")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    dev = args.device
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    b1.BATCH = args.batch
    steps, rounds = (5, 2) if args.quick else (args.steps, 3)
    name = torch.cuda.get_device_name(dev) if dev.startswith("cuda") else "CPU"
    peak = matmul_peak(dev)
    print(f"GPU benchmarks on {dev} ({name}); float32 matmul peak measured {peak / 1e12:.1f} TFLOP/s")
    print(machine_note())
    data = load_dataset("shapes", size=32, seed=0).tensor
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("dcgan", "ddpm"):
            run = b1.GenStudioRun("gan" if kind == "dcgan" else "diffusion", f"{tmp}/{kind}", device=dev)
            bare = b1.bare_dcgan(data, dev) if kind == "dcgan" else b1.bare_ddpm(data, dev)

            def bare_steps(n: int) -> None:
                for _ in range(n):
                    bare()

            run.steps(3)
            bare_steps(3)
            flops = step_flops(bare)
            g = min(timed_steps(run.steps, steps, dev) for _ in range(rounds))
            b = min(timed_steps(bare_steps, steps, dev) for _ in range(rounds))
            run.close()
            ratio = b / g
            print(f"B1 {kind} 32 px, batch {args.batch}: GenStudio {args.batch * steps / g:,.0f} img/s, bare "
                  f"{args.batch * steps / b:,.0f} img/s, ratio {ratio:.3f}x (goal >= 0.97x: {verdict(ratio >= 0.97)}); "
                  f"{flops / 1e9:.1f} GFLOP a step = {100 * flops * steps / g / peak:.1f} % of peak")
    torch.manual_seed(0)
    net = UNet(channels=3, width=32, mults=(1, 2, 2), attention=True).to(dev).eval().requires_grad_(False)
    schedule = NoiseSchedule(1000).to(dev)
    shape = (16, 3, 32, 32)
    for sampler, spec, n_steps in (("DDPM 1000", SampleSpec(16, 0, "ddpm"), 1000),
                                   ("DDIM 50", SampleSpec(16, 0, "ddim", 50), 50)):
        n_steps = min(n_steps, 100) if args.quick else n_steps
        x = torch.randn(shape, device=dev)
        tt = torch.full((16,), 500, device=dev)
        with torch.inference_mode():
            net(x, tt)
            sync(dev)
            t0 = time.perf_counter()
            for _ in range(n_steps):
                net(x, tt)
            sync(dev)
            t_net = time.perf_counter() - t0
        gen = spec.definition.run_steps(net, shape, schedule, spec)
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(n_steps):
            out = next(gen).x_prev
        out.sum().item()
        t_gs = time.perf_counter() - t0
        gen.close()
        over = t_gs / t_net - 1
        full = 1000 if sampler.startswith("DDPM") else 50
        print(f"B5 {sampler} ({n_steps} steps timed), 16 images: GenStudio {t_gs:.2f} s "
              f"({16 * n_steps / (t_gs * full):.2f} img/s for the full chain), network alone {t_net:.2f} s: "
              f"{100 * over:+.1f} % over the network "
              f"(goal <= 5 %: {verdict(over <= 0.05)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
