"""The learned denoiser against the exact one, as the scrubber draws them (genstudio.diffusion.exact_compare,
genstudio.views.exact_lab), and the memorisation of a perfect model of a few points. No Qt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.data import load_dataset
from genstudio.diffusion import exact as exact_module
from genstudio.diffusion.exact import ExactDenoiser, exact_eps, exact_x0, mixture_of
from genstudio.diffusion.exact_compare import cell_centres, compare_fields, error_curve, exact_denoiser_of, memorisation
from genstudio.diffusion.model import DiffusionModel
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.models.eps_mlp import EpsMLP
from genstudio.sampling import SampleSpec, sample
from genstudio.views.exact_lab import ExactLab


def points_model(data: str = "ring8", num_steps: int = 40) -> DiffusionModel:
    torch.manual_seed(0)
    meta = {"kind": "diffusion", "data_kind": "points", "data": data, "step": 0,
            "models": {"eps": {"arch": "mlp_eps", "args": {}}}, "schedule": {"kind": "linear", "num_steps": num_steps}}
    return DiffusionModel(EpsMLP(hidden=16, depth=1, t_dim=8), NoiseSchedule(num_steps), meta, torch.device("cpu"))


def test_cell_centres_run_row_by_row_from_the_bottom_left():
    c = cell_centres((0.0, 4.0, -2.0, 2.0), 4)
    assert c.shape == (16, 2)
    np.testing.assert_allclose(c[0], [0.5, -1.5])  # row 0, column 0: bottom left
    np.testing.assert_allclose(c[3], [3.5, -1.5])  # along x first
    np.testing.assert_allclose(c[4], [0.5, -0.5])  # then up one row


def test_compare_fields_is_the_network_and_the_closed_form_at_the_same_points():
    model = points_model()
    exact = exact_denoiser_of(model)
    assert exact.mixture.means.shape == (8, 2)  # ring8: its true mixture
    extent = (-3.0, 3.0, -2.5, 2.5)
    fc = compare_fields(model, exact, 12, extent, arrows=5, cells=6)
    assert fc.origins.shape == fc.learned.shape == fc.exact.shape == (25, 2) and fc.heat.shape == (6, 6)
    x = torch.from_numpy(fc.origins)
    with torch.no_grad():
        np.testing.assert_allclose(fc.learned, model.eps(x, torch.full((25,), 12)).numpy(), rtol=1e-5)
    np.testing.assert_allclose(fc.exact, exact_eps(x.double(), 12, exact.schedule, exact.mixture).numpy(), rtol=1e-5)
    i, j = 4, 1  # row 4 (y), column 1 (x)
    p = torch.tensor([[-3.0 + 1.5 * 1.0, -2.5 + 4.5 * 5 / 6]])
    with torch.no_grad():
        direct = (model.eps(p, torch.tensor([12])).double() - exact_eps(p.double(), 12, exact.schedule, exact.mixture))
    assert fc.heat[i, j] == pytest.approx(float(direct.norm()), rel=1e-5)
    # one scale for both fields: the longest of all arrows is 0.9 × spacing, and the ratio of lengths is kept
    learned, ideal = fc.arrows(1.0)
    lengths = np.concatenate([np.linalg.norm(learned, axis=1), np.linalg.norm(ideal, axis=1)])
    assert lengths.max() == pytest.approx(0.9)
    np.testing.assert_allclose(np.linalg.norm(ideal, axis=1) / np.linalg.norm(learned, axis=1),
                               np.linalg.norm(fc.exact, axis=1) / np.linalg.norm(fc.learned, axis=1), rtol=1e-4)


def test_error_curve_has_one_value_per_band_and_finds_the_band_of_t():
    model = points_model(num_steps=40)
    c = error_curve(model, exact_denoiser_of(model), bands=8, n=64)
    assert c.values.shape == (8,) and (c.values > 0).all()
    assert list(c.edges) == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    assert [c.band_of(t) for t in (0, 4, 5, 39)] == [0, 0, 1, 7]
    np.testing.assert_allclose(c.centres, [2, 7, 12, 17, 22, 27, 32, 37])


def test_exact_eps_in_chunks_is_exact_eps_at_once(monkeypatch):
    mix = mixture_of(load_dataset("moons", num_points=300), bandwidth=0.05)
    sched = NoiseSchedule(100, "linear", dtype=torch.float64)
    x = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    t = torch.randint(0, 100, (50,), generator=torch.Generator().manual_seed(1))
    whole = exact_eps(x, t, sched, mix), exact_x0(x, 7, sched, mix)
    monkeypatch.setattr(exact_module, "CHUNK_ELEMENTS", 300 * 2 * 7)  # 7 rows a chunk
    np.testing.assert_allclose(exact_eps(x, t, sched, mix), whole[0], rtol=1e-12)
    np.testing.assert_allclose(exact_x0(x, 7, sched, mix), whole[1], rtol=1e-12)


def test_the_exact_denoiser_of_20_points_samples_those_points():
    """Memorisation: a perfect model of 20 training points draws nothing but them (a fresh draw of the
    data is ~100× farther from its nearest training point)."""
    data = load_dataset("moons", num_points=20, seed=0)
    mix = mixture_of(data, empirical=True)
    model = ExactDenoiser(mix, NoiseSchedule(1000, "linear"))
    out = sample(model, SampleSpec(n=300, seed=0, sampler="ddim", steps=100, record=False)).final
    fresh = load_dataset("moons", num_points=300, seed=1).tensor.numpy()
    m = memorisation(mix.means.numpy(), out, fresh=fresh)
    assert m.points == 20 and m.samples == 300
    assert m.on_point >= 0.9 and m.reproduced >= 15, m  # 93 %: the rest between two points closer than the last step can tell
    assert m.median < 1e-3 < 0.01 < m.fresh_median, m
    assert "of the 20 training points" in m.sentence()


def test_empirical_mixture_of_a_model_uses_its_first_training_points():
    from genstudio.diffusion.exact import mixture_of_model

    model = points_model()
    mix = mixture_of_model(model, points=20)
    assert mix.means.shape == (20, 2) and float(mix.stds.max()) == 0.0
    np.testing.assert_allclose(mix.means.numpy(), load_dataset("ring8", num_points=20, seed=0).tensor.numpy())


def test_exact_lab_state():
    lab = ExactLab()
    seen = []
    lab.changed.connect(seen.append)
    lab.set_model(points_model())
    assert lab.available and lab.describe().startswith("ring8: 8 Gaussians")
    assert lab.shows("learned") and not lab.shows("exact")
    lab.set_fields("both")
    assert lab.shows("learned") and lab.shows("exact")
    lab.set_fields("exact")
    assert not lab.shows("learned") and lab.shows("exact")
    with pytest.raises(ValueError, match="learned, exact, both"):
        lab.set_fields("neither")
    lab.set_heat(True)
    lab.set_exact_samples(True)
    assert seen == ["model", "fields", "fields", "heat", "exact_samples"]
    lab.set_model(points_model(data="no_such_set"))  # a data set this machine cannot load: a note, no exact
    assert not lab.available and lab.note.startswith("no exact denoiser:") and not lab.shows("exact")
    lab.set_model(None)
    assert not lab.available and lab.note == ""
