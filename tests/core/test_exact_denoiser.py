"""The exact denoiser of a Gaussian mixture (genstudio.diffusion.exact): the ideal ε* a network of the
DDPM loss tries to learn, checked against Monte Carlo and autograd, and sampled as a perfect model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genstudio.data import load_dataset
from genstudio.diffusion.exact import (ExactDenoiser, GaussianMixture, exact_eps, exact_x0, log_density,
                                       mixture_of, posterior_weights)
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.metrics import mode_coverage
from genstudio.sampling import SampleSpec, sample

SCHEDULE = NoiseSchedule(1000, "linear", dtype=torch.float64)


def ring8() -> GaussianMixture:
    return mixture_of(load_dataset("ring8", num_points=100))


def test_ring8_and_grid25_are_their_true_mixtures_and_other_sets_their_points():
    mix = ring8()
    assert mix.means.shape == (8, 2) and torch.allclose(mix.stds, torch.full((8,), 0.02, dtype=torch.float64))
    assert mixture_of(load_dataset("grid25", num_points=100)).means.shape == (25, 2)
    moons = load_dataset("moons", num_points=300)
    emp = mixture_of(moons, bandwidth=0.05)
    assert emp.means.shape == (300, 2) and float(emp.stds[0]) == 0.05
    with pytest.raises(ValueError, match="2-D point sets"):
        mixture_of(load_dataset("digits", size=8))


@pytest.mark.parametrize("t", [100, 300, 600])
def test_eps_star_is_the_monte_carlo_mean_of_the_noise_given_x_t(t):
    """E[ε | x_t = x] by self-normalised importance sampling over x_0 ~ data, against the closed form."""
    mix = ring8()
    g = torch.Generator().manual_seed(0)
    x0 = mix.sample(400_000, g)  # (M, 2)
    ab = float(SCHEDULE.alphas_cumprod_f64[t])
    queries = torch.tensor([[1.3, 0.4], [-0.2, 1.1], [0.0, 0.0]], dtype=torch.float64)
    for x in queries:
        # p(x_t = x | x_0) ∝ exp(−‖x − √ᾱ x_0‖² / 2(1−ᾱ)); ε = (x − √ᾱ x_0)/√(1−ᾱ)
        d = x[None] - math.sqrt(ab) * x0  # (M, 2)
        logw = -(d ** 2).sum(1) / (2 * (1 - ab))
        w = torch.softmax(logw, 0)
        mc = (w[:, None] * d / math.sqrt(1 - ab)).sum(0)
        ess = 1 / float((w ** 2).sum())
        assert ess > 1000, ess  # enough effective samples for the tolerance below
        closed = exact_eps(x[None], t, SCHEDULE, mix)[0]
        assert torch.allclose(closed, mc, atol=0.03), (t, x, closed, mc)


def test_eps_star_is_the_scaled_score_and_x0_star_is_consistent_with_it():
    mix = ring8()
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 1.5
    for t in (0, 50, 400, 999):
        xr = x.clone().requires_grad_(True)
        score, = torch.autograd.grad(log_density(xr, t, SCHEDULE, mix).sum(), xr)
        ab = float(SCHEDULE.alphas_cumprod_f64[t])
        eps = exact_eps(x, t, SCHEDULE, mix)
        assert torch.allclose(eps, -math.sqrt(1 - ab) * score, atol=1e-8)
        # x = √ᾱ x̂₀* + √(1−ᾱ) ε*, as for any ε-prediction
        x0 = exact_x0(x, t, SCHEDULE, mix)
        assert torch.allclose(math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps, x, atol=1e-8)
        assert torch.allclose(posterior_weights(x, t, SCHEDULE, mix).sum(1), torch.ones(64, dtype=torch.float64))


def test_per_sample_timesteps_give_the_same_as_one_timestep_at_a_time():
    mix = ring8()
    x = torch.randn(5, 2, dtype=torch.float32)
    t = torch.tensor([0, 10, 200, 500, 999])
    both = exact_eps(x, t, SCHEDULE, mix)
    assert both.dtype == torch.float32
    for i in range(5):
        assert torch.allclose(both[i], exact_eps(x[i:i + 1], int(t[i]), SCHEDULE, mix)[0])


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_sampling_with_eps_star_reproduces_the_mixture(sampler):
    """A perfect model: every mode covered, as large a share within 0.1 of a mode as the data's own."""
    data = load_dataset("ring8", num_points=2000)
    model = ExactDenoiser(mixture_of(data), NoiseSchedule(1000, "linear"))
    out = sample(model, SampleSpec(n=2000, seed=3, sampler=sampler, steps=100, record=False)).final
    share, modes = mode_coverage(out, data.centers)
    real_share, _ = mode_coverage(data.tensor.numpy(), data.centers)
    assert modes == 8 and share >= real_share - 0.01, (share, real_share)
    nearest = torch.cdist(torch.from_numpy(out).double(), data.centers.double()).argmin(1)
    assert int(torch.bincount(nearest, minlength=8).min()) > 2000 / 8 * 0.7  # no mode starved


def test_the_exact_denoiser_of_a_few_training_points_only_reproduces_them():
    """Memorisation: the ideal denoiser of the empirical distribution returns training points."""
    data = load_dataset("moons", num_points=12)
    model = ExactDenoiser(mixture_of(data, bandwidth=0.0), NoiseSchedule(1000, "linear"))
    out = torch.from_numpy(sample(model, SampleSpec(n=200, seed=0, sampler="ddim", steps=100, record=False)).final)
    nearest = torch.cdist(out.double(), data.tensor.double()).min(1).values  # (200,)
    # on a training point, bar the odd sample between two points closer than the last step's noise (√β_0 = 0.01)
    assert float((nearest < 1e-3).double().mean()) >= 0.95 and float(nearest.max()) < 0.1, nearest
    assert len(set(torch.cdist(out.double(), data.tensor.double()).argmin(1).tolist())) >= 8  # not one point


def test_the_bundled_ring8_model_is_nearer_the_exact_denoiser_than_an_untrained_one_at_every_band():
    from genstudio.bundled import bundled_path
    from genstudio.diffusion.exact import eps_error_by_band, mixture_of_model
    from genstudio.loading import load_model

    model = load_model(bundled_path("ddpm_ring8"), "cpu")
    mix = mixture_of_model(model)
    trained = eps_error_by_band(model.eps, model.schedule, mix, n=1024)
    torch.manual_seed(0)
    for module in model.net.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    untrained = eps_error_by_band(model.eps, model.schedule, mix, n=1024)
    assert (trained < untrained).all(), (trained, untrained)
    assert (trained < 0.1).all(), trained  # within a small fraction of ε's own variance (1) at every t


def test_sample_exact_draws_the_perfect_model_and_refuses_models_without_one(tmp_path, capsys):
    from genstudio.bundled import bundled_path
    from genstudio.cli import main
    from genstudio.data.toy2d import ring8_centers

    out = tmp_path / "exact.npy"
    assert main(["sample", str(bundled_path("ddpm_ring8")), "--exact", "--n", "500", "--sampler", "ddim",
                 "--steps", "50", "--out", str(out), "--device", "cpu"]) == 0
    share, modes = mode_coverage(np.load(out), ring8_centers())
    assert modes == 8 and share > 0.99
    capsys.readouterr()
    for stem, says in (("ddpm_digits", "2-D point models"), ("gan_ring8", "for diffusion models")):
        assert main(["sample", str(bundled_path(stem)), "--exact", "--n", "4", "--out", str(tmp_path / "x.npy"),
                     "--device", "cpu"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("genstudio: error: --exact is for") and says in err, err
