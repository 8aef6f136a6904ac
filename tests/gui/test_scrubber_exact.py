"""The exact denoiser in the Scrubber's 2-D view, offscreen: both fields, the heat map of ‖ε̂ − ε*‖, the
error against t with its marker, and the exact denoiser's samples drawn with the learned ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.bundled import bundled_path
from genstudio.diffusion.exact import exact_eps
from genstudio.diffusion.exact_compare import CURVE_BANDS, cell_centres
from genstudio.diffusion.model import DiffusionModel
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.gui.widgets.exact_panel import TRAILS
from genstudio.gui.widgets.reverse_view import FINAL
from genstudio.gui.widgets.scrubber import ScrubberView
from genstudio.loading import load_model
from genstudio.models.eps_mlp import EpsMLP
from genstudio.sampling import SampleSpec, sample

WAIT_MS = 60_000


@pytest.fixture
def view(reverse_scrubber):
    return reverse_scrubber  # tests/gui/conftest.py


def run(qtbot, v: ScrubberView, spec: SampleSpec):
    rev = v.reverse
    assert rev.sample(spec)
    qtbot.waitUntil(lambda: not rev.is_busy() and rev.idle(), timeout=WAIT_MS)
    return rev.state.result.trajectory


def show_step(qtbot, rev, t: int) -> None:
    rev.bar.set_timestep(t)
    qtbot.waitUntil(rev.idle, timeout=WAIT_MS)


def legend_names(rev) -> list[str]:
    return [label.text for _sample, label in rev._cloud.plot_item().legend.items]


def test_the_bundled_ring8_model_shows_both_fields_and_the_heat_map_is_the_error(qtbot, view):
    model = load_model(bundled_path("ddpm_ring8"), "cpu")
    view.set_model(model)
    rev, panel, lab = view.reverse, view.reverse.exact_panel, view.reverse.exact_lab
    assert lab.available and "ring8: 8 Gaussians" in panel._what.text()
    traj = run(qtbot, view, SampleSpec(300, 0, "ddim", steps=20))
    t = int(traj.timesteps[15])
    lab.set_fields("both")
    lab.set_heat(True)
    show_step(qtbot, rev, t)
    assert rev._cloud.arrow_count() == 400 and panel.exact_arrow_count() == 400
    assert {"−ε̂ learned", "−ε* exact"} <= set(legend_names(rev))
    assert rev.preview_caption().endswith("arrows: −ε̂ (grey) and −ε* (orange)")
    # the arrows are the two fields on one scale: grey along −ε̂, orange along −ε*, at the same origins
    learned = rev._cloud.arrow_segments()[:, 0]  # (K, 2, 2) shafts
    exact_seg = panel._exact_arrows.getData()
    exact_shafts = np.stack(exact_seg, axis=1).reshape(-1, 3, 2, 2)[:, 0]
    np.testing.assert_allclose(learned[:, 0], exact_shafts[:, 0])
    origins = torch.from_numpy(learned[:, 0].astype(np.float32))
    star = exact_eps(origins.double(), t, lab.exact.schedule, lab.exact.mixture).numpy()
    d = exact_shafts[:, 1] - exact_shafts[:, 0]
    big = np.linalg.norm(star, axis=1) > 1e-3
    cos = -(d * star).sum(1)[big] / (np.linalg.norm(d, axis=1) * np.linalg.norm(star, axis=1))[big]
    assert cos.min() > 0.999  # each orange arrow points along −ε*
    # the heat map is ‖ε̂ − ε*‖ at its cell centres, computed here directly
    heat, extent = panel.heat_values()
    n = heat.shape[0]
    centres = cell_centres(extent, n)
    for i, j in ((0, 0), (n // 2, n // 3), (n - 1, n - 1), (7, n - 5)):
        p = torch.from_numpy(centres[i * n + j][None])
        with torch.no_grad():
            direct = model.eps(p, torch.tensor([t])).double() - exact_eps(p.double(), t, lab.exact.schedule,
                                                                         lab.exact.mixture)
        assert heat[i, j] == pytest.approx(float(direct.norm()), rel=1e-4, abs=1e-5), (i, j)
    # switch: only the ideal field; then only the learned one, and the heat map goes
    lab.set_fields("exact")
    assert rev._cloud.arrow_count() == 0 and panel.exact_arrow_count() == 400
    assert "−ε̂ learned" not in legend_names(rev)
    assert rev.preview_caption().endswith("arrows: −ε* (exact)")
    lab.set_fields("learned")
    lab.set_heat(False)
    assert rev._cloud.arrow_count() == 400 and panel.exact_arrow_count() == 0 and panel.heat_values() is None
    show_step(qtbot, rev, FINAL)  # the final samples: no field, no marker
    assert rev._cloud.arrow_count() == 0 and panel.marker() is None


def test_the_error_curve_has_a_value_per_band_and_its_marker_follows_t(qtbot, view):
    torch.manual_seed(0)
    meta = {"kind": "diffusion", "data_kind": "points", "data": "ring8", "step": 0,
            "models": {"eps": {"arch": "mlp_eps", "args": {}}}, "schedule": {"kind": "linear", "num_steps": 60}}
    view.set_model(DiffusionModel(EpsMLP(hidden=16, depth=1, t_dim=8), NoiseSchedule(60), meta, torch.device("cpu")))
    rev, panel, lab = view.reverse, view.reverse.exact_panel, view.reverse.exact_lab
    qtbot.waitUntil(lambda: lab.curve is not None, timeout=WAIT_MS)
    assert panel.curve_values().shape == (CURVE_BANDS,)
    x, _y = panel._curve.getData()
    assert len(x) == CURVE_BANDS
    traj = run(qtbot, view, SampleSpec(100, 0, "ddpm"))
    for t in (int(traj.timesteps[0]), 31, 3, 0):
        show_step(qtbot, rev, t)
        at, value = panel.marker()
        assert at == t and value == pytest.approx(lab.curve.values[lab.curve.band_of(t)])
        assert panel._marker_line.value() == t
    show_step(qtbot, rev, FINAL)
    assert panel.marker() is None


def test_the_exact_denoiser_samples_beside_the_learned_one_with_the_same_noise(qtbot, view):
    model = load_model(bundled_path("ddpm_ring8"), "cpu")
    view.set_model(model)
    rev, panel, lab = view.reverse, view.reverse.exact_panel, view.reverse.exact_lab
    lab.set_exact_samples(True)
    spec = SampleSpec(200, 4, "ddim", steps=10, eta=1.0)
    traj = run(qtbot, view, spec)
    assert lab.exact_result is not None and panel.exact_points_count() == 200
    assert "exact denoiser's samples" in legend_names(rev)
    expected = sample(lab.exact, spec).final
    np.testing.assert_allclose(lab.exact_result.final, expected, atol=1e-5)  # the final samples shown first
    np.testing.assert_allclose(np.stack(panel._exact_points.getData(), 1), expected, atol=1e-5)
    whole = TRAILS * (len(traj) + 1)  # a few samples' paths, x_T to the final sample, for each model
    assert panel.trail_points("learned") == panel.trail_points("exact") == whole
    show_step(qtbot, rev, int(traj.timesteps[0]))  # x_T: the very same points for both models
    np.testing.assert_array_equal(np.stack(panel._exact_points.getData(), 1), traj.x_t[0].astype(np.float64))
    assert panel.trail_points("learned") == panel.trail_points("exact") == TRAILS  # the paths start there
    lab.set_exact_samples(False)
    assert panel.exact_points_count() == 0 and lab.exact_result is None and panel.trail_points("exact") == 0
    lab.set_exact_samples(True)  # asked for after sampling: computed for the recording shown
    qtbot.waitUntil(lambda: panel.exact_points_count() == 200 and rev.idle(), timeout=WAIT_MS)


def test_a_2d_model_of_another_set_compares_with_its_training_points_and_images_have_no_panel(qtbot, view):
    from tiny_models import tiny_image_model

    torch.manual_seed(0)
    meta = {"kind": "diffusion", "data_kind": "points", "data": "spiral", "step": 0,
            "models": {"eps": {"arch": "mlp_eps", "args": {}}}, "schedule": {"kind": "linear", "num_steps": 20}}
    view.set_model(DiffusionModel(EpsMLP(hidden=16, depth=1, t_dim=8), NoiseSchedule(20), meta, torch.device("cpu")))
    lab, panel = view.reverse.exact_lab, view.reverse.exact_panel
    assert lab.available and "training points" in lab.describe() and panel.fields.isEnabled()
    lab.set_fields("both")
    traj = run(qtbot, view, SampleSpec(100, 0, "ddim", steps=5))
    show_step(qtbot, view.reverse, int(traj.timesteps[2]))
    assert panel.exact_arrow_count() == 400
    view.set_model(tiny_image_model())
    assert not lab.available and not panel.isVisibleTo(view) and panel.exact_arrow_count() == 0


def test_ddpm_samples_the_exact_denoiser_with_the_learned_runs_noise(qtbot, view):
    torch.manual_seed(0)
    meta = {"kind": "diffusion", "data_kind": "points", "data": "grid25", "step": 0,
            "models": {"eps": {"arch": "mlp_eps", "args": {}}}, "schedule": {"kind": "linear", "num_steps": 60}}
    view.set_model(DiffusionModel(EpsMLP(hidden=16, depth=1, t_dim=8), NoiseSchedule(60), meta, torch.device("cpu")))
    rev, panel, lab = view.reverse, view.reverse.exact_panel, view.reverse.exact_lab
    assert lab.exact.mixture.means.shape == (25, 2)
    lab.set_exact_samples(True)
    spec = SampleSpec(150, 2, "ddpm")
    traj = run(qtbot, view, spec)
    e = lab.exact_result
    assert e.spec.sampler == "ddpm" and len(e.trajectory) == len(traj) == 60
    np.testing.assert_allclose(e.final, sample(lab.exact, spec).final, atol=1e-5)
    np.testing.assert_array_equal(e.trajectory.x_t[0], traj.x_t[0])  # the same x_T
    show_step(qtbot, rev, int(traj.timesteps[30]))
    np.testing.assert_allclose(np.stack(panel._exact_points.getData(), 1), e.trajectory.x_t[30], atol=1e-6)
