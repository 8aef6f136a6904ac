"""DDIM inversion: run the deterministic DDIM sampler backwards, from an image to its noise (Qt-free).

DDIM with η = 0 (Song et al. 2021, eq. 12) is an ODE discretisation, so it can be run the other
way: from a clean image x towards x_T, each step re-noising the current x̂₀ with the current ε̂,

    x̂₀ = (x − √(1−ᾱ_prev)·ε̂) / √ᾱ_prev,    x_t = √ᾱ_t·x̂₀ + √(1−ᾱ_t)·ε̂,    ε̂ = ε_θ(x, t),

over the same timestep grid as :func:`~genstudio.diffusion.samplers.ddim_timesteps`, ascending
(t_prev = t − T//steps; ᾱ_prev = 1 before the first step). ε̂ is read at the state one step *before*
t — the one approximation of the method (Dhariwal & Nichol 2021, appendix F; the same as diffusers'
``DDIMInverseScheduler``) — so sampling DDIM η = 0 from the result retraces the image up to that
error, which the reconstruction figure states. From the inverted x_t the image can be regenerated
with another η and seed (a variation that keeps what the deterministic part decided).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch

from genstudio.diffusion.samplers import ddim_timesteps

__all__ = ["Inversion", "ddim_invert", "inversion_steps"]


@dataclass(frozen=True)
class Inversion:
    """The states of an inverted batch along the DDIM grid.

    ``states[i]`` (N, ...) float32 is x at ``timesteps[i]``, in *sampling* order (``states[0]`` is
    x_T-ish, the noisiest): start DDIM at ``start_index=i`` from ``states[i]`` to regenerate.
    """

    timesteps: list[int]  # the DDIM grid, descending (as the sampler visits it)
    states: np.ndarray  # (steps, N, ...) float32
    steps: int

    @property
    def noise(self) -> np.ndarray:
        """The inverted x at the noisiest step (N, ...): where DDIM sampling starts."""
        return self.states[0]


def inversion_steps(eps_model: Callable, x: torch.Tensor, schedule: Any, steps: int
                    ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The inversion's steps from the image ``x`` (N, ...) upwards: ``(t, x_t, ε̂, x̂₀)`` per grid step,
    ascending t; x_t = √ᾱ_t·x̂₀ + √(1−ᾱ_t)·ε̂, so ε̂ and x̂₀ are the ones that made x_t."""
    grid = ddim_timesteps(schedule.num_steps, steps)  # descending
    ratio = schedule.num_steps // steps
    ac = schedule.alphas_cumprod_f64
    for t in reversed(grid):  # ascending
        a_t = float(ac[t])
        a_prev = float(ac[t - ratio]) if t - ratio >= 0 else 1.0
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        eps = eps_model(x, tt).to(x.dtype)
        x0 = (x - math.sqrt(1 - a_prev) * eps) / math.sqrt(a_prev)
        x = math.sqrt(a_t) * x0 + math.sqrt(1 - a_t) * eps
        yield t, x, eps, x0


def _batch(model: Any, images: np.ndarray | torch.Tensor) -> torch.Tensor:
    schedule = model.schedule
    x = torch.as_tensor(np.asarray(images, dtype=np.float32)).to(schedule.device, schedule.betas.dtype)
    if tuple(x.shape[1:]) != tuple(model.sample_shape):
        raise ValueError(f"images of shape {tuple(x.shape[1:])} do not fit this model's {tuple(model.sample_shape)}")
    return x


@torch.inference_mode()
def ddim_invert(model: Any, images: np.ndarray | torch.Tensor, steps: int = 50,
                progress: Callable[[int, int], None] | None = None) -> Inversion:
    """Invert ``images`` (N, ...) in [−1, 1] with ``model`` (``eps``, ``schedule``) over ``steps`` DDIM steps."""
    x = _batch(model, images)
    grid = ddim_timesteps(model.schedule.num_steps, steps)
    states: list[np.ndarray] = []
    for done, (_t, x_t, _eps, _x0) in enumerate(inversion_steps(model.eps, x, model.schedule, steps), start=1):
        states.append(x_t.float().cpu().numpy())
        if progress is not None:
            progress(done, len(grid))
    return Inversion(grid, np.stack(states[::-1]), steps)
