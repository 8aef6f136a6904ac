"""Training a DDPM ε-network with the simplified objective of Ho et al. (2020), eq. 14.

Each step: t ~ U{0, …, T−1}, ε ~ N(0, I), x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, and the loss
‖ε − ε_θ(x_t, t)‖² (mean over dimensions and batch). An exponential moving average of the weights
(decay ``config.ema_decay``) is what previews and sampling use, as in the paper.

Metrics per step: ``loss`` and ``bands``, a vector of the mean loss in each of 10 timestep bands
(band k covers t ∈ [k·T/10, (k+1)·T/10)), NaN for a band no sample fell into; the run loop averages
them NaN-aware over the log interval.

Adam uses betas (0.9, 0.999) whatever ``config.beta1`` says (0.5 is the GAN default, harmful here);
the learning rate is ``config.lr`` as given. Gradients are clipped to norm 1 (Ho et al.).

``config.extra["min_snr"] = γ`` (``--min-snr``; 0 or absent: off) weights each sample's loss by
min(SNR(t), γ) / SNR(t), SNR(t) = ᾱ_t / (1 − ᾱ_t): the Min-SNR-γ weighting of Hang et al. (2023,
arXiv 2303.09556) for ε-prediction, which stops the many nearly noise-free timesteps from pulling
the gradient their way (the paper's γ = 5). The logged ``loss`` stays the unweighted one.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
from torch import nn

from genstudio.checkpoint import load_module, module_tensors
from genstudio.config import RunConfig
from genstudio.data import Dataset
from genstudio.devices import sample_noise
from genstudio.diffusion.samplers import ddim_sample
from genstudio.diffusion.schedule import NoiseSchedule, q_sample
from genstudio.models import build
from genstudio.trainer import Preview, Trainer, update_ema

ADAM_BETAS = (0.9, 0.999)
NUM_BANDS = 10
PREVIEW_STEPS = {"images": 20, "points": 50}  # DDIM steps (η = 0) of a preview: cheap, and good enough
PREVIEW_POINTS = 2000


WIDTH = {"mlp": 256, "unet": 32}  # hidden width (MLP) or base channels (U-Net) when config.width is 0


def _arch(config: RunConfig, points: bool) -> str:
    if config.arch == "auto":
        return "mlp" if points else "unet"
    return "mlp" if config.arch == "mlp_eps" else config.arch


def defining(config: RunConfig) -> list[tuple[str, Any]]:
    """What defines a diffusion run beyond kind, data and size, defaults resolved as :func:`diffusion_specs` does."""
    from genstudio.data import is_points

    arch = _arch(config, is_points(config.data))
    return [("architecture", arch), ("width", config.width or WIDTH.get(arch, 0)),
            ("timesteps T", config.timesteps), ("noise schedule", config.schedule)]


def diffusion_specs(config: RunConfig, data: Dataset) -> dict[str, dict[str, Any]]:
    """``{"eps": {"arch", "args"}}`` for what ``config`` asks on ``data``."""
    arch = _arch(config, data.kind == "points")
    if arch == "mlp":
        if data.kind != "points":
            raise ValueError("the MLP ε-network is for 2-D point data; use unet for images")
        return {"eps": {"arch": "mlp_eps", "args": {"dim": int(data.tensor.shape[1]),
                                                    "hidden": config.width or WIDTH["mlp"], "depth": 4, "t_dim": 64}}}
    if arch == "unet":
        if data.kind != "images":
            raise ValueError("the U-Net is for images; use the MLP for 2-D point data")
        mults = [1, 2, 2] if data.size <= 32 else [1, 2, 2, 2]
        return {"eps": {"arch": "unet", "args": {"channels": data.channels, "width": config.width or WIDTH["unet"],
                                                 "mults": mults, "attention": True}}}
    raise ValueError(f"unknown diffusion architecture {arch!r}: use auto, unet or mlp")


def band_losses(per_sample: torch.Tensor, t: torch.Tensor, num_steps: int, bands: int = NUM_BANDS,
                across_ranks: bool = False) -> torch.Tensor:
    """Mean of ``per_sample`` (B,) within each timestep band: (bands,), NaN where a band is empty.

    ``across_ranks``: over the global batch of a multi-process run (one small all-reduce), so the
    band means are those one process would log, not a mean of each rank's few samples per band.
    """
    band = (t * bands) // num_steps  # (B,) in 0 … bands−1
    sums = torch.zeros(bands, device=per_sample.device).index_add_(0, band, per_sample.float())
    counts = torch.bincount(band, minlength=bands).to(sums.dtype)  # (bands,)
    if across_ranks:
        from genstudio.runs.distributed import sum_across_ranks

        sums, counts = sum_across_ranks([sums, counts])
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.full_like(sums, float("nan")))


class DiffusionTrainer(Trainer):
    """One DDPM training step at a time, with an EMA copy of the ε-network for sampling."""

    kind = "diffusion"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        super().__init__(config, data, device, rank=rank, world_size=world_size)
        self.specs = self.network_specs(config, data)
        self.schedule = NoiseSchedule(config.timesteps, config.schedule).to(device)
        self.net = build(**self.specs["eps"]).to(device)
        self.channels_last = data.kind == "images"  # faster convolutions on CPU (oneDNN) and CUDA
        if self.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.net_run: nn.Module = self.net  # DDP-wrapped in multi-process runs
        self.ema = copy.deepcopy(self.net).eval().requires_grad_(False)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=config.lr, betas=ADAM_BETAS)
        shape = (2,) if data.kind == "points" else (data.channels, data.size, data.size)
        n_fixed = PREVIEW_POINTS if data.kind == "points" else config.n_preview
        self.fixed_noise = sample_noise(shape, n_fixed, seed=config.seed + 1).to(device)  # (N, ...) x_T

    def network_specs(self, config: RunConfig, data: Dataset) -> dict[str, dict[str, Any]]:
        """``{"eps": {"arch", "args"}}``: the ε-network to build (a conditional subclass builds its own)."""
        return diffusion_specs(config, data)

    # -- Trainer interface ---------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"eps": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"eps": self.opt}

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        return module_tensors("ema/eps", self.ema)

    def load_extra(self, tensors: dict[str, torch.Tensor]) -> None:
        if any(k.startswith("ema/eps/") for k in tensors):
            load_module(self.ema, "ema/eps", tensors)
        else:  # a checkpoint without EMA weights: start the average from the raw weights
            self.ema.load_state_dict(self.net.state_dict())

    def extra_meta(self) -> dict[str, Any]:
        return {"schedule": self.schedule.to_meta(), "ema_decay": self.config.ema_decay}

    def compile_modules(self) -> None:
        self.net_run = torch.compile(self.net_run)

    def wrap_distributed(self) -> None:
        from genstudio.runs.distributed import wrap

        self.net_run = wrap(self.net, self.device)

    def train_step(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.denoising_step(x0, self.net_run)

    def denoising_step(self, x0: torch.Tensor, predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                       ) -> dict[str, torch.Tensor]:
        """One step of the DDPM loss (Ho et al. eq. 14) with ``predict(x_t, t)`` as ε_θ (a conditional
        family passes its network with the batch's conditioning bound)."""
        b = x0.shape[0]
        if self.channels_last:
            x0 = x0.contiguous(memory_format=torch.channels_last)
        t = self.draw_int(b, self.schedule.num_steps)  # (B,), this rank's rows of the global draw
        noise = self.draw_normal(b, tuple(x0.shape[1:]))  # (B, ...)
        x_t = q_sample(x0, t, noise, self.schedule)  # (B, ...)
        with self.autocast():
            eps = predict(x_t, t)  # (B, ...)
        per_sample = (eps.float() - noise).pow(2).flatten(1).mean(1)  # (B,)
        loss = per_sample.mean()
        self.opt.zero_grad(set_to_none=True)
        (loss if not self.min_snr else (min_snr_weights(self.schedule, t, self.min_snr) * per_sample).mean()).backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.opt.step()
        self.update_ema()
        bands = band_losses(per_sample.detach(), t, self.schedule.num_steps, across_ranks=self.world_size > 1)
        return {"loss": loss.detach(), "bands": bands}

    @property
    def min_snr(self) -> float:
        """γ of Min-SNR-γ loss weighting, 0 when off."""
        return float(self.config.extra.get("min_snr", 0.0))

    def update_ema(self) -> None:
        """ema ← decay·ema + (1 − decay)·θ."""
        update_ema(self.ema, self.net, self.config.ema_decay)

    def preview(self) -> Preview:
        """A fixed-noise DDIM sample (η = 0, few steps) from the EMA weights."""
        kind = "points" if self.data.kind == "points" else "images"
        x = ddim_sample(self.ema, tuple(self.fixed_noise.shape), self.schedule,
                        steps=min(PREVIEW_STEPS[kind], self.schedule.num_steps), start_x=self.fixed_noise)
        return Preview(kind=kind, data=x.numpy())  # (N, C, H, W) or (N, 2), float32 on the CPU


def min_snr_weights(schedule: NoiseSchedule, t: torch.Tensor, gamma: float) -> torch.Tensor:
    """(B,) Min-SNR-γ weights of ε-prediction losses at timesteps ``t`` (Hang et al. 2023, eq. 9 divided
    by SNR(t), as the loss is on ε): min(SNR(t), γ) / SNR(t), 1 at the noisy end, small where SNR is large."""
    snr = schedule.log_snr[t].double().exp()  # (B,) ᾱ_t / (1 − ᾱ_t)
    return (snr.clamp(max=gamma) / snr).float()
