"""The memorisation meter (genstudio.memorisation), checked as a measuring stick on real digits: new
images pass as new, training images (lightly noised) as copies, and a model trained on the full set
does not copy."""

from __future__ import annotations

import numpy as np
import torch
import pytest

from genstudio.data import load_dataset
from genstudio.memorisation import COPY_RATIO, copy_ratios, memorisation, nearest_training
from genstudio.quality import held_out_split


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", size=16)
    train, test = held_out_split()
    return data.tensor[train].numpy(), data.tensor[test].numpy()


@pytest.mark.parametrize("space", ["pixels", "features"])
def test_held_out_digits_are_new_and_noisy_training_digits_are_copies(digits, space):
    """Measured: held-out real 0 % copies (median d₁/d₂ 0.91); training + σ 0.05 noise 92 % (pixels) /
    99 % (features)."""
    train, test = digits
    share_new, ratios = memorisation(test[:300], train, space)
    assert share_new == 0.0 and np.median(ratios) > 0.8
    noisy = np.clip(train[:300] + 0.05 * np.random.default_rng(0).standard_normal(train[:300].shape), -1, 1)
    share_copies, _ = memorisation(noisy.astype(np.float32), train, space)
    assert share_copies > 0.85


def test_neighbours_are_sorted_and_an_exact_copy_has_ratio_zero(digits):
    train, _ = digits
    nb = nearest_training(train[:5], train, k=4)
    assert (nb.indices[:, 0] == np.arange(5)).all() and (np.diff(nb.distances, axis=1) >= 0).all()
    assert (nb.ratios == 0).all() and nb.copies.all() and COPY_RATIO < 1
    assert copy_ratios(np.array([[0.0, 0.0], [1.0, 2.0]])).tolist() == [0.0, 0.5]
    bigger = np.repeat(np.repeat(train[:3], 2, axis=2), 2, axis=3)  # 32 px samples: resized to 16
    assert (nearest_training(bigger, train, k=2).indices[:, 0] == np.arange(3)).all()


def test_bad_inputs_say_what_is_wrong(digits):
    train, _ = digits
    with pytest.raises(ValueError, match="same channels"):
        nearest_training(np.zeros((2, 3, 16, 16), np.float32), train)
    with pytest.raises(ValueError, match="k must lie"):
        nearest_training(train[:2], train[:3], k=5)
    with pytest.raises(ValueError, match="gray .* or RGB"):
        nearest_training(np.zeros((2, 4, 8, 8)), np.zeros((4, 4, 8, 8)), space="features")


def test_colour_images_are_compared_in_the_faces_classifiers_features():
    """A face with a little noise finds itself first among 200 faces in the faces classifier's features,
    and passes as a copy."""
    from genstudio.data import load_dataset

    faces = load_dataset("faces", size=32, channels=3, seed=0).tensor[:201].numpy()
    train = faces[:200]
    noisy = np.clip(train[:5] + np.random.default_rng(0).normal(0, 0.02, train[:5].shape), -1, 1).astype(np.float32)
    nb = nearest_training(noisy, train, k=2, space="features")
    assert (nb.indices[:, 0] == np.arange(5)).all() and nb.copies.all()
    assert nb.distances.shape == (5, 2) and nb.space == "features"


def test_neighbours_command_shows_samples_beside_their_nearest_and_the_share_of_copies(tmp_path, capsys):
    from PIL import Image

    from genstudio.bundled import bundled_path
    from genstudio.cli import main

    out = tmp_path / "nn.png"
    assert main(["neighbours", str(bundled_path("ddpm_digits")), "--n", "4", "--k", "3", "--px", "0",
                 "--out", str(out), "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "against the 1,797 training images of digits" in said and "pass as copies" in said
    assert said.count("  row ") == 4
    with Image.open(out) as grid:
        assert grid.size == (4 * 17 + 1, 4 * 17 + 1)  # 4 rows of sample + 3 nearest, 16 px each
    assert main(["neighbours", str(bundled_path("ddpm_ring8")), "--out", str(out), "--device", "cpu"]) == 1
    assert "a 2-D point model" in capsys.readouterr().err


def test_training_index_keeps_its_vectors_and_knows_its_spaces(digits):
    from genstudio.memorisation import TrainingIndex, verdict

    train, test = digits
    index = TrainingIndex(train, "digits")
    a = index.nearest(test[:5], k=3, space="features")
    assert "features" in index._vectors and index.spaces == ("pixels", "features") and "pixels" not in index._vectors
    b = nearest_training(test[:5], train, k=3, space="features")
    assert (a.indices == b.indices).all() and np.allclose(a.distances, b.distances)
    assert TrainingIndex(np.zeros((3, 3, 8, 8))).spaces == ("pixels", "features")  # RGB: the faces classifier's
    assert TrainingIndex(np.zeros((3, 4, 8, 8))).spaces == ("pixels",)
    assert verdict(0.1).startswith("copy") and verdict(0.9).startswith("new") and "0.33" in verdict(0.9)


def test_score_reports_the_share_of_copies_for_any_image_model(capsys):
    """`genstudio score` prints the memorisation meter beside the Fréchet distance, and for a model of
    another data set (shapes) the meter alone."""
    from genstudio.bundled import bundled_path
    from genstudio.cli import main

    assert main(["score", str(bundled_path("ddpm_shapes")), "--n", "4", "--steps", "2", "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "no digits Fréchet distance" in said and "copies (pixels):" in said and "copies (features):" in said
    assert "d1/d2 < 0.33" in said and "training images of shapes" in said


def _diffusion_samples(train: np.ndarray, steps: int = 1500, n: int = 100) -> np.ndarray:
    """A small ε-MLP DDPM (T = 100, cosine) trained on ``train`` (M, 8, 8) for ``steps`` steps; ``n``
    DDIM-50 samples as (n, 1, 8, 8). The same budget whatever the data set's size."""
    from genstudio.diffusion.samplers import ddim_sample
    from genstudio.diffusion.schedule import NoiseSchedule, q_sample
    from genstudio.models.eps_mlp import EpsMLP

    torch.manual_seed(0)
    net = EpsMLP(dim=64, hidden=256, depth=3, t_dim=32)
    sched = NoiseSchedule(100, "cosine")
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    x = torch.from_numpy(train.reshape(len(train), -1))
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x0 = x[torch.randint(len(x), (64,), generator=g)]
        t = torch.randint(100, (64,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        loss = ((net(q_sample(x0, t, eps, sched), t) - eps) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return ddim_sample(lambda xt, tt: net(xt, tt), (n, 64), sched, steps=50, seed=1).numpy().reshape(n, 1, 8, 8)


def test_the_score_separates_a_model_trained_on_50_digits_from_one_trained_on_all():
    """Carlini et al.'s ratio on the samples of the same small diffusion recipe (1,500 steps) trained on
    50 digits and on all 1,797: the 50-digit model's samples sit much nearer one training image than the
    next (measured: median d₁/d₂ 0.80, 3 % copies), the full model's between many (0.97, 0 %)."""
    from sklearn.datasets import load_digits

    digits = load_digits().images.astype(np.float32) / 8.0 - 1.0  # (1797, 8, 8) in [-1, 1]
    few = nearest_training(_diffusion_samples(digits[:50]).clip(-1, 1), digits[:50, None], k=2)
    full = nearest_training(_diffusion_samples(digits).clip(-1, 1), digits[:, None], k=2)
    assert np.median(few.ratios) < np.median(full.ratios) - 0.1
    assert few.copies.mean() >= full.copies.mean() and np.median(full.ratios) > 0.85
