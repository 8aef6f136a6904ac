"""Our schedules and samplers against Hugging Face ``diffusers`` (a test-only dependency).

diffusers computes its schedule in float32 (e.g. β_t = 1 − ᾱ_t/ᾱ_{t−1}, which keeps only ~3 digits at
small t); ours is computed in float64 and then cast. So the sampler *formulas* are compared exactly
by running both in float64 (diffusers' tensors replaced by float64 ones of the same schedule), and
the float32 code paths as shipped are compared on the schedule tensors, on ``add_noise`` and on
whole trajectories, where the two agree to float32 precision.
"""

from __future__ import annotations

import pytest
import torch

from test_diffusion_math import gaussian_eps, toy_eps

from genstudio.diffusion.samplers import ddim_sample, ddim_steps, ddpm_sample, ddpm_steps
from genstudio.diffusion.schedule import NoiseSchedule, q_sample

diffusers = pytest.importorskip("diffusers")

F64 = torch.float64
KINDS = [("linear", "linear"), ("cosine", "squaredcos_cap_v2")]
VARIANCES = [("beta", "fixed_large"), ("beta_tilde", "fixed_small")]


def ddpm_ref(dkind: str, variance_type: str = "fixed_large", T: int = 1000):
    return diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule=dkind, clip_sample=False,
                                   variance_type=variance_type)


def ddim_ref(dkind: str, steps: int, T: int = 1000):
    sched = diffusers.DDIMScheduler(num_train_timesteps=T, beta_schedule=dkind, clip_sample=False)
    sched.set_timesteps(steps)
    return sched


