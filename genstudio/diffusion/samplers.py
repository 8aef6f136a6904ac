"""The DDPM and DDIM samplers of denoising diffusion, as step generators (Qt-free).

Papers: Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models" (2020) — ancestral sampling
(Alg. 2); Song, Meng & Ermon, "Denoising Diffusion Implicit Models" (2021) — the DDIM update with
its η. The schedule and the forward process are :mod:`genstudio.diffusion.schedule`, the noise
streams :mod:`genstudio.diffusion.noise`, the recording :mod:`genstudio.diffusion.trajectory`; the
registry every caller samples through is :mod:`genstudio.sampling`.

Conventions match Hugging Face ``diffusers`` (``DDPMScheduler`` / ``DDIMScheduler`` with
``clip_sample=False``), which the reference tests check to float32 precision: timesteps are 0-based
(t = 0 is the first noising step), the schedule has T = ``num_steps`` entries, DDIM uses "leading"
spacing t_i = i·(T // steps) and ᾱ = 1 before the first step.

Samplers take *any* callable ``eps_model(x_t, t) -> ε̂`` (t a LongTensor (N,)). Each exists twice:
``ddpm_steps`` / ``ddim_steps`` are generators yielding one :class:`SamplerStep` per step (a
progress and cancellation point for a GUI); ``ddpm_sample`` / ``ddim_sample`` drive them and can
record the whole :class:`Trajectory`.

Randomness: see :mod:`genstudio.diffusion.noise` (per-sample seeded streams, or one generator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from genstudio.diffusion.noise import NoiseSource
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.diffusion.trajectory import Trajectory

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# ---------------------------------------------------------------------------- samplers
@dataclass(frozen=True)
class SamplerStep:
    """One step of a sampler: the state it started from, the predictions, and the next state.

    Tensors live on the sampling device; treat them as read-only.
    """

    index: int  # position in the sampler's schedule: 0 = the noisiest step
    total: int  # number of steps in the sampler's full schedule
    t: int  # timestep of x_t
    x_t: torch.Tensor  # (N, ...) the state at t
    eps: torch.Tensor  # (N, ...) ε̂(x_t, t)
    x0: torch.Tensor  # (N, ...) x̂_0 from x_t and ε̂
    x_prev: torch.Tensor  # (N, ...) the state at the next (smaller) timestep; the sample after the last


def ddpm_timesteps(num_steps: int) -> list[int]:
    """T−1, …, 0: every timestep, in sampling order."""
    return list(range(num_steps - 1, -1, -1))


def ddim_timesteps(num_steps: int, steps: int, offset: int = 0) -> list[int]:
    """diffusers' "leading" spacing: t_i = i·(T // steps) + ``offset`` for i = steps−1 … 0 (descending);
    ``offset`` is a diffusers scheduler's ``steps_offset`` (Stable Diffusion's: 1)."""
    if not 1 <= steps <= num_steps:
        raise ValueError(f"DDIM steps must lie in 1 … {num_steps} (the schedule's T), not {steps}")
    ratio = num_steps // steps
    return [min(i * ratio + offset, num_steps - 1) for i in range(steps - 1, -1, -1)]


def _start(shape, noise: NoiseSource, start_x: torch.Tensor | None, start_index: int, total: int
           ) -> torch.Tensor:
    if not 0 <= start_index < total:
        raise ValueError(f"start_index must lie in 0 … {total - 1}, not {start_index}")
    if start_x is None:
        if start_index:
            raise ValueError("starting from an intermediate step needs start_x (the state there)")
        return noise.initial()  # (N, ...)
    if tuple(start_x.shape) != tuple(shape):
        raise ValueError(f"start_x has shape {tuple(start_x.shape)}, expected {tuple(shape)}")
    return start_x.to(noise.device, noise.dtype)


@torch.inference_mode()
def ddpm_steps(eps_model: EpsModel, shape: tuple[int, ...], schedule: NoiseSchedule, *,
               variance: str = "beta", seed: int | None = None, start: int = 0,
               generator: torch.Generator | None = None, start_x: torch.Tensor | None = None,
               start_index: int = 0, clip_x0: bool = False) -> Iterator[SamplerStep]:
    """Ancestral sampling (Ho et al. Alg. 2) as a generator of :class:`SamplerStep`.

    For t = T−1 … 0: ε̂ = ε_θ(x_t, t), x̂_0 = :func:`predict_x0`, μ = posterior mean of (x̂_0, x_t)
    (identical to (x_t − β_t/√(1−ᾱ_t)·ε̂)/√α_t when x̂_0 is not clipped), x_{t−1} = μ + σ_t·z, no
    noise at t = 0; σ_t² = β_t (``variance="beta"``, diffusers "fixed_large") or β̃_t
    (``"beta_tilde"``, "fixed_small").

    Parameters
    ----------
    eps_model : callable (x_t (N, ...), t LongTensor (N,)) -> ε̂ (N, ...)
    shape : (N, ...) the batch shape.
    seed, start : per-sample noise streams for samples start … start+N−1 (see module docstring).
    generator : or one torch generator for all noise (diffusers' order). Neither: torch's global RNG.
    start_x, start_index : begin at schedule step ``start_index`` from state ``start_x`` (N, ...)
        instead of x_T drawn from the noise source.
    clip_x0 : clamp x̂_0 to [−1, 1] before the posterior mean (off by default, for exactness).
    """
    if variance not in ("beta", "beta_tilde"):
        raise ValueError(f"variance must be 'beta' or 'beta_tilde', not {variance!r}")
    timesteps = ddpm_timesteps(schedule.num_steps)
    noise = NoiseSource(tuple(shape), schedule.device, seed=seed, start=start, generator=generator,
                        dtype=schedule.betas.dtype)
    x = _start(shape, noise, start_x, start_index, len(timesteps))  # (N, ...)
    sigma2 = schedule.betas if variance == "beta" else schedule.posterior_variance  # (T,)
    # Per-step coefficients as Python numbers, read once (no device sync per step): each is the
    # schedule's value in its dtype, so the products are bit for bit predict_x0's and posterior's.
    c_x, c_eps, c_x0, c_xt = (_host(v) for v in (schedule.sqrt_recip_alphas_cumprod,
                                                 schedule.sqrt_recipm1_alphas_cumprod,
                                                 schedule.posterior_mean_coef1, schedule.posterior_mean_coef2))
    sigma = _host(sigma2.sqrt())
    for index in range(start_index, len(timesteps)):
        t = timesteps[index]
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)  # (N,)
        eps = eps_model(x, tt).to(x.dtype)  # (N, ...)
        # x̂_0 = x_t/√ᾱ_t − √(1/ᾱ_t − 1)·ε̂ (predict_x0); μ = coef1·x̂_0 + coef2·x_t (posterior);
        # x_{t−1} = μ + σ_t·z. The same products and sums as those functions, in place.
        x0 = _axpby(c_x[t], x, -c_eps[t], eps)  # (N, ...)
        if clip_x0:
            x0.clamp_(-1, 1)
        x_prev = _axpby(c_x0[t], x0, c_xt[t], x)  # μ
        if t > 0:
            x_prev.add_(noise.step(index).mul_(sigma[t]))
        yield SamplerStep(index, len(timesteps), t, x, eps, x0, x_prev)
        x = x_prev


def _host(values: torch.Tensor) -> list[float]:
    """A schedule buffer (T,) as Python floats: the exact values of its dtype, read once."""
    return values.detach().cpu().tolist()


def _axpby(a: float, x: torch.Tensor, b: float, y: torch.Tensor) -> torch.Tensor:
    """a·x + b·y as a new tensor, with one temporary: rounded as ``a * x + b * y`` is (no fused
    multiply-add, so the samples do not move by an ulp); b < 0 subtracts |b|·y, as ``a*x − |b|*y``."""
    out = x * a
    if b < 0:
        return out.sub_(y * -b)
    return out.add_(y * b)


@torch.inference_mode()
def ddim_steps(eps_model: EpsModel, shape: tuple[int, ...], schedule: NoiseSchedule, *,
               steps: int = 50, eta: float = 0.0, seed: int | None = None, start: int = 0,
               generator: torch.Generator | None = None, start_x: torch.Tensor | None = None,
               start_index: int = 0, clip_x0: bool = False) -> Iterator[SamplerStep]:
    """DDIM (Song et al. eq. 12) over :func:`ddim_timesteps`, as a generator of :class:`SamplerStep`.

    x_prev = √ᾱ_prev·x̂_0 + √(1 − ᾱ_prev − σ²)·ε̂ + σ·z, with
    σ = η·√((1−ᾱ_prev)/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)), t_prev = t − T//steps and ᾱ_prev = 1 when
    t_prev < 0. η = 0 is deterministic; η = 1 is DDPM-like. With η > 0, z is drawn at every step
    (as diffusers does). Other parameters as in :func:`ddpm_steps`.
    """
    if eta < 0:
        raise ValueError(f"eta must be ≥ 0, not {eta}")
    # a diffusers folder's scheduler may shift the grid (steps_offset) and end on ᾱ_0 instead of 1
    # (set_alpha_to_one=False): the loader sets these on the schedule; GenStudio's own models have neither
    timesteps = ddim_timesteps(schedule.num_steps, steps, getattr(schedule, "steps_offset", 0))
    final_ac = 1.0 if getattr(schedule, "final_alpha_one", True) else float(schedule.alphas_cumprod_f64[0])
    ratio = schedule.num_steps // steps
    noise = NoiseSource(tuple(shape), schedule.device, seed=seed, start=start, generator=generator,
                        dtype=schedule.betas.dtype)
    x = _start(shape, noise, start_x, start_index, len(timesteps))  # (N, ...)
    ac = schedule.alphas_cumprod_f64
    c_x, c_eps = _host(schedule.sqrt_recip_alphas_cumprod), _host(schedule.sqrt_recipm1_alphas_cumprod)
    for index in range(start_index, len(timesteps)):
        t, t_prev = timesteps[index], timesteps[index] - ratio
        a_t, a_prev = float(ac[t]), float(ac[t_prev]) if t_prev >= 0 else final_ac
        sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)  # (N,)
        eps = eps_model(x, tt).to(x.dtype)  # (N, ...)
        x0 = _axpby(c_x[t], x, -c_eps[t], eps)  # x̂_0, as predict_x0  (N, ...)
        if clip_x0:
            x0.clamp_(-1, 1)
        x_prev = _axpby(math.sqrt(a_prev), x0, math.sqrt(max(1 - a_prev - sigma**2, 0.0)), eps)
        if eta > 0:
            x_prev.add_(noise.step(index).mul_(sigma))
        yield SamplerStep(index, len(timesteps), t, x, eps, x0, x_prev)
        x = x_prev


def drive(steps: Iterator[SamplerStep], *, record: bool = False, record_dtype: torch.dtype = torch.float16,
          progress: Callable[[int, int], None] | None = None, info: dict | None = None
          ) -> torch.Tensor | tuple[torch.Tensor, Trajectory]:
    """Run a step generator to the end.

    Returns the final samples (N, ...) on the CPU (in the schedule's dtype), or ``(final,
    trajectory)`` with ``record=True`` (see :class:`Trajectory`). ``progress(done, total)`` is
    called after every step, ``total`` being the number of steps this run takes.
    """
    recorder, x, first = None, None, None
    for step in steps:
        if first is None:
            first = step.index
            if record:
                recorder = Trajectory.recorder(step.total - first, tuple(step.x_t.shape), record_dtype)
        if recorder is not None:
            recorder.add(step.t, step.x_t, step.eps, step.x0)
        x = step.x_prev
        if progress is not None:
            progress(step.index - first + 1, step.total - first)
    if x is None:
        raise ValueError("the sampler ran no steps")
    final = x.cpu()
    if recorder is None:
        return final
    return final, recorder.finish(final, info or {})


def ddpm_sample(eps_model: EpsModel, shape: tuple[int, ...], schedule: NoiseSchedule, *,
                variance: str = "beta", seed: int | None = None, start: int = 0,
                generator: torch.Generator | None = None, record: bool = False,
                start_x: torch.Tensor | None = None, start_index: int = 0, clip_x0: bool = False,
                progress: Callable[[int, int], None] | None = None,
                record_dtype: torch.dtype = torch.float16) -> torch.Tensor | tuple[torch.Tensor, Trajectory]:
    """Draw samples with :func:`ddpm_steps` (same parameters); see :func:`drive` for the result."""
    gen = ddpm_steps(eps_model, shape, schedule, variance=variance, seed=seed, start=start,
                     generator=generator, start_x=start_x, start_index=start_index, clip_x0=clip_x0)
    info = {"sampler": "ddpm", "variance": variance, "seed": seed, "start": start,
            "start_index": start_index, "schedule": schedule.to_meta()}
    return drive(gen, record=record, record_dtype=record_dtype, progress=progress, info=info)


def ddim_sample(eps_model: EpsModel, shape: tuple[int, ...], schedule: NoiseSchedule, *,
                steps: int = 50, eta: float = 0.0, seed: int | None = None, start: int = 0,
                generator: torch.Generator | None = None, record: bool = False,
                start_x: torch.Tensor | None = None, start_index: int = 0, clip_x0: bool = False,
                progress: Callable[[int, int], None] | None = None,
                record_dtype: torch.dtype = torch.float16) -> torch.Tensor | tuple[torch.Tensor, Trajectory]:
    """Draw samples with :func:`ddim_steps` (same parameters); see :func:`drive` for the result."""
    gen = ddim_steps(eps_model, shape, schedule, steps=steps, eta=eta, seed=seed, start=start,
                     generator=generator, start_x=start_x, start_index=start_index, clip_x0=clip_x0)
    info = {"sampler": "ddim", "steps": steps, "eta": eta, "seed": seed, "start": start,
            "start_index": start_index, "schedule": schedule.to_meta()}
    return drive(gen, record=record, record_dtype=record_dtype, progress=progress, info=info)
