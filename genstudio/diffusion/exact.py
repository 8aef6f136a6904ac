"""The exact denoiser of a Gaussian mixture: ε*(x_t, t) and E[x_0 | x_t] in closed form (Qt-free).

A network trained with the DDPM loss ‖ε − ε_θ(x_t, t)‖² learns, at best, the conditional mean
ε*(x_t, t) = E[ε | x_t] (the minimiser of a squared error is the conditional mean). For most data
nobody knows that function; for a mixture of Gaussians it has a closed form, so GenStudio can show
the *ideal* denoiser beside the learned one and sample with it as a perfect-model baseline.

Data p_0 = Σ_k π_k N(μ_k, s_k² I). The forward process x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε keeps it a mixture:

    p_t(x) = Σ_k π_k N(x; √ᾱ μ_k, v_k I),   v_k = ᾱ s_k² + 1 − ᾱ.

With r_k(x) the posterior probability of component k given x_t = x (a softmax over k of
log π_k − (D/2) log v_k − ‖x − √ᾱ μ_k‖² / (2 v_k)):

    E[ε   | x_t = x] = Σ_k r_k √(1−ᾱ) (x − √ᾱ μ_k) / v_k          (= −√(1−ᾱ) ∇ log p_t(x), Tweedie)
    E[x_0 | x_t = x] = Σ_k r_k (μ_k + √ᾱ s_k² (x − √ᾱ μ_k) / v_k)   (posterior-weighted component means)

and x = √ᾱ x̂₀* + √(1−ᾱ) ε*, as for any ε-prediction. ``ring8`` and ``grid25`` *are* such mixtures
(centres and std known). Any other point set is the mixture of its training points with std
``bandwidth`` (0: the empirical distribution itself): its exact denoiser can only return training
points — the memorisation a perfect network of the training loss would show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genstudio.data import Dataset
from genstudio.diffusion.schedule import NoiseSchedule, q_sample

__all__ = ["GaussianMixture", "mixture_of", "mixture_of_model", "posterior_weights", "exact_eps", "exact_x0",
           "ExactDenoiser", "eps_error_by_band", "log_density"]

#: Above this many components an empirical mixture is a random subset of the points (memory N·K).
MAX_COMPONENTS = 4096
#: exact_eps / exact_x0 work on rows of x in chunks of at most this many N·K·D elements (~32 MB each).
CHUNK_ELEMENTS = 2**22


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """Σ_k π_k N(μ_k, s_k² I): ``means`` (K, D), ``stds`` (K,), ``weights`` (K,) summing to 1."""

    means: torch.Tensor
    stds: torch.Tensor
    weights: torch.Tensor
    description: str = ""

    def __post_init__(self) -> None:
        k = self.means.shape[0]
        if self.means.ndim != 2 or k == 0 or self.stds.shape != (k,) or self.weights.shape != (k,):
            raise ValueError("a mixture needs means (K, D), stds (K,) and weights (K,) with K ≥ 1")
        if bool((self.stds < 0).any()) or bool((self.weights < 0).any()):
            raise ValueError("a mixture's stds and weights must not be negative")

    @classmethod
    def isotropic(cls, means: np.ndarray | torch.Tensor, std: float, description: str = "") -> "GaussianMixture":
        """Equal weights, one std for every component."""
        m = torch.as_tensor(np.asarray(means), dtype=torch.float64)
        k = m.shape[0]
        return cls(m, torch.full((k,), float(std), dtype=torch.float64),
                   torch.full((k,), 1.0 / k, dtype=torch.float64), description)

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws (n, D) float64: a component by weight, then its Gaussian."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        z = torch.randn(n, self.dim, dtype=torch.float64, generator=generator)
        return self.means[k] + self.stds[k, None] * z


def mixture_of(data: Dataset, bandwidth: float = 0.0, seed: int = 0, empirical: bool = False) -> GaussianMixture:
    """The mixture behind a 2-D data set: its true components for ``ring8`` / ``grid25`` (unless
    ``empirical``), else its training points as components of std ``bandwidth`` (at most
    :data:`MAX_COMPONENTS` of them)."""
    if data.kind != "points":
        raise ValueError(f"the exact denoiser is for 2-D point sets, not {data.name!r} (images)")
    if not empirical and data.centers is not None and "std" in data.info:
        return GaussianMixture.isotropic(data.centers, float(data.info["std"]),
                                         f"{data.name}: {len(data.centers)} Gaussians of std {data.info['std']:g}")
    points = data.tensor
    if len(points) > MAX_COMPONENTS:
        keep = torch.randperm(len(points), generator=torch.Generator().manual_seed(seed))[:MAX_COMPONENTS]
        points = points[keep]
    return GaussianMixture.isotropic(points, bandwidth,
                                     f"{data.name}: its {len(points)} training points, std {bandwidth:g}")


def mixture_of_model(model, points: int | None = None) -> GaussianMixture:
    """The mixture of the data set a 2-D diffusion checkpoint was trained on (from its header);
    ``points``: instead, the empirical distribution of that many of its training points (std 0)."""
    from genstudio.data import load_dataset

    config = model.meta.get("config", {})
    if not model.is_points:
        raise ValueError(f"the exact denoiser is for 2-D point models; {model.meta.get('data')!r} is images")
    data = load_dataset(str(model.meta.get("data", config.get("data"))),
                        num_points=points or int(config.get("num_points", 20000)), seed=int(model.meta.get("seed", 0)))
    return mixture_of(data, empirical=points is not None)


def _alpha_bar(schedule: NoiseSchedule, t: torch.Tensor | int, n: int) -> torch.Tensor:
    ac = torch.as_tensor(schedule.alphas_cumprod_f64)  # (T,) float64 on the CPU
    tt = torch.as_tensor(t, dtype=torch.long).cpu().reshape(-1)
    return (ac[tt] if tt.numel() > 1 else ac[tt].expand(n)).reshape(n, 1)  # (N, 1)


def _terms(x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule, mix: GaussianMixture
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(r (N, K), diff (N, K, D), v (N, K), ᾱ (N, 1)), all float64 on the CPU."""
    xs = x.detach().to("cpu", torch.float64)  # (N, D)
    ab = _alpha_bar(schedule, t, xs.shape[0])  # (N, 1)
    v = ab * mix.stds[None, :] ** 2 + (1 - ab)  # (N, K)
    diff = xs[:, None, :] - ab.sqrt()[:, :, None] * mix.means[None, :, :]  # (N, K, D)
    log_w = torch.log(mix.weights)[None, :]  # (1, K): −inf for a weightless component
    logits = log_w - 0.5 * mix.dim * torch.log(v) - (diff ** 2).sum(-1) / (2 * v)  # (N, K)
    return torch.softmax(logits, dim=1), diff, v, ab