def in_float64(ref, ours: NoiseSchedule):
    """Give a diffusers scheduler the float64 tensors of the same schedule."""
    ref.betas = ours.betas.clone()
    ref.alphas = 1.0 - ref.betas
    ref.alphas_cumprod = torch.cumprod(ref.alphas, 0)
    if hasattr(ref, "final_alpha_cumprod"):
        ref.final_alpha_cumprod = torch.tensor(1.0, dtype=F64)
    return ref


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> None:
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------- schedules, q(x_t | x_0)
@pytest.mark.parametrize("kind,dkind", KINDS)
@pytest.mark.parametrize("T", [1000, 250])
def test_schedule_matches_diffusers(kind, dkind, T):
    ours, ref = NoiseSchedule(T, kind), ddpm_ref(dkind, T=T)
    for name in ("betas", "alphas", "alphas_cumprod"):
        torch.testing.assert_close(getattr(ours, name), getattr(ref, name), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind,dkind", KINDS)
def test_q_sample_matches_add_noise(kind, dkind):
    ours, ref = NoiseSchedule(1000, kind), ddpm_ref(dkind)
    x0, noise = torch.randn(6, 3, 8, 8), torch.randn(6, 3, 8, 8)
    t = torch.tensor([0, 1, 10, 500, 998, 999])
    close(q_sample(x0, t, noise, ours), ref.add_noise(x0, noise, t))


@pytest.mark.parametrize("kind,dkind", KINDS)
def test_posterior_variance_matches_fixed_small(kind, dkind):
    ours = NoiseSchedule(1000, kind, dtype=F64)
    ref = in_float64(ddpm_ref(dkind, "fixed_small"), ours)
    expected = torch.stack([ref._get_variance(t) for t in range(1, 1000)])
    close(ours.posterior_variance[1:], expected, 1e-10)


# ---------------------------------------------------------------------------- single steps
@pytest.mark.parametrize("kind,dkind", KINDS)
@pytest.mark.parametrize("variance,variance_type", VARIANCES)
def test_ddpm_step_matches_diffusers(kind, dkind, variance, variance_type):
    ours = NoiseSchedule(1000, kind, dtype=F64)
    ref = in_float64(ddpm_ref(dkind, variance_type), ours)
    x = torch.randn(4, 3, 8, 8, dtype=F64)
    for t in (999, 998, 700, 1, 0):
        eps = toy_eps(x, torch.full((4,), t))
        out = ref.step(eps, t, x, generator=torch.Generator().manual_seed(t))  # draws randn(shape) if t > 0
        step = next(ddpm_steps(toy_eps, x.shape, ours, variance=variance, start_x=x, start_index=999 - t,
                               generator=torch.Generator().manual_seed(t)))
        assert step.t == t
        close(step.x0, out.pred_original_sample)
        close(step.x_prev, out.prev_sample)


@pytest.mark.parametrize("kind,dkind", KINDS)
@pytest.mark.parametrize("eta", [0.0, 0.6])
def test_ddim_step_matches_diffusers(kind, dkind, eta):
    ours = NoiseSchedule(1000, kind, dtype=F64)
    ref = in_float64(ddim_ref(dkind, 20), ours)
    x = torch.randn(4, 3, 8, 8, dtype=F64)
    for index, t in enumerate(ref.timesteps.tolist()):
        z = torch.randn(x.shape, generator=torch.Generator().manual_seed(index), dtype=F64)
        out = ref.step(toy_eps(x, torch.full((4,), t)), t, x, eta=eta, variance_noise=z if eta else None)
        step = next(ddim_steps(toy_eps, x.shape, ours, steps=20, eta=eta, start_x=x, start_index=index,
                               generator=torch.Generator().manual_seed(index)))
        assert step.t == t
        close(step.x0, out.pred_original_sample)
        close(step.x_prev, out.prev_sample)


# ---------------------------------------------------------------------------- whole trajectories
def run_ref(ref, eps_model, shape, generator, dtype, eta=None):
    """diffusers' pipeline loop: x_T = randn(shape), then step() at every timestep with one generator."""
    x = torch.randn(shape, generator=generator, dtype=dtype)
    for t in ref.timesteps:
        eps = eps_model(x, t.expand(shape[0]))
        kw = {} if eta is None else {"eta": eta}
        x = ref.step(eps, t, x, generator=generator, **kw).prev_sample
    return x


@pytest.mark.parametrize("kind,dkind", KINDS)
def test_whole_ddpm_trajectory_matches(kind, dkind):
    shape = (16, 2)
    ours = NoiseSchedule(1000, kind, dtype=F64)
    eps = gaussian_eps(1.5, 0.5, ours)
    ref = run_ref(in_float64(ddpm_ref(dkind, "fixed_small"), ours), eps, shape, torch.Generator().manual_seed(0), F64)
    x = ddpm_sample(eps, shape, ours, variance="beta_tilde", generator=torch.Generator().manual_seed(0))
    close(x, ref, 1e-9)
    # the float32 code paths as shipped: both end within float32 precision of each other
    ours32 = NoiseSchedule(1000, kind)
    eps32 = gaussian_eps(1.5, 0.5, ours32)
    ref32 = run_ref(ddpm_ref(dkind, "fixed_small"), eps32, shape, torch.Generator().manual_seed(0), torch.float32)
    x32 = ddpm_sample(eps32, shape, ours32, variance="beta_tilde", generator=torch.Generator().manual_seed(0))
    close(x32, ref32, 1e-4 if kind == "linear" else 2e-3)  # cosine: diffusers' β_T−1 = 1 − ᾱ_t/ᾱ_{t−1} in float32


@pytest.mark.parametrize("kind,dkind", KINDS)
@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_whole_ddim_trajectory_matches(kind, dkind, eta):
    shape = (16, 2)
    for dtype, tol in ((F64, 1e-9), (torch.float32, 1e-5)):
        ours = NoiseSchedule(1000, kind, dtype=dtype)
        eps = gaussian_eps(1.5, 0.5, ours)
        ref = ddim_ref(dkind, 50)
        if dtype == F64:
            ref = in_float64(ref, ours)
        expected = run_ref(ref, eps, shape, torch.Generator().manual_seed(0), dtype, eta=eta)
        x = ddim_sample(eps, shape, ours, steps=50, eta=eta, generator=torch.Generator().manual_seed(0))
        close(x, expected, tol)
