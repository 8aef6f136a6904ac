"""B1 and B5 on a GPU: training and sampling throughput, and the share of the GPU's peak they reach.

For when a CUDA machine is at hand (runs on any device torch has; ``--device cpu`` for a dry run):

* B1: GenStudio's run loop (``train()``, as in ``b1_throughput.py``) vs the bare PyTorch loop of
  the same model, batch and optimiser, for the DCGAN and the DDPM U-Net at 32 px, in img/s;
* B5: DDPM (1,000 steps) and DDIM (50) sampling of 16 images with GenStudio's samplers vs the
  network alone, with recording off and on, and diffusers' scheduler on the same network; eager,
  then with the network compiled as ``--compile`` does it (CUDA graphs, ``"reduce-overhead"``, on CUDA).

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
from b5_sampling import StandIn
from genstudio.data import load_dataset
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.diffusion.compiled import CompiledEps
from genstudio.sampling import SampleSpec, SamplingResult, sampling_run
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


def run_chain(eps, schedule, spec: SampleSpec, n_steps: int, device: str, record: bool = False) -> float:
    """Wall seconds of ``n_steps`` steps of ``spec`` through ``sampling_run`` (the result too, when it
    runs them all), synchronised at both ends."""
    model = StandIn(eps, schedule, (3, 32, 32))
    sync(device)
    t0 = time.perf_counter()
    run = sampling_run(model, spec, record=record)
    for i, event in enumerate(run):
        if isinstance(event, SamplingResult) or i + 1 == n_steps and n_steps < spec.total_steps(1000):
            break
    run.close()
    sync(device)
    return time.perf_counter() - t0


def diffusers_chain(eps, sampler: str, n_steps: int, device: str) -> float | None:
    """Wall seconds of diffusers' scheduler stepping ``eps`` for ``n_steps`` (None without diffusers)."""
    try:
        import diffusers
    except ImportError:
        return None
    if sampler == "ddpm":
        sched = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False,
                                        variance_type="fixed_large")
        sched.set_timesteps(1000)
    else:
        sched = diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False)
        sched.set_timesteps(50)
    g = torch.Generator(device).manual_seed(0)
    with torch.inference_mode():
        sync(device)
        t0 = time.perf_counter()
        x = torch.randn(16, 3, 32, 32, generator=g, device=device)
        for t in [int(t) for t in sched.timesteps][:n_steps]:
            x = sched.step(eps(x, torch.full((16,), t, dtype=torch.long, device=device)), t, x, generator=g).prev_sample
        sync(device)
    return time.perf_counter() - t0


def b5_gpu(dev: str, quick: bool) -> None:
    """B5 on ``dev``, eager and compiled (CUDA graphs on CUDA): the network alone, GenStudio's sampler
    with recording off and on, and diffusers' scheduler on the same network (the eager one)."""
    torch.manual_seed(0)
    net = UNet(channels=3, width=32, mults=(1, 2, 2), attention=True).to(dev).eval().requires_grad_(False)
    schedule = NoiseSchedule(1000).to(dev)
    shape = (16, 3, 32, 32)
    compiled = CompiledEps(net, dev)  # what SampleSpec.compile / genstudio sample --compile use
    x, tt = torch.randn(shape, device=dev), torch.full((16,), 500, device=dev)
    with torch.inference_mode():
        sync(dev)
        t0 = time.perf_counter()
        compiled(x, tt)
        sync(dev)
    print(f"B5 compile ({compiled.mode}): {time.perf_counter() - t0:.1f} s wall"
          + (f" - FAILED, compiled rows are eager: {compiled.failed}" if compiled.failed else ""))
    for sampler, spec, n_steps in (("ddpm", SampleSpec(16, 0, "ddpm", record=False), 1000),
                                   ("ddim", SampleSpec(16, 0, "ddim", 50, record=False), 50)):
        n_steps = min(n_steps, 100) if quick else n_steps
        t_df = diffusers_chain(net, sampler, n_steps, dev)
        for label, eps in (("eager", net), ("compiled", compiled)):
            with torch.inference_mode():
                eps(x, tt)
                sync(dev)
                t0 = time.perf_counter()
                for _ in range(n_steps):
                    eps(x, tt)
                sync(dev)
                t_net = time.perf_counter() - t0
            t_gs = min(run_chain(eps, schedule, spec, n_steps, dev) for _ in range(2))
            t_rec = run_chain(eps, schedule, spec, n_steps, dev, record=True)
            over, over_rec = t_gs / t_net - 1, t_rec / t_net - 1
            vs = f"; {t_df / t_gs:.2f}x diffusers on the eager network" if t_df is not None else ""
            met = over <= 0.03 and over_rec <= 0.08 and (t_df is None or t_df / t_gs >= 1.1)
            print(f"B5 {sampler.upper()} {label} ({n_steps} steps timed), 16 images: GenStudio {t_gs:.3f} s, "
                  f"recording on {t_rec:.3f} s, network alone {t_net:.3f} s: {100 * over:+.1f} % "
                  f"({100 * over_rec:+.1f} % recording){vs}   goal <= 3 %, <= 8 % recording, >= 1.1x: {verdict(met)}")


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
    b5_gpu(dev, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
