"""Diffusion maths: schedules, q(x_t | x_0), the posterior, the samplers (exact-answer checks on a
Gaussian), reproducibility of seeded sampling, and trajectory recording."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genstudio.diffusion.noise import counter_normal
from genstudio.diffusion.samplers import SamplerStep, ddim_sample, ddim_steps, ddim_timesteps, ddpm_sample, ddpm_steps
from genstudio.diffusion.schedule import NoiseSchedule, posterior, predict_x0, q_sample
from genstudio.diffusion.trajectory import Trajectory

F64 = torch.float64


def toy_eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A deterministic, nonlinear stand-in for a network (each sample depends only on itself)."""
    s = (t.to(x.dtype) / 1000.0).reshape(-1, *([1] * (x.ndim - 1)))
    return torch.tanh(x) * (0.5 + s) + 0.1 * torch.sin(3 * x)


def gaussian_eps(mu: float, s: float, schedule: NoiseSchedule):
    """E[ε | x_t] for x_0 ~ N(mu, s²): b(x_t − a·mu)/(a²s² + b²), a = √ᾱ_t, b = √(1−ᾱ_t)."""
    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ac = schedule.alphas_cumprod.to(F64)[t].reshape(-1, *([1] * (x.ndim - 1)))
        a, b = ac.sqrt(), (1 - ac).sqrt()
        return (b * (x.to(F64) - a * mu) / (a * a * s * s + b * b)).to(x.dtype)
    return eps


# ---------------------------------------------------------------------------- schedules
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_tensors(kind):
    s = NoiseSchedule(1000, kind)
    assert s.betas.shape == (1000,) and s.betas.dtype == torch.float32
    assert torch.allclose(s.alphas, 1 - s.betas)
    assert torch.allclose(s.alphas_cumprod, torch.cumprod(s.alphas.double(), 0).float(), rtol=1e-6)
    assert (s.alphas_cumprod[1:] < s.alphas_cumprod[:-1]).all()
    assert (s.log_snr[1:] < s.log_snr[:-1]).all()
    assert s.posterior_variance[0] == 0 and (s.posterior_variance[1:] > 0).all()
    assert (s.posterior_variance[1:] <= s.betas[1:] * (1 + 1e-6)).all()  # β̃ ≤ β
    assert s.state_dict() == {}  # rebuilt from {"kind", "num_steps"}, never saved as tensors
    assert NoiseSchedule.from_meta(s.to_meta()).alphas_cumprod.equal(s.alphas_cumprod)


def test_linear_endpoints_are_not_rescaled_for_other_T():
    for T in (10, 1000, 4000):
        s = NoiseSchedule(T, "linear", dtype=F64)
        assert s.betas[0].item() == pytest.approx(1e-4, rel=1e-12)
        assert s.betas[-1].item() == pytest.approx(0.02, rel=1e-12)
        assert torch.allclose(s.betas.diff(), s.betas.diff()[0].expand(T - 1))


def test_cosine_follows_nichol_dhariwal():
    s = NoiseSchedule(1000, "cosine", dtype=F64)

    def f(u: float) -> float:
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    for t in (0, 1, 500, 900):  # ᾱ_t = f((t+1)/T)/f(0) wherever β is not capped
        assert s.alphas_cumprod[t].item() == pytest.approx(f((t + 1) / 1000) / f(0), rel=1e-9)
    assert s.betas.max().item() == pytest.approx(0.999)


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match="schedule"):
        NoiseSchedule(100, "quadratic")
    with pytest.raises(ValueError, match="num_steps"):
        NoiseSchedule(1)


# ---------------------------------------------------------------------------- forward process
def test_q_sample_formula_int_and_tensor_t():
    s = NoiseSchedule(1000, "linear", dtype=F64)  # float64: 1 − ᾱ_0 in float32 keeps only 3 digits
    x0, noise = torch.randn(3, 2, 4, 4, dtype=F64), torch.randn(3, 2, 4, 4, dtype=F64)
    t = torch.tensor([0, 500, 999])
    xt = q_sample(x0, t, noise, s)
    for i in range(3):
        a = s.alphas_cumprod[t[i]]
        assert torch.allclose(xt[i], a.sqrt() * x0[i] + (1 - a).sqrt() * noise[i], atol=1e-12)
        assert torch.allclose(q_sample(x0[i:i + 1], int(t[i]), noise[i:i + 1], s), xt[i:i + 1])
    assert torch.equal(s.q_sample(x0, t, noise), xt)


def test_predict_x0_inverts_q_sample():
    s = NoiseSchedule(1000, "cosine", dtype=F64)
    x0, noise = torch.randn(5, 7, dtype=F64), torch.randn(5, 7, dtype=F64)
    t = torch.tensor([0, 1, 300, 800, 990])
    assert torch.allclose(predict_x0(q_sample(x0, t, noise, s), t, noise, s), x0, atol=1e-8)


