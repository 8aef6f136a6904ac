"""A trained diffusion model, ready to sample: what ``genstudio sample`` and the app's scrubber use.

Built from a checkpoint's EMA weights (``ema/eps/...``; the raw ``model/eps/...`` weights only if a
file has no EMA) and its noise schedule (header ``schedule``: kind and T). Sampling is DDPM
(Ho et al. 2020) or DDIM (Song et al. 2021) from :mod:`genstudio.diffusion`, with per-sample seeded
noise: sample i is the same whether drawn alone or in a batch.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError, load_module
from genstudio.diffusion import NoiseSchedule, Trajectory, ddim_sample, ddpm_sample
from genstudio.models import build


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
        """From ``(tensors, meta)`` of a checkpoint (or a training :class:`~genstudio.training.Snapshot`)."""
        label = name or "checkpoint"
        if meta.get("kind") != "diffusion":
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
        sampler : "ddpm" (all T steps, σ² = ``variance``: "beta" or "beta_tilde") or "ddim".
        steps, eta : DDIM's number of steps and η (ignored by DDPM).
        record : also return the :class:`~genstudio.diffusion.Trajectory` (float16 arrays).
        progress : called as ``progress(done, total)`` after every step.
        start_x, start_index : continue from state ``start_x`` (n, *sample_shape) at schedule step
            ``start_index`` (e.g. a trajectory's ``x_t[k]`` and ``k``) to branch with a new seed.

        Images are not clipped: values lie roughly in [−1, 1].
        """
        shape = (n, *self.sample_shape)
        common = dict(seed=seed, start=start, record=record, progress=progress, start_index=start_index,
                      start_x=None if start_x is None else start_x.to(self.device))
        if sampler == "ddpm":
            return ddpm_sample(self.net, shape, self.schedule, variance=variance, **common)
        if sampler == "ddim":
            return ddim_sample(self.net, shape, self.schedule, steps=steps, eta=eta, **common)
        raise ValueError(f"sampler must be 'ddpm' or 'ddim', not {sampler!r}")

    def describe(self) -> str:
        spec = self.meta["models"]["eps"]
        sched = self.meta["schedule"]
        return (f"diffusion ({spec['arch']}, {sched['kind']} schedule, T={sched['num_steps']}) on "
                f"{self.meta.get('data')}, step {self.meta.get('step')}")
