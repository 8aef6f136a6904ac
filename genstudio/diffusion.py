"""Denoising diffusion: noise schedules, the forward process and the DDPM / DDIM samplers (Qt-free).

Papers: Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models" (2020) — the linear β
schedule, q(x_t | x_0), the posterior q(x_{t-1} | x_t, x_0) and ancestral sampling (Alg. 2);
Nichol & Dhariwal, "Improved DDPM" (2021) — the cosine schedule; Song, Meng & Ermon, "Denoising
Diffusion Implicit Models" (2021) — the DDIM update with its η.

Conventions match Hugging Face ``diffusers`` (``DDPMScheduler`` / ``DDIMScheduler`` with
``clip_sample=False``), which the reference tests check to float32 precision: timesteps are 0-based
(t = 0 is the first noising step), the schedule has T = ``num_steps`` entries, DDIM uses "leading"
spacing t_i = i·(T // steps) and ᾱ = 1 before the first step.

Samplers take *any* callable ``eps_model(x_t, t) -> ε̂`` (t a LongTensor (N,)). Each exists twice:
``ddpm_steps`` / ``ddim_steps`` are generators yielding one :class:`SamplerStep` per step (a
progress and cancellation point for a GUI); ``ddpm_sample`` / ``ddim_sample`` drive them and can
record the whole :class:`Trajectory`.

Randomness: with ``seed=`` sample i's initial noise is ``devices.sample_noise`` stream (seed, i) and
its step noise z at step index j is a counter-based normal keyed by (seed, i, j) (splitmix64 hash +
Box–Muller, vectorised in numpy): sample i is the same drawn alone or in a batch, on any device, and
a run branched from step k with the same seed retraces the original. With ``generator=`` all noise
is drawn from that one torch generator in the order diffusers draws it (x_T first, then one
``randn(shape)`` per noisy step).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np
import torch
from torch import nn

from genstudio.devices import _mix, sample_noise

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SCHEDULE_KINDS = ("linear", "cosine")


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


class NoiseSchedule(nn.Module):
    """β_t and everything derived from it, as buffers (computed in float64, then cast to ``dtype``).

    Parameters
    ----------
    num_steps : int
        T, the number of diffusion steps; timesteps are 0 … T−1.
    kind : {"linear", "cosine"}
    beta_start, beta_end : float
        Endpoints of the linear schedule.
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
        if kind not in SCHEDULE_KINDS:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULE_KINDS)}, not {kind!r}")
        if not isinstance(num_steps, int) or num_steps < 2:
            raise ValueError(f"num_steps must be a whole number ≥ 2, not {num_steps!r}")
        self.num_steps, self.kind = num_steps, kind
        betas = (linear_betas(num_steps, beta_start, beta_end) if kind == "linear"
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
        """``{"kind", "num_steps"}``: what a checkpoint header stores."""
        return {"kind": self.kind, "num_steps": self.num_steps}

    @classmethod
    def from_meta(cls, meta: dict) -> "NoiseSchedule":
        return cls(int(meta["num_steps"]), str(meta["kind"]))

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


# ---------------------------------------------------------------------------- noise streams
_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # splitmix64 increment (golden ratio)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic; arrays never warn)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def counter_normal(keys: np.ndarray, counter: int, size: int) -> np.ndarray:
    """Standard normals (len(keys), size) float64: element d of row i hashes (keys[i], counter·size + d).

    A counter-based generator: any (key, counter) block is drawn directly, without drawing the ones
    before it. 32+32 hash bits feed Box–Muller (tails reach 6.7σ).
    """
    offs = (np.arange(size, dtype=np.uint64) + np.uint64(counter * size + 1)) * _GAMMA  # (size,)
    h = _splitmix64(keys.astype(np.uint64)[:, None] + offs[None, :])  # (n, size)
    # In place, and the cosine in torch (vectorised; numpy's float64 cos took half the time of a
    # DDPM step's noise, benchmarks/b5_sampling.py). Within 1 ulp of libm: float32 draws unchanged.
    u1 = (h >> np.uint64(32)).astype(np.float64)
    u1 += 0.5
    u1 *= 2.0**-32
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float64)
    u2 += 0.5
    u2 *= 2.0 * np.pi / 2.0**32
    r = np.log(u1)
    r *= -2.0
    np.sqrt(r, out=r)
    r *= torch.from_numpy(u2).cos_().numpy()
    return r


