"""B1: GenStudio's headless training loop costs nothing on top of the model's own arithmetic.

For a DCGAN (32 px RGB, nz 100, ngf = ndf = 64, batch 64, two Adams with betas (0.5, 0.999)) and a
DDPM U-Net (32 px RGB, width 32, mults (1, 2, 2), attention, batch 64, Adam, gradient clipping to
norm 1, EMA) on the ``shapes`` data set, it times

* GenStudio: the run loop :func:`genstudio.runs.loop.train` (the generator the CLI and the app
  drive: metric accumulation, a ``metrics.jsonl`` line every 10 steps, events), with previews and
  checkpoints out of the way (their cost is printed on its own line, per 100 steps);
* the reference: a bare PyTorch loop written below, on the same model classes, data tensor,
  batch and optimiser settings, with nothing else in it.

Both run in this process on the same number of torch threads, in interleaved rounds (the order
alternating), so that load from other work on the machine hits both alike. The figure is the
median over rounds of (GenStudio img/s) / (bare img/s), counting this thread's CPU time (with one
torch thread all the arithmetic runs on it, and CPU time does not grow when other processes take
the core away; the wall-clock ratio is printed too). Goal: ≥ 0.97×.

Run: ``python benchmarks/b1_throughput.py [--quick] [--threads N] [--models dcgan ddpm]``
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

from _common import interleave, machine_note, median_ratio, verdict
from genstudio.config import RunConfig
from genstudio.data import load_dataset
from genstudio.models.dcgan import DCGANDiscriminator, DCGANGenerator
from genstudio.models.unet import UNet
from genstudio.runs.events import Progress, Tick
from genstudio.runs.loop import train

GOAL = 0.97
BATCH = 64
NEVER = 10**7  # preview / checkpoint cadence that never comes during the measurement


# ---------------------------------------------------------------------------- the bare loops
def bare_dcgan(data: torch.Tensor, device: str = "cpu"):
    """One DCGAN step per call, as the PyTorch DCGAN example writes it (no logging)."""
    torch.manual_seed(0)
    G = DCGANGenerator(nz=100, ngf=64, nc=3, size=32).to(device)
    D = DCGANDiscriminator(ndf=64, nc=3, size=32).to(device)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(BATCH, device=device), torch.zeros(BATCH, device=device)
    data = data.to(device)

    def step() -> None:
        real = data[torch.randint(data.shape[0], (BATCH,), device=device)]  # (B, 3, 32, 32)
        fake = G(torch.randn(BATCH, 100, device=device))  # (B, 3, 32, 32)
        opt_D.zero_grad(set_to_none=True)
        loss_D = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        loss_D.backward()
        opt_D.step()
        opt_G.zero_grad(set_to_none=True)
        loss_G = F.binary_cross_entropy_with_logits(D(fake), ones)
        loss_G.backward()
        opt_G.step()

    return step


def bare_ddpm(data: torch.Tensor, device: str = "cpu"):
    """One DDPM step per call (Ho et al. eq. 14, clipping, EMA), channels-last as GenStudio's."""
    torch.manual_seed(0)
    net = UNet(channels=3, width=32, mults=(1, 2, 2), attention=True).to(device, memory_format=torch.channels_last)
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.9, 0.999))
    ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
    sqrt_ac, sqrt_1m = ac.sqrt().float().to(device), (1 - ac).sqrt().float().to(device)  # (T,)
    params, ema_params = list(net.parameters()), list(ema.parameters())
    data = data.to(device)

    def step() -> None:
        x0 = data[torch.randint(data.shape[0], (BATCH,), device=device)].contiguous(
            memory_format=torch.channels_last)
        t = torch.randint(1000, (BATCH,), device=device)  # (B,)
        noise = torch.randn(x0.shape, device=device)  # (B, 3, 32, 32)
        x_t = sqrt_ac[t].view(-1, 1, 1, 1) * x0 + sqrt_1m[t].view(-1, 1, 1, 1) * noise
        loss = F.mse_loss(net(x_t, t), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, params, 1 - 0.995)

    return step


