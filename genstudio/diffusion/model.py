"""A trained diffusion model, ready to sample: what ``genstudio sample`` and the app's scrubber use.

Built from a checkpoint's EMA weights (``ema/eps/...``; the raw ``model/eps/...`` weights only if a
file has no EMA) and its noise schedule (header ``schedule``: kind and T). Sampling goes through
:mod:`genstudio.sampling` (any registered sampler: DDPM, DDIM, …), with per-sample seeded noise:
sample i is the same whether drawn alone or in a batch.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError, load_module
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.diffusion.trajectory import Trajectory
from genstudio.models import build
from genstudio.sampling import SampleSpec, sample


class DiffusionModel:
    """An ε-network and its schedule. ``sample(n, seed, ...)`` draws samples on the CPU."""

    kind = "diffusion"

    def __init__(self, net: nn.Module, schedule: NoiseSchedule, meta: dict[str, Any], device: torch.device):
        self.net = net.to(device).eval().requires_grad_(False)
        self.schedule = schedule.to(device)
        self.meta = meta
        self.device = device
        self.is_points: bool = meta.get("data_kind") == "points"
        if self.is_points:
            self.sample_shape: tuple[int, ...] = (int(getattr(net, "dim", 2)),)
        else:
            self.sample_shape = (int(meta["channels"]), int(meta["size"]), int(meta["size"]))

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                        name: str = "") -> "DiffusionModel":
        """From ``(tensors, meta)`` of a checkpoint (or a training :class:`~genstudio.runs.events.Snapshot`)."""
        label = name or "checkpoint"
        if meta.get("kind") != cls.kind:
            raise CheckpointError(f"{label} holds a {meta.get('kind')} model, not a diffusion model")
        spec = meta.get("models", {}).get("eps")
        if spec is None or "schedule" not in meta:
            raise CheckpointError(f"{label} has no ε-network or no noise schedule")
        try:
            net = build(spec["arch"], spec["args"])
            schedule = NoiseSchedule.from_meta(meta["schedule"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{label}: {exc}") from None
        prefix = "ema/eps" if any(k.startswith("ema/eps/") for k in tensors) else "model/eps"
        load_module(net, prefix, tensors, name)
        return cls(net, schedule, meta, device)

    @torch.inference_mode()
    def eps(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """ε̂(x_t, t) for x_t (B, ...) and t LongTensor (B,), on the model's device."""
        return self.net(x_t.to(self.device, torch.float32), t.to(self.device))

    def sample(self, n: int, seed: int, sampler: str = "ddpm", steps: int = 50, eta: float = 0.0,
               record: bool = False, start: int = 0, *, variance: str = "beta",
               progress: Callable[[int, int], None] | None = None,
               start_x: torch.Tensor | None = None, start_index: int = 0
               ) -> torch.Tensor | tuple[torch.Tensor, Trajectory]:
        """Samples ``start … start+n−1`` of ``seed``: (n, *sample_shape) float32 on the CPU.

        Parameters
        ----------
        sampler : a registered sampler's name (:mod:`genstudio.sampling`): "ddpm" (all T steps,
            σ² = ``variance``: "beta" or "beta_tilde"), "ddim", …
        steps, eta : the number of steps and η of a sampler that takes them (DDIM; DDPM ignores them).
        record : also return the :class:`~genstudio.diffusion.trajectory.Trajectory` (float16 arrays).
        progress : called as ``progress(done, total)`` after every step.
        start_x, start_index : continue from state ``start_x`` (n, *sample_shape) at schedule step
            ``start_index`` (e.g. a trajectory's ``x_t[k]`` and ``k``) to branch with a new seed.

        Images are not clipped: values lie roughly in [−1, 1].
        """
        spec = SampleSpec(n, seed, sampler, steps, eta, variance, record=record)
        result = sample(self, spec, progress=progress, start=start, start_x=start_x, start_index=start_index,
                        record_dtype=torch.float16)
        final = torch.from_numpy(result.final)
        return (final, result.trajectory) if record else final

    def describe(self) -> str:
        spec = self.meta["models"]["eps"]
        sched = self.meta["schedule"]
        return (f"diffusion ({spec['arch']}, {sched['kind']} schedule, T={sched['num_steps']}) on "
                f"{self.meta.get('data')}, step {self.meta.get('step')}")
