"""B5: GenStudio's diffusion samplers cost nothing on top of the ε-network.

Samples 16 images of 32 px RGB with a DDPM U-Net (width 32, mults (1, 2, 2), attention: what a
32 px diffusion run trains; random weights, which cost the same as trained ones) twice, step by
step interleaved:

* GenStudio: the registered DDPM / DDIM samplers (:mod:`genstudio.sampling`) as the app and ``genstudio
  sample`` call them (``DiffusionModel.sample``: per-sample seeded noise, ``inference_mode``);
* the reference: the same network stepped by diffusers' ``DDPMScheduler`` (σ² = β, as GenStudio's
  default) / ``DDIMScheduler`` (η = 0), under ``inference_mode``, from the same x_T, step noise
  from a torch generator.

Samplers: DDPM over all 1,000 steps, and DDIM with 50. Each side's network calls are timed on
their own, so each sampler's overhead over the network's own time is measured in the same steps.
Times are this thread's CPU time (torch on one thread): on a machine shared with other work, wall
time measures the other work too. The samples are compared at the end (DDIM must agree; DDPM's
step noise differs, so only its statistics are shown).

The speed figure is (1 + diffusers' overhead) / (1 + GenStudio's overhead), overheads relative to
each side's own network time: the two sides run the same network on the same shapes, so the ±2 %
by which their network times still differ is noise, not the sampler (the raw ratio of the totals
is printed too).

Goals: GenStudio ≥ 1.0× diffusers' speed, and ≤ 5 % over the network's own time.

Run: ``python benchmarks/b5_sampling.py [--quick]`` (full: about 3 minutes on 2 shared cores;
``--quick``: 4 images and the first 200 of the 1,000 DDPM steps).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from _common import machine_note, verdict
from genstudio.devices import sample_noise
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.sampling import SampleSpec, get_sampler
from genstudio.models.unet import UNet

SPEED_GOAL, OVERHEAD_GOAL = 1.0, 0.05
T = 1000


class TimedNet:
    """The ε-network, counting the CPU time spent inside it."""

    def __init__(self, net: torch.nn.Module):
        self.net, self.cpu = net, 0.0

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        c0 = time.thread_time()
        out = self.net(x, t)
        self.cpu += time.thread_time() - c0
        return out


def make_net(width: int) -> torch.nn.Module:
    """An untrained 32 px RGB U-Net with every weight non-zero (zero-initialised layers randomised)."""
    torch.manual_seed(0)
    net = UNet(channels=3, width=width, mults=(1, 2, 2), attention=True)
    with torch.no_grad():
        for p in net.parameters():
            if not p.any():
                p.normal_(0, 0.02)
    return net.eval().requires_grad_(False)


def run_pair(net, sampler: str, n: int, steps: int, limit: int) -> dict:
    """Interleave GenStudio's and diffusers' steps; CPU seconds per side and inside their networks."""
    import diffusers

    shape = (n, 3, 32, 32)
    schedule = NoiseSchedule(T)
    gs_net, df_net = TimedNet(net), TimedNet(net)
    if sampler == "ddpm":
        gen = get_sampler("ddpm").run_steps(gs_net, shape, schedule, SampleSpec(n, 0, "ddpm"))  # as `genstudio sample`
        sched = diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule="linear", clip_sample=False,
                                        variance_type="fixed_large")
        sched.set_timesteps(T)
    else:
        gen = get_sampler("ddim").run_steps(gs_net, shape, schedule, SampleSpec(n, 0, "ddim", steps))
        sched = diffusers.DDIMScheduler(num_train_timesteps=T, beta_schedule="linear", clip_sample=False)
        sched.set_timesteps(steps)
    g = torch.Generator().manual_seed(0)
    timesteps = [int(t) for t in sched.timesteps][:limit]
    gs_cpu = df_cpu = 0.0
    x_gs = None
    with torch.inference_mode():
        c0 = time.thread_time()
        x_df = sample_noise(shape[1:], n, seed=0)  # x_T: the same as GenStudio's, so DDIM agrees
        df_cpu += time.thread_time() - c0
        for i, t in enumerate(timesteps):
            sides = ("gs", "df") if i % 2 == 0 else ("df", "gs")
            for side in sides:
                c0 = time.thread_time()
                if side == "gs":
                    x_gs = next(gen).x_prev
                else:
                    eps = df_net(x_df, torch.full((n,), t, dtype=torch.long))
                    x_df = sched.step(eps, t, x_df, generator=g).prev_sample
                dt = time.thread_time() - c0
                if side == "gs":
                    gs_cpu += dt
                else:
                    df_cpu += dt
    gen.close()
    return {"gs": gs_cpu, "df": df_cpu, "gs_net": gs_net.cpu, "df_net": df_net.cpu, "steps": len(timesteps),
            "x_gs": x_gs, "x_df": x_df}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="4 images, 200 DDPM steps")
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--width", type=int, default=32, help="U-Net base width")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    n = 4 if args.quick else args.images
    ddpm_limit = 200 if args.quick else T
    net = make_net(args.width)
    print(f"B5 diffusion sampling: {n} images 32 px RGB, U-Net width {args.width} (1, 2, 2) + attention, "
          f"GenStudio vs diffusers' schedulers on the same network, interleaved step by step")
    print(machine_note())
    ok = True
    for sampler, steps, limit in (("ddpm", T, ddpm_limit), ("ddim", 50, 50)):
        wall0 = time.perf_counter()
        r = run_pair(net, sampler, n, steps, limit)
        raw_speed = r["df"] / r["gs"]
        over_gs = r["gs"] / r["gs_net"] - 1
        over_df = r["df"] / r["df_net"] - 1
        # Both sides call the same network on the same shapes: what differs between their totals
        # beyond the samplers' own work is noise, so the speed compares net + each one's overhead.
        speed = (1 + over_df) / (1 + over_gs)
        met = speed >= SPEED_GOAL and over_gs <= OVERHEAD_GOAL
        ok &= met
        name = f"DDPM {T} steps" if sampler == "ddpm" else "DDIM 50 steps"
        if r["steps"] < steps:
            name += f" (first {r['steps']} of {steps} timed)"
        print(f"{name}: GenStudio {r['gs']:.2f} s, diffusers {r['df']:.2f} s of CPU "
              f"({1e3 * r['gs'] / r['steps']:.1f} vs {1e3 * r['df'] / r['steps']:.1f} ms a step; "
              f"{time.perf_counter() - wall0:.0f} s wall for both)")
        print(f"   speed vs diffusers {speed:.3f}x (raw totals {raw_speed:.3f}x); over the network's own "
              f"time: GenStudio "
              f"{100 * over_gs:+.1f} %, diffusers {100 * over_df:+.1f} %   goal >= {SPEED_GOAL}x and "
              f"<= {100 * OVERHEAD_GOAL:.0f} %: {verdict(met)}")
        if sampler == "ddim":
            diff = float((r["x_gs"] - r["x_df"]).abs().max())
            print(f"   check: GenStudio's and diffusers' DDIM samples differ by at most {diff:.1e}")
        else:
            print(f"   check (different noise streams): sample std GenStudio {float(r['x_gs'].std()):.3f}, "
                  f"diffusers {float(r['x_df'].std()):.3f}")
    print(machine_note().replace("machine:", "after:"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
