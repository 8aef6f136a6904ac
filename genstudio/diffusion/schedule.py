"""Noise schedules and the forward process of denoising diffusion (Qt-free).

Papers: Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models" (2020) — the linear β
schedule, q(x_t | x_0) and the posterior q(x_{t-1} | x_t, x_0); Nichol & Dhariwal, "Improved DDPM"
(2021) — the cosine schedule. Conventions match Hugging Face ``diffusers`` (``DDPMScheduler`` with
``clip_sample=False``), which the reference tests check to float32 precision: timesteps are 0-based
(t = 0 is the first noising step) and the schedule has T = ``num_steps`` entries.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genstudio.config import SCHEDULES


# ---------------------------------------------------------------------------- schedules
def linear_betas(num_steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """β_t linearly spaced from ``beta_start`` to ``beta_end`` (Ho et al. 2020), float64 (T,).

    Not rescaled for T ≠ 1000 (as diffusers' ``beta_schedule="linear"``): with a small T the last
    ᾱ stays far from 0, so x_T is not pure noise.
    """
    return torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)


def cosine_betas(num_steps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """β_t = 1 − ᾱ(t+1)/ᾱ(t) for ᾱ(u) = cos²((u/T + s)/(1 + s)·π/2), capped at ``max_beta``.

    Nichol & Dhariwal (2021), eq. 17; the same numbers as diffusers' ``"squaredcos_cap_v2"``.
    Returns float64 (T,).
    """
    def alpha_bar(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta)
             for i in range(num_steps)]
    return torch.tensor(betas, dtype=torch.float64)


def scaled_linear_betas(num_steps: int, beta_start: float = 0.00085, beta_end: float = 0.012) -> torch.Tensor:
    """β_t = (linspace(√β_start, √β_end, T))²: Stable Diffusion's schedule (latent diffusion, Rombach et
    al. 2022; diffusers' ``"scaled_linear"``), float64 (T,). Opened from diffusers folders, not trained here."""
    return torch.linspace(beta_start**0.5, beta_end**0.5, num_steps, dtype=torch.float64) ** 2


#: Schedules a model may arrive with: the ones GenStudio trains (config.SCHEDULES) and SD's.
KINDS = (*SCHEDULES, "scaled_linear")


class NoiseSchedule(nn.Module):
    """β_t and everything derived from it, as buffers (computed in float64, then cast to ``dtype``).

    Parameters
    ----------
    num_steps : int
        T, the number of diffusion steps; timesteps are 0 … T−1.
    kind : {"linear", "cosine", "scaled_linear"}
    beta_start, beta_end : float
        Endpoints of the linear schedule (of √β for "scaled_linear", a diffusers model's).
    cosine_s, max_beta : float
        Offset and β cap of the cosine schedule.
    dtype : torch.dtype
        Of the buffers, and of the samplers' state (float32; float64 for exactness checks).

    The buffers are not saved in a state dict: a checkpoint stores only ``{"kind", "num_steps"}``
    (:meth:`to_meta`) and :meth:`from_meta` rebuilds the rest. ``.to(device)`` moves them.
    """

    def __init__(self, num_steps: int = 1000, kind: str = "linear", *, beta_start: float = 1e-4,
                 beta_end: float = 0.02, cosine_s: float = 0.008, max_beta: float = 0.999,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {kind!r}")
        if not isinstance(num_steps, int) or num_steps < 2:
            raise ValueError(f"num_steps must be a whole number ≥ 2, not {num_steps!r}")
        self.num_steps, self.kind = num_steps, kind
        self.beta_range = (beta_start, beta_end)  # the linear schedule's endpoints
        betas = (linear_betas(num_steps, beta_start, beta_end) if kind == "linear"
                 else scaled_linear_betas(num_steps, beta_start, beta_end) if kind == "scaled_linear"
                 else cosine_betas(num_steps, cosine_s, max_beta))  # (T,) float64
        alphas = 1.0 - betas
        ac = torch.cumprod(alphas, 0)  # ᾱ_t
        ac_prev = torch.cat([ac.new_ones(1), ac[:-1]])  # ᾱ_{t-1}, with ᾱ_{-1} = 1
        post_var = betas * (1 - ac_prev) / (1 - ac)  # β̃_t (Ho et al. eq. 7); 0 at t = 0
        self.alphas_cumprod_f64 = ac.numpy().copy()  # for per-step scalars (DDIM)
        derived = {
            "betas": betas,
            "alphas": alphas,
            "alphas_cumprod": ac,
            "alphas_cumprod_prev": ac_prev,
            "sqrt_alphas_cumprod": ac.sqrt(),
            "sqrt_one_minus_alphas_cumprod": (1 - ac).sqrt(),
            "sqrt_recip_alphas_cumprod": ac.rsqrt(),
            "sqrt_recipm1_alphas_cumprod": (1 / ac - 1).sqrt(),
            "posterior_variance": post_var,
            "posterior_mean_coef1": betas * ac_prev.sqrt() / (1 - ac),
            "posterior_mean_coef2": (1 - ac_prev) * alphas.sqrt() / (1 - ac),
            "log_snr": torch.log(ac) - torch.log1p(-ac),  # log(ᾱ / (1 − ᾱ))
        }
        for name, value in derived.items():
            self.register_buffer(name, value.to(dtype), persistent=False)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, num_steps={self.num_steps}"

    @property
    def device(self) -> torch.device:
        return self.betas.device

    def to_meta(self) -> dict:
        """``{"kind", "num_steps"}``: what a checkpoint header stores (and a linear schedule's
        ``beta_start`` / ``beta_end`` when they are not Ho et al.'s 10⁻⁴ / 0.02, e.g. a diffusers model's)."""
        meta = {"kind": self.kind, "num_steps": self.num_steps}
        if self.kind == "scaled_linear" or (self.kind == "linear" and self.beta_range != (1e-4, 0.02)):
            meta.update(beta_start=self.beta_range[0], beta_end=self.beta_range[1])
        return meta

    @classmethod
    def from_meta(cls, meta: dict) -> "NoiseSchedule":
        return cls(int(meta["num_steps"]), str(meta["kind"]), beta_start=float(meta.get("beta_start", 1e-4)),
                   beta_end=float(meta.get("beta_end", 0.02)))

    # thin method forms of the module-level functions
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor | int, noise: torch.Tensor) -> torch.Tensor:
        return q_sample(x0, t, noise, self)

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor | int, eps: torch.Tensor) -> torch.Tensor:
        return predict_x0(x_t, t, eps, self)

    def posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        return posterior(x0, x_t, t, self)


