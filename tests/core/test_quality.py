"""The digits quality score: the shipped classifier, the Fréchet distance, and `genstudio score`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.data import load_dataset
from genstudio.metrics import frechet_distance
from genstudio.quality import (INPUT_SIZE, MAX_N, digit_features, digits_score, held_out_split, load_classifier,
                               prepare, real_sets)

N = 300  # samples per set in these checks: big enough for a stable 64-d covariance, quick on a CPU


@pytest.fixture(scope="module")
def reference():
    """Real-vs-real at N, the yardstick the other scores are read against."""
    a, b = real_sets(N, INPUT_SIZE)
    return a, b, frechet_distance(digit_features(b), digit_features(a))


# ---------------------------------------------------------------------------- the metric
def test_frechet_distance_matches_the_closed_form_with_scipy_sqrtm():
    """Against an independent computation: scipy's sqrtm of Σ_a Σ_b (the usual FID code)."""
    from scipy import linalg

    rng = np.random.default_rng(0)
    fa = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    fb = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 0.5
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    ca, cb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    cross = linalg.sqrtm(ca @ cb).real
    expected = ((mu_a - mu_b) ** 2).sum() + np.trace(ca + cb - 2 * cross)
    assert frechet_distance(fa, fb) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_of_gaussians_with_a_known_answer():
    """Two 1-D normals: d² = (μ_a − μ_b)² + (s_a − s_b)²; here the sample moments stand in."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, (5000, 1)), rng.normal(3.0, 2.0, (5000, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_a_set_against_itself_is_zero_even_with_dead_features():
    f = digit_features(load_dataset("digits", size=16).tensor[:200])
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-6)


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="differ"):
        frechet_distance(np.ones((5, 3)), np.ones((5, 4)))


# ---------------------------------------------------------------------------- the classifier
def test_shipped_classifier_is_accurate_on_held_out_digits():
    data = load_dataset("digits", size=INPUT_SIZE)
    _, test = held_out_split()
    net = load_classifier()
    with torch.inference_mode():
        pred = net(prepare(data.tensor[test])).argmax(1)
    acc = float((pred == data.labels[test]).double().mean())
    assert acc >= 0.9, acc


def test_any_size_and_colour_reach_the_classifier_as_16px_gray():
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    assert prepare(x).shape == (4, 1, 16, 16)
    assert prepare(x[:, :1, :16, :16]).shape == (4, 1, 16, 16)
    assert digit_features(np.zeros((3, 1, 64, 64), dtype=np.float32)).shape == (3, 64)
    with pytest.raises(ValueError):
        prepare(torch.zeros(2, 2, 16, 16))


# ---------------------------------------------------------------------------- the score
def test_real_vs_real_is_small_and_the_real_sets_are_disjoint(reference):
    a, b, rvr = reference
    assert 0 < rvr < 60, rvr
    flat_a, flat_b = a.flatten(1), b.flatten(1)
    assert not (torch.cdist(flat_a, flat_b).min(1).values == 0).any()  # no digit is in both sets
    with pytest.raises(ValueError):
        real_sets(MAX_N + 1)


def test_real_digits_at_another_size_score_like_real_vs_real(reference):
    _, _, rvr = reference
    _, other32 = real_sets(N, 32)
    score = digits_score(other32)
    assert score.fd == pytest.approx(score.real_vs_real)  # the same images as the real-vs-real set
    assert score.real_vs_real == pytest.approx(rvr, rel=0.25)  # 32 px → 16 px ≈ 8 px → 16 px


def test_noise_blank_and_one_digit_only_score_far_worse(reference):
    a, _, rvr = reference
    gen = torch.Generator().manual_seed(0)
    noise = (torch.randn(N, 1, 16, 16, generator=gen) * 0.7).clamp(-1, 1)
    blank = -torch.ones(N, 1, 16, 16)
    data = load_dataset("digits", size=16)
    ones = data.tensor[data.labels == 1][:N]  # mode collapse: real, but a single class
    ones = ones.repeat(-(-N // len(ones)), 1, 1, 1)[:N]
    for name, images, factor in (("noise", noise, 20), ("blank", blank, 20), ("ones", ones, 5)):
        score = digits_score(images)
        assert score.real_vs_real == pytest.approx(rvr)
        assert score.fd > factor * rvr, (name, score)


def test_genstudio_score_prints_both_figures(tmp_path, capsys):
    """`genstudio score` on a two-step digits run: the numbers are bad, but both are printed."""
    from genstudio.cli import main
    from genstudio.config import RunConfig
    from genstudio.runs.loop import run_to_end

    cfg = RunConfig(kind="diffusion", data="digits", size=16, steps=2, batch=8, lr=2e-4, beta1=0.9, width=8,
                    timesteps=20, log_every=1, preview_every=100, checkpoint_every=100, device="cpu")
    fin = run_to_end(cfg, tmp_path / "run")
    assert fin.reason == "done"
    code = main(["score", str(fin.checkpoint), "--n", "40", "--steps", "3", "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    assert "digits Fréchet distance:" in out and "real vs real:" in out


def test_genstudio_score_refuses_a_model_of_other_data(tmp_path, capsys):
    from genstudio.cli import main
    from genstudio.config import RunConfig
    from genstudio.runs.loop import run_to_end

    cfg = RunConfig(kind="diffusion", data="ring8", steps=1, batch=8, lr=1e-3, beta1=0.9, width=8, timesteps=20,
                    num_points=100, log_every=1, preview_every=100, checkpoint_every=100, device="cpu")
    fin = run_to_end(cfg, tmp_path / "run")
    assert main(["score", str(fin.checkpoint), "--n", "20"]) == 1
    assert "digits score is for models trained on digits" in capsys.readouterr().err