def test_posterior_matches_bayes_rule():
    """q(x_{t-1}|x_t,x_0) ∝ N(x_{t-1}; √ᾱ_{t-1}x_0, 1−ᾱ_{t-1})·N(x_t; √α_t x_{t-1}, β_t)."""
    s = NoiseSchedule(1000, "linear", dtype=F64)
    x0, xt = torch.randn(4, 3, dtype=F64), torch.randn(4, 3, dtype=F64)
    t = torch.tensor([1, 10, 500, 999])
    mean, var = posterior(x0, xt, t, s)
    ac_prev = s.alphas_cumprod[t - 1][:, None]
    alpha, beta = s.alphas[t][:, None], s.betas[t][:, None]
    precision = 1 / (1 - ac_prev) + alpha / beta
    expected_mean = (ac_prev.sqrt() * x0 / (1 - ac_prev) + alpha.sqrt() * xt / beta) / precision
    assert torch.allclose(var, 1 / precision, rtol=1e-9)
    assert torch.allclose(mean, expected_mean, rtol=1e-9, atol=1e-12)
    m0, v0 = posterior(x0, xt, 0, s)  # t = 0: ᾱ_{-1} = 1, so the mean is x_0 itself
    assert torch.allclose(m0, x0) and v0.item() == 0


def test_ddpm_step_is_ho_et_al_algorithm_2():
    s = NoiseSchedule(1000, "linear", dtype=F64)
    x = torch.randn(3, 4, dtype=F64)
    for t, variance in [(999, "beta"), (500, "beta_tilde"), (0, "beta")]:
        step = next(ddpm_steps(toy_eps, x.shape, s, variance=variance, start_x=x, start_index=999 - t,
                               generator=torch.Generator().manual_seed(1)))
        z = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=F64)
        eps = toy_eps(x, torch.full((3,), t))
        mu = (x - s.betas[t] / (1 - s.alphas_cumprod[t]).sqrt() * eps) / s.alphas[t].sqrt()
        sigma2 = 0.0 if t == 0 else (s.betas[t] if variance == "beta" else s.posterior_variance[t])
        assert step.t == t and torch.allclose(step.eps, eps)
        assert torch.allclose(step.x_prev, mu + math.sqrt(sigma2) * z, atol=1e-10)


def test_ddim_timesteps_are_leading():
    assert ddim_timesteps(1000, 50)[:3] == [980, 960, 940] and ddim_timesteps(1000, 50)[-1] == 0
    assert ddim_timesteps(1000, 1000) == list(range(999, -1, -1))
    assert ddim_timesteps(100, 3) == [66, 33, 0]
    with pytest.raises(ValueError):
        ddim_timesteps(100, 101)


# ---------------------------------------------------------------------------- exact answer on a Gaussian
@pytest.mark.parametrize("kind,sampler,tol", [("linear", "ddpm-beta", 0.02), ("linear", "ddpm-beta_tilde", 0.02),
                                              ("cosine", "ddpm-beta_tilde", 0.02), ("linear", "ddim", 0.05),
                                              ("cosine", "ddim", 0.05)])
def test_samplers_reproduce_a_gaussian_with_the_optimal_eps(kind, sampler, tol):
    """DDPM (1,000 steps) within 2 % and DDIM (100 steps, η = 0) within 5 % of x_0 ~ N(1.5, 0.5²)."""
    mu, sd = 1.5, 0.5
    s = NoiseSchedule(1000, kind)
    eps = gaussian_eps(mu, sd, s)
    shape = (20000, 1)
    if sampler.startswith("ddpm"):
        x = ddpm_sample(eps, shape, s, variance=sampler.split("-")[1], seed=0)
    else:
        x = ddim_sample(eps, shape, s, steps=100, seed=0)
    assert abs(x.mean().item() - mu) / mu < tol
    assert abs(x.std().item() - sd) / sd < tol


# ---------------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "ddim-eta"])
def test_same_seed_same_samples_and_batch_independence(sampler):
    s = NoiseSchedule(100, "linear")

    def draw(n, seed, start=0):
        if sampler == "ddpm":
            return ddpm_sample(toy_eps, (n, 2, 3, 3), s, seed=seed, start=start)
        return ddim_sample(toy_eps, (n, 2, 3, 3), s, steps=20, eta=0.5 if sampler == "ddim-eta" else 0.0,
                           seed=seed, start=start)

    batch = draw(5, seed=7)
    assert torch.equal(batch, draw(5, seed=7))
    assert not torch.allclose(batch, draw(5, seed=8))
    for i in (0, 3):
        assert torch.allclose(draw(1, seed=7, start=i)[0], batch[i], atol=1e-6)
    assert torch.allclose(draw(2, seed=7, start=3), batch[3:5], atol=1e-6)