# ---------------------------------------------------------------------------- GenStudio's loop
class GenStudioRun:
    """GenStudio's ``train()`` generator, advanced a given number of steps at a time."""

    def __init__(self, kind: str, run_dir: str, device: str = "cpu"):
        lr = 2e-4
        betas = (0.5, 0.999) if kind == "gan" else (0.9, 0.999)
        self.config = RunConfig(kind=kind, data="shapes", size=32, batch=BATCH, lr=lr, beta1=betas[0],
                                beta2=betas[1], steps=NEVER, preview_every=NEVER,
                                checkpoint_every=NEVER, seed=0, device=device).validate()
        self.events = train(self.config, run_dir)
        self.trainer = None

    def steps(self, n: int) -> None:
        done = 0
        while done < n:
            event = next(self.events)
            if isinstance(event, (Tick, Progress)):
                done += 1

    def close(self) -> None:
        self.events.close()


def timed(fn, n: int):
    """A chunk of ``n`` steps returning (wall seconds, this thread's CPU seconds)."""
    def run() -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.thread_time()
        fn(n)
        return time.perf_counter() - t0, time.thread_time() - c0
    return run


def measure(kind: str, rounds: int, steps: int, data: torch.Tensor, tmp: str) -> tuple[float, dict]:
    """Median ratio GenStudio/bare img/s, and the per-side seconds per round."""
    run = GenStudioRun("gan" if kind == "dcgan" else "diffusion", f"{tmp}/{kind}")
    bare = bare_dcgan(data) if kind == "dcgan" else bare_ddpm(data)

    def bare_steps(n: int) -> None:
        for _ in range(n):
            bare()

    run.steps(2)  # builds the trainer (loads the data set) and warms up
    bare_steps(2)
    secs = interleave({"GenStudio": timed(run.steps, steps), "bare": timed(bare_steps, steps)}, rounds)
    # what the measurement left out: a preview and a checkpoint, at the app's default cadence
    trainer = _trainer_of(run)
    c0 = time.thread_time()
    trainer.preview()
    preview_s = time.thread_time() - c0
    run.close()
    wall = {k: [w for w, _ in v] for k, v in secs.items()}
    cpu = {k: [c for _, c in v] for k, v in secs.items()}
    ratio = median_ratio(cpu["bare"], cpu["GenStudio"])  # img per CPU-second: inverse time ratio
    return ratio, {"wall": wall, "cpu": cpu, "preview_s": preview_s,
                   "wall_ratio": median_ratio(wall["bare"], wall["GenStudio"])}


def _trainer_of(run: GenStudioRun):
    """The trainer inside the suspended ``train()`` generator (for the preview timing only)."""
    return run.events.gi_frame.f_locals["trainer"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 rounds of 3 steps (a smoke run; noisy)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--steps", type=int, default=0, help="steps per round (default 8 DCGAN, 4 DDPM)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for both sides (1: fastest "
                   "on a shared 2-core machine)")
    p.add_argument("--models", nargs="+", default=["dcgan", "ddpm"], choices=["dcgan", "ddpm"])
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else args.rounds
    data = load_dataset("shapes", size=32, seed=0).tensor  # (N, 3, 32, 32) in memory, as the trainer's
    print(f"B1 training throughput, headless: GenStudio's run loop vs a bare PyTorch loop "
          f"(shapes 32 px RGB, batch {BATCH}; {rounds} interleaved rounds)")
    print(machine_note())
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models:
            steps = 3 if args.quick else (args.steps or (8 if kind == "dcgan" else 4))
            ratio, info = measure(kind, rounds, steps, data, tmp)
            g, b = info["cpu"]["GenStudio"], info["cpu"]["bare"]
            ips = lambda s: BATCH * steps / min(s)  # noqa: E731 (best round: least disturbed)
            name = "DCGAN 32 px" if kind == "dcgan" else "DDPM U-Net 32 px"
            met = ratio >= GOAL
            ok &= met
            print(f"{name}: GenStudio {ips(g):.1f} img/s, bare {ips(b):.1f} img/s per CPU-second (best "
                  f"rounds of {steps} steps: {1e3 * min(g) / steps:.0f} vs {1e3 * min(b) / steps:.0f} ms a step)")
            print(f"   ratio (median over rounds, CPU time) {ratio:.3f}x  [rounds "
                  f"{', '.join(f'{bb / gg:.3f}' for gg, bb in zip(g, b))}]  wall-clock ratio "
                  f"{info['wall_ratio']:.3f}x   goal >= {GOAL}x: {verdict(met)}")
            per100 = info["preview_s"] / (100 * min(g) / steps)
            print(f"   not in the figure: one preview takes {1e3 * info['preview_s']:.0f} ms of CPU "
                  f"({100 * per100:.1f} % of 100 steps, the default preview cadence)")
    print(machine_note().replace("machine:", "after:"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
