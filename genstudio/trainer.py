"""The ``Trainer`` base: what a model family must provide to be trained by the run loop.

A trainer owns its models, optimisers and random streams, and knows how to do one step and
draw one preview. Everything else (run directory, logging, checkpoints, resume, stop/pause,
divergence) lives once in :mod:`genstudio.runs.loop`, shared by GANs and diffusion models.
"""

from __future__ import annotations

import contextlib

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from genstudio.checkpoint import load_module, load_optimizer, module_tensors, optimizer_tensors
from genstudio.config import ConfigError, RunConfig
from genstudio.data import Dataset


@dataclass(frozen=True)
class Preview:
    """A snapshot for display: numpy only, safe to hand to another thread.

    kind "images": ``data`` (N, C, H, W) float in [-1, 1].
    kind "points": ``data`` (N, 2) float; ``extra`` may hold ``heatmap`` (H, W) and ``extent``.
    """

    kind: str
    data: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


class Trainer:
    """Base class. Subclasses set ``kind`` and ``specs`` and implement the four abstract methods."""

    kind = ""
    specs: dict[str, dict[str, Any]]  # role -> {"arch": name, "args": {...}}, written to checkpoints

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        self.config, self.data, self.device = config, data, device
        self.rank, self.world_size = rank, world_size
        if config.batch % world_size:
            raise ConfigError(f"batch {config.batch} is the global batch and must split evenly over "
                              f"{world_size} processes: use a multiple of {world_size}")
        self.step = 0
        # Separate, seeded streams: data order (CPU, so indices agree on every device) and noise.
        # The same on every rank: each draws the global batch and keeps its own rows (see local_rows),
        # so N processes do what one does and a checkpoint's RNG state suits any number of processes.
        self.data_gen = torch.Generator().manual_seed(config.seed * 1000 + 3)
        self.noise_gen = torch.Generator(device=device).manual_seed(config.seed * 1000 + 2)
        self.train_data = data.tensor.to(device)  # the whole data set lives on the device
        if device.type == "cuda" and data.kind == "images":
            self.train_data = self.train_data.contiguous(memory_format=torch.channels_last)

    # -- to implement ------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        """Models by role; their weights are saved as ``model/<role>/...``."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def autocast(self):
        """The context a training step's forward passes run in: bfloat16 autocast with
        ``extra["amp"] == "bf16"``, else nothing. Losses are computed in float32 either way."""
        if self.config.extra.get("amp", "off") == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def compile_modules(self) -> None:
        """``torch.compile`` the modules a step runs (``extra["compile"]``); subclasses say which."""

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimisation step; returns detached metric tensors (no ``.item()``: no GPU sync)."""
        raise NotImplementedError

    def preview(self) -> Preview:
        raise NotImplementedError

    # -- optional hooks ------------------------------------------------------------------------
    def slow_motion(self) -> Preview:
        """The preview after one single step (``RunControl.step_once``, the app's Step button): the
        plain preview, unless the family shows what the step did (GAN on points: the force on each
        generated point, :mod:`genstudio.gan.slow_motion`)."""
        return self.preview()

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        """More tensors to checkpoint (e.g. EMA weights); keys must not start with model/ or optim/."""
        return {}

    def load_extra(self, tensors: dict[str, torch.Tensor]) -> None:
        pass

    def extra_meta(self) -> dict[str, Any]:
        """More header metadata (e.g. the noise schedule)."""
        return {}

    def learning_rate(self, role: str, lr: float) -> float:
        """The learning rate of ``role``'s optimiser when the run's rate is ``lr`` (a family with
        its own rate per network, e.g. ``d_lr``, says so here)."""
        if role == "D" and "d_lr" in self.config.extra:
            return float(self.config.extra["d_lr"])
        return lr

    # -- shared machinery ------------------------------------------------------------------------
    def wrap_distributed(self) -> None:
        """Wrap the trained modules in DistributedDataParallel (multi-process runs only).

        Subclasses keep the plain modules for previews and checkpoints and run the wrapped ones in
        ``train_step``.
        """

    def local_rows(self, local_batch: int) -> slice:
        """This rank's rows of a global batch of ``local_batch × world_size`` rows."""
        return slice(self.rank * local_batch, (self.rank + 1) * local_batch)

    def draw_normal(self, local_batch: int, shape: tuple[int, ...]) -> torch.Tensor:
        """N(0, I) noise of shape (local_batch, *shape): this rank's rows of one global draw."""
        z = torch.randn((local_batch * self.world_size, *shape), device=self.device,
                        generator=self.noise_gen)  # (B_global, *shape)
        return z[self.local_rows(local_batch)]

    def draw_int(self, local_batch: int, high: int) -> torch.Tensor:
        """Integers uniform in [0, high) of shape (local_batch,): this rank's rows of one global draw."""
        t = torch.randint(high, (local_batch * self.world_size,), device=self.device,
                          generator=self.noise_gen)  # (B_global,)
        return t[self.local_rows(local_batch)]

    def next_batch(self) -> torch.Tensor:
        """This rank's share (B / world size rows) of a global batch drawn with replacement."""
        n = self.train_data.shape[0]
        idx = torch.randint(n, (self.config.batch,), generator=self.data_gen)  # (B,) on the CPU
        idx = idx[self.local_rows(self.config.batch // self.world_size)]  # (B / world size,)
        return self.train_data[idx.to(self.device)]

    def all_finite(self) -> bool:
        """True if every weight is finite; a diverged model is never written over a good one."""
        return all(bool(torch.isfinite(p).all()) for m in self.modules().values() for p in m.parameters())

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Everything needed to resume: ``(tensors, meta)``."""
        tensors: dict[str, torch.Tensor] = {}
        for role, module in self.modules().items():
            tensors.update(module_tensors(f"model/{role}", module))
        optim_meta = {}
        for role, opt in self.optimizers().items():
            t, desc = optimizer_tensors(f"optim/{role}", opt)
            tensors.update(t)
            optim_meta[role] = desc
        tensors["rng/data"] = self.data_gen.get_state()
        tensors["rng/noise"] = self.noise_gen.get_state()
        tensors.update(self.extra_tensors())
        meta = {"kind": self.kind, "models": self.specs, "config": self.config.to_dict(),
                "step": self.step, "seed": self.config.seed, "data": self.data.name,
                "data_kind": self.data.kind, "optim": optim_meta, **self.extra_meta()}
        if self.data.kind == "images":
            meta.update(size=self.data.size, channels=self.data.channels)
        return tensors, meta

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any], name: str = "") -> None:
        """Restore weights, optimiser state, RNG streams and the step count from a checkpoint."""
        for role, module in self.modules().items():
            load_module(module, f"model/{role}", tensors, name)
        for role, opt in self.optimizers().items():
            if role in meta.get("optim", {}):
                load_optimizer(opt, f"optim/{role}", tensors, meta["optim"][role])
        if "rng/data" in tensors:
            self.data_gen.set_state(tensors["rng/data"])
        if "rng/noise" in tensors:
            self.noise_gen.set_state(tensors["rng/noise"].cpu())
        self.load_extra(tensors)
        self.step = int(meta.get("step", 0))


@torch.no_grad()
def update_ema(ema: nn.Module, raw: nn.Module, decay: float) -> None:
    """ema ← decay·ema + (1 − decay)·θ for the parameters; buffers (batch-norm statistics) copied."""
    torch._foreach_lerp_(list(ema.parameters()), list(raw.parameters()), 1.0 - decay)
    for e, r in zip(ema.buffers(), raw.buffers()):
        e.copy_(r)