# ---------------------------------------------------------------------------- forward process
def _at(values: torch.Tensor, t: torch.Tensor | int, ndim: int) -> torch.Tensor:
    """``values[t]`` shaped to broadcast against a (B, ...) tensor with ``ndim`` dims."""
    if isinstance(t, int):
        return values[t]
    return values[t.to(values.device).long()].reshape(-1, *([1] * (ndim - 1)))  # (B, 1, ...)


def q_sample(x0: torch.Tensor, t: torch.Tensor | int, noise: torch.Tensor,
             schedule: NoiseSchedule) -> torch.Tensor:
    """x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, a draw from q(x_t | x_0) (Ho et al. eq. 4).

    ``x0``, ``noise``: (B, ...); ``t``: LongTensor (B,) or an int for all. Returns (B, ...).
    """
    return (_at(schedule.sqrt_alphas_cumprod, t, x0.ndim) * x0
            + _at(schedule.sqrt_one_minus_alphas_cumprod, t, x0.ndim) * noise)


def predict_x0(x_t: torch.Tensor, t: torch.Tensor | int, eps: torch.Tensor,
               schedule: NoiseSchedule) -> torch.Tensor:
    """x̂_0 = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t, the inverse of :func:`q_sample` given ε̂ (Ho et al. eq. 15)."""
    return (_at(schedule.sqrt_recip_alphas_cumprod, t, x_t.ndim) * x_t
            - _at(schedule.sqrt_recipm1_alphas_cumprod, t, x_t.ndim) * eps)


def posterior(x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | int,
              schedule: NoiseSchedule) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of q(x_{t−1} | x_t, x_0) (Ho et al. eqs. 6–7).

    mean = β_t√ᾱ_{t−1}/(1−ᾱ_t)·x_0 + (1−ᾱ_{t−1})√α_t/(1−ᾱ_t)·x_t   (B, ...)
    variance = β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t), 0 at t = 0            (B, 1, ...) or a scalar
    """
    mean = (_at(schedule.posterior_mean_coef1, t, x_t.ndim) * x0
            + _at(schedule.posterior_mean_coef2, t, x_t.ndim) * x_t)
    return mean, _at(schedule.posterior_variance, t, x_t.ndim)