def posterior_weights(x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule,
                      mix: GaussianMixture) -> torch.Tensor:
    """r_k(x_t): which component each x_t came from, (N, K) float64, rows summing to 1."""
    return _terms(x, t, schedule, mix)[0]


def _in_chunks(fn, x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule, mix: GaussianMixture
               ) -> torch.Tensor:
    """``fn(x, t, …)`` over row chunks of ``x``, so that N·K·D stays near :data:`CHUNK_ELEMENTS`
    (a 4,096-point empirical mixture at a 64 × 64 grid would otherwise hold ~270 MB at once)."""
    rows = max(1, CHUNK_ELEMENTS // (mix.means.shape[0] * mix.dim))
    if x.shape[0] <= rows:
        return fn(x, t, schedule, mix)
    tt = torch.as_tensor(t).reshape(-1)
    return torch.cat([fn(x[i:i + rows], tt[i:i + rows] if tt.numel() > 1 else t, schedule, mix)
                      for i in range(0, x.shape[0], rows)])


def exact_eps(x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule, mix: GaussianMixture
              ) -> torch.Tensor:
    """ε*(x_t, t) = E[ε | x_t] for data ``mix``: (N, D) in ``x``'s dtype and device."""
    return _in_chunks(_exact_eps, x, t, schedule, mix)


def _exact_eps(x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule, mix: GaussianMixture
               ) -> torch.Tensor:
    r, diff, v, ab = _terms(x, t, schedule, mix)
    eps = (r[:, :, None] * diff / v[:, :, None]).sum(1) * (1 - ab).sqrt()  # (N, D)
    return eps.to(x.device, x.dtype)


def exact_x0(x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule, mix: GaussianMixture
             ) -> torch.Tensor:
    """x̂₀* = E[x_0 | x_t] for data ``mix``: (N, D) in ``x``'s dtype and device."""
    return _in_chunks(_exact_x0, x, t, schedule, mix)


def _exact_x0(x: torch.Tensor, t: torch.Tensor | int, schedule: NoiseSchedule, mix: GaussianMixture
              ) -> torch.Tensor:
    r, diff, v, ab = _terms(x, t, schedule, mix)
    shrink = ab.sqrt() * mix.stds[None, :] ** 2 / v  # (N, K)
    x0 = (r[:, :, None] * (mix.means[None] + shrink[:, :, None] * diff)).sum(1)  # (N, D)
    return x0.to(x.device, x.dtype)


class ExactDenoiser:
    """The perfect model of a mixture, shaped like a :class:`~genstudio.diffusion.model.DiffusionModel`
    for :func:`genstudio.sampling.sampling_run` (``eps``, ``schedule``, ``sample_shape``): sampled
    with the same spec and seed as a learned model, it starts from the same x_T and draws the same
    noise, so the two endings compare step for step."""

    def __init__(self, mixture: GaussianMixture, schedule: NoiseSchedule):
        self.mixture = mixture
        self.schedule = schedule
        self.sample_shape = (mixture.dim,)
        self.name = f"exact denoiser of {mixture.description}" if mixture.description else "exact denoiser"

    def eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return exact_eps(x, t, self.schedule, self.mixture)

    def x0(self, x: torch.Tensor, t: torch.Tensor | int) -> torch.Tensor:
        return exact_x0(x, t, self.schedule, self.mixture)


@torch.inference_mode()
def eps_error_by_band(eps_model, schedule: NoiseSchedule, mix: GaussianMixture, *, n: int = 4096,
                      bands: int = 10, seed: int = 0) -> np.ndarray:
    """How far a learned ε̂ is from the ideal ε*, per timestep band: (bands,) of the mean over x_t of
    ‖ε̂(x_t, t) − ε*(x_t, t)‖² / D, with x_0 drawn from ``mix`` and t uniform within each band.

    It leaves out the part of the training loss no network can remove (the spread of ε around ε*),
    so a perfect network scores 0 in every band; where in time a trained one is worst shows at once.
    """
    g = torch.Generator().manual_seed(seed)
    T = schedule.num_steps
    out = np.zeros(bands)
    for b in range(bands):
        lo, hi = b * T // bands, max((b + 1) * T // bands, b * T // bands + 1)
        t = torch.randint(lo, hi, (n,), generator=g)  # (n,)
        x0 = mix.sample(n, g)  # (n, D)
        noise = torch.randn(x0.shape, dtype=torch.float64, generator=g)
        dev = schedule.device
        x_t = q_sample(x0.to(dev), t.to(dev), noise.to(dev), schedule).float().cpu()  # (n, D)
        learned = eps_model(x_t.to(dev), t.to(dev)).double().cpu()
        ideal = exact_eps(x_t.double(), t, schedule, mix)
        out[b] = float(((learned - ideal) ** 2).mean())
    return out


def log_density(x: torch.Tensor, t: int, schedule: NoiseSchedule, mix: GaussianMixture) -> torch.Tensor:
    """log p_t(x) (N,) float64: for checks (its gradient times −√(1−ᾱ) is ε*)."""
    ab = float(schedule.alphas_cumprod_f64[t])
    v = ab * mix.stds ** 2 + (1 - ab)  # (K,)
    diff = x.to(torch.float64)[:, None, :] - math.sqrt(ab) * mix.means[None]  # (N, K, D)
    comp = -0.5 * mix.dim * torch.log(2 * math.pi * v)[None] - (diff ** 2).sum(-1) / (2 * v[None])
    return torch.logsumexp(torch.log(mix.weights)[None] + comp, dim=1)