class NoiseSource:
    """The initial x_T and each step's z for a batch, from a seed (per sample) or one generator."""

    def __init__(self, shape: tuple[int, ...], device: torch.device, *, seed: int | None = None,
                 start: int = 0, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        if seed is not None and generator is not None:
            raise ValueError("give either seed (per-sample streams) or generator, not both")
        self.shape, self.device, self.seed, self.start, self.generator = shape, device, seed, start, generator
        self.dtype = dtype
        if seed is not None:  # one 63-bit key per sample for the step noise, distinct from x_T's seed
            self.keys = np.array([_mix(_mix(seed, start + i), 1) for i in range(shape[0])], dtype=np.uint64)

    def initial(self) -> torch.Tensor:
        """x_T ~ N(0, I): (N, ...) on the device."""
        if self.seed is not None:
            return sample_noise(self.shape[1:], self.shape[0], self.seed, self.start).to(self.device, self.dtype)
        return self._randn()

    def step(self, index: int) -> torch.Tensor:
        """z ~ N(0, I) for step ``index`` of the sampling schedule: (N, ...) on the device."""
        if self.seed is not None:
            z = counter_normal(self.keys, index, math.prod(self.shape[1:]))
            return torch.from_numpy(z.astype(np.float32)).reshape(self.shape).to(self.device, self.dtype)
        return self._randn()

    def _randn(self) -> torch.Tensor:
        if self.generator is None:
            return torch.randn(self.shape, device=self.device, dtype=self.dtype)
        return torch.randn(self.shape, generator=self.generator, device=self.generator.device,
                           dtype=self.dtype).to(self.device)


# ---------------------------------------------------------------------------- trajectories
class Frame(NamedTuple):
    """One recorded step as float32 arrays."""

    t: int
    x_t: np.ndarray  # (N, ...)
    eps: np.ndarray  # (N, ...)
    x0: np.ndarray  # (N, ...)


@dataclass
class Trajectory:
    """Every step a sampler visited: x_t, ε̂ and x̂_0, as CPU numpy arrays in sampling order.

    Stored as float16 by default (``record_dtype``): 16 images of 3×32×32 over 1,000 DDPM steps take
    3 arrays × 1000 × 16 × 3072 values × 2 bytes ≈ 295 MB (:meth:`estimate_nbytes`). float16 keeps
    about 3 significant digits — plenty to display, to plot and to branch from a step. Values are
    clamped to ±65504 (float16's range); only x̂_0 at the noisiest steps, blown up by 1/√ᾱ_t, gets
    near it. ``final`` is kept in float32.
    """

    timesteps: np.ndarray  # (K,) int64: the t of each recorded step, in sampling order
    x_t: np.ndarray  # (K, N, ...)
    eps: np.ndarray  # (K, N, ...)
    x0: np.ndarray  # (K, N, ...)
    final: np.ndarray  # (N, ...) float32: the samples
    info: dict = field(default_factory=dict)  # sampler, steps, eta, variance, seed, start_index, schedule

    def __len__(self) -> int:
        return int(self.timesteps.shape[0])

    def frame(self, k: int) -> Frame:
        """Recorded step ``k`` (0 = the first step sampled) as float32 arrays."""
        return Frame(int(self.timesteps[k]), self.x_t[k].astype(np.float32),
                     self.eps[k].astype(np.float32), self.x0[k].astype(np.float32))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.timesteps, self.x_t, self.eps, self.x0, self.final))

    @staticmethod
    def estimate_nbytes(steps: int, shape: tuple[int, ...], dtype: torch.dtype = torch.float16) -> int:
        """Bytes of the three (steps, *shape) arrays a recording of ``shape`` = (N, ...) needs."""
        return 3 * steps * math.prod(shape) * torch.empty((), dtype=dtype).element_size()

    def save_npz(self, path: str | os.PathLike) -> Path:
        """Write an uncompressed ``.npz`` (via a temporary file renamed into place)."""
        from genstudio.atomic import atomic_open

        path = Path(path)
        with atomic_open(path) as fh:
            np.savez(fh, timesteps=self.timesteps, x_t=self.x_t, eps=self.eps, x0=self.x0,
                     final=self.final, info=np.array(json.dumps(self.info)))
        return path

    @classmethod
    def load_npz(cls, path: str | os.PathLike) -> "Trajectory":
        with np.load(path, allow_pickle=False) as f:
            return cls(f["timesteps"], f["x_t"], f["eps"], f["x0"], f["final"], json.loads(str(f["info"])))

    @staticmethod
    def recorder(steps: int, shape: tuple[int, ...], dtype: torch.dtype = torch.float16) -> "_Recorder":
        return _Recorder(steps, shape, dtype)