def test_branching_from_a_recorded_step():
    s = NoiseSchedule(100, "linear")
    final, traj = ddpm_sample(toy_eps, (4, 2), s, seed=3, record=True, record_dtype=torch.float32)
    k = 60
    same = ddpm_sample(toy_eps, (4, 2), s, seed=3, start_x=torch.from_numpy(traj.x_t[k]), start_index=k)
    assert torch.allclose(same, final, atol=1e-5)  # the counter-based step noise retraces the run
    other = ddpm_sample(toy_eps, (4, 2), s, seed=4, start_x=torch.from_numpy(traj.x_t[k]), start_index=k)
    assert not torch.allclose(other, final, atol=1e-3)
    with pytest.raises(ValueError, match="start_x"):
        ddpm_sample(toy_eps, (4, 2), s, seed=3, start_index=5)


def test_seed_and_generator_are_exclusive():
    with pytest.raises(ValueError, match="seed"):
        ddpm_sample(toy_eps, (2, 2), NoiseSchedule(10), seed=1, generator=torch.Generator())


def test_counter_normal_is_standard_normal_and_uncorrelated():
    keys = np.arange(1, 1001, dtype=np.uint64)  # adjacent keys: the worst case for a weak hash
    z = counter_normal(keys, 0, 500)  # (1000, 500)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(np.mean(z ** 4) - 3) < 0.05  # Gaussian kurtosis
    assert abs(np.corrcoef(z[:-1].ravel(), z[1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(z.ravel(), counter_normal(keys, 1, 500).ravel())[0, 1]) < 0.01


# ---------------------------------------------------------------------------- generators and trajectories
def test_step_generator_reports_progress_and_can_stop_early():
    s = NoiseSchedule(50, "linear")
    gen = ddim_steps(toy_eps, (2, 3), s, steps=10, seed=0)
    first = next(gen)
    assert isinstance(first, SamplerStep) and (first.index, first.total, first.t) == (0, 10, 45)
    assert first.x_t.shape == first.eps.shape == first.x0.shape == first.x_prev.shape == (2, 3)
    gen.close()  # cancelling is just not asking for the next step
    seen = []
    ddpm_sample(toy_eps, (2, 3), s, seed=0, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (1, 50) and seen[-1] == (50, 50)


def test_trajectory_shapes_dtypes_and_round_trip(tmp_path):
    s = NoiseSchedule(100, "cosine")
    final, traj = ddim_sample(toy_eps, (3, 1, 4, 4), s, steps=25, eta=0.3, seed=1, record=True)
    assert isinstance(traj, Trajectory) and len(traj) == 25
    assert traj.timesteps.dtype == np.int64 and list(traj.timesteps) == ddim_timesteps(100, 25)
    for a in (traj.x_t, traj.eps, traj.x0):
        assert a.shape == (25, 3, 1, 4, 4) and a.dtype == np.float16
    assert traj.final.dtype == np.float32 and np.array_equal(traj.final, final.numpy())
    again = ddim_sample(toy_eps, (3, 1, 4, 4), s, steps=25, eta=0.3, seed=1)
    assert torch.equal(again, final)  # recording does not change the samples
    frame = traj.frame(3)
    assert frame.t == traj.timesteps[3] and frame.x_t.dtype == np.float32
    assert traj.nbytes == Trajectory.estimate_nbytes(25, (3, 1, 4, 4)) + traj.timesteps.nbytes + final.numel() * 4
    path = traj.save_npz(tmp_path / "traj.npz")
    back = Trajectory.load_npz(path)
    assert np.array_equal(back.x0, traj.x0) and np.array_equal(back.final, traj.final)
    assert back.info["sampler"] == "ddim" and back.info["steps"] == 25 and back.info["eta"] == 0.3


def test_trajectory_of_16_rgb_32px_images_over_1000_steps_fits_in_memory():
    shape = (16, 3, 32, 32)
    estimate = Trajectory.estimate_nbytes(1000, shape)
    assert estimate == 3 * 1000 * 16 * 3 * 32 * 32 * 2 and estimate < 300e6  # ≈ 295 MB in float16
    s = NoiseSchedule(1000, "linear")
    final, traj = ddim_sample(lambda x, t: 0.5 * x, shape, s, steps=1000, seed=0, record=True)
    assert traj.x_t.shape == (1000, *shape) and traj.nbytes < 300e6
    assert np.isfinite(traj.x0).all()  # x̂_0 blown up by 1/√ᾱ at t = 999 still fits float16