class _Recorder:
    """Preallocated CPU buffers a sampler's steps are copied into."""

    def __init__(self, steps: int, shape: tuple[int, ...], dtype: torch.dtype):
        self.k = 0
        self.timesteps = np.zeros(steps, dtype=np.int64)
        self.arrays = [torch.empty((steps, *shape), dtype=dtype) for _ in range(3)]  # x_t, eps, x0
        self.limit = torch.finfo(dtype).max

    def add(self, t: int, *tensors: torch.Tensor) -> None:
        self.timesteps[self.k] = t
        for buf, x in zip(self.arrays, tensors):
            buf[self.k].copy_(x.clamp(-self.limit, self.limit))
        self.k += 1

    def finish(self, final: torch.Tensor, info: dict) -> Trajectory:
        x_t, eps, x0 = (a[:self.k].numpy() for a in self.arrays)
        return Trajectory(self.timesteps[:self.k], x_t, eps, x0, final.float().cpu().numpy(), info)


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


def ddim_timesteps(num_steps: int, steps: int) -> list[int]:
    """diffusers' "leading" spacing: t_i = i·(T // steps) for i = steps−1 … 0 (descending)."""
    if not 1 <= steps <= num_steps:
        raise ValueError(f"DDIM steps must lie in 1 … {num_steps} (the schedule's T), not {steps}")
    ratio = num_steps // steps
    return [i * ratio for i in range(steps - 1, -1, -1)]


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
    for index in range(start_index, len(timesteps)):
        t = timesteps[index]
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)  # (N,)
        eps = eps_model(x, tt).to(x.dtype)  # (N, ...)
        x0 = predict_x0(x, t, eps, schedule)
        if clip_x0:
            x0 = x0.clamp(-1, 1)
        mean, _ = posterior(x0, x, t, schedule)
        x_prev = mean + sigma2[t].sqrt() * noise.step(index) if t > 0 else mean
        yield SamplerStep(index, len(timesteps), t, x, eps, x0, x_prev)
        x = x_prev


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
    timesteps = ddim_timesteps(schedule.num_steps, steps)
    ratio = schedule.num_steps // steps
    noise = NoiseSource(tuple(shape), schedule.device, seed=seed, start=start, generator=generator,
                        dtype=schedule.betas.dtype)
    x = _start(shape, noise, start_x, start_index, len(timesteps))  # (N, ...)
    ac = schedule.alphas_cumprod_f64
    for index in range(start_index, len(timesteps)):
        t, t_prev = timesteps[index], timesteps[index] - ratio
        a_t, a_prev = float(ac[t]), float(ac[t_prev]) if t_prev >= 0 else 1.0
        sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)  # (N,)
        eps = eps_model(x, tt).to(x.dtype)  # (N, ...)
        x0 = predict_x0(x, t, eps, schedule)
        if clip_x0:
            x0 = x0.clamp(-1, 1)
        x_prev = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * eps
        if eta > 0:
            x_prev = x_prev + sigma * noise.step(index)
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
