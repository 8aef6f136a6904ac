"""The scrubber's Qt-free helpers: forward frames, ε̂ and its error curve, sampling runs, branching, export."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.diffusion.schedule import NoiseSchedule, predict_x0, q_sample
from genstudio.diffusion.model import DiffusionModel
from genstudio.models.eps_mlp import EpsMLP
from genstudio.sampling import SampleSpec, SamplingProgress, SamplingResult, branch_start, sampling_run
from genstudio.scrub import (
    ForwardProcess,
    dataset_items,
    eps_field,
    error_curve,
    error_curve_steps,
    even_timesteps,
    export_frames,
    export_gif,
    field_arrows,
    load_image_file,
    mean_abs_difference,
    points_image,
    predict,
    schedule_curves,
    trajectory_frames,
)

from tiny_models import tiny_image_model


def tiny_points_model(num_steps: int = 30) -> DiffusionModel:
    torch.manual_seed(0)
    meta = {"kind": "diffusion", "data_kind": "points", "data": "ring8",
            "models": {"eps": {"arch": "mlp_eps", "args": {}}}, "schedule": {"kind": "linear", "num_steps": num_steps}}
    return DiffusionModel(EpsMLP(hidden=16, depth=1, t_dim=8), NoiseSchedule(num_steps), meta, torch.device("cpu"))


class OracleModel:
    """Knows x_0, so it returns the true ε of any x_t built from it: ε = (x_t − √ᾱ·x_0)/√(1−ᾱ)."""

    def __init__(self, x0: np.ndarray, schedule: NoiseSchedule):
        self.x0, self.schedule = torch.from_numpy(x0), schedule
        self.calls = 0

    def eps(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        a = self.schedule.sqrt_alphas_cumprod[t].reshape(-1, *[1] * (x_t.ndim - 1))
        b = self.schedule.sqrt_one_minus_alphas_cumprod[t].reshape(a.shape)
        x0 = self.x0.repeat(x_t.shape[0] // self.x0.shape[0], *[1] * (x_t.ndim - 1))
        return (x_t - a * x0) / b


# ---------------------------------------------------------------------------- forward process
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_curves(kind):
    s = NoiseSchedule(200, kind)
    c = schedule_curves(s)
    np.testing.assert_allclose(c.signal**2 + c.noise**2, 1.0, atol=1e-12)
    assert np.all(np.diff(c.signal) < 0) and np.all(np.diff(c.log_snr) < 0)
    np.testing.assert_allclose(c.log_snr, s.log_snr.numpy(), rtol=1e-4, atol=1e-4)
    assert c.t.tolist() == list(range(200))


def test_forward_frames_match_q_sample_and_end_in_noise():
    x0 = dataset_items("faces", 32, 3, 4)[:1]  # (1, 3, 32, 32)
    s = NoiseSchedule(1000, "linear")
    fp = ForwardProcess(x0, s, seed=3)
    for t in (0, 1, 250, 999):
        ref = q_sample(torch.from_numpy(x0), t, torch.from_numpy(fp.eps), s).numpy()
        np.testing.assert_allclose(fp.frame(t), ref, atol=1e-6)
    d0 = np.abs(fp.frame(0) - x0)  # √ᾱ_0 ≈ 0.99995, √(1−ᾱ_0) = √β_0 = 0.01: 0.01·ε remains
    assert d0.mean() < 0.01 and d0.max() < 0.06
    last = fp.frame(999)
    assert abs(np.corrcoef(last.ravel(), x0.ravel())[0, 1]) < 0.1
    assert abs(last.std() - 1.0) < 0.05
    eps_before = fp.eps.copy()
    fp.new_noise(4)
    assert not np.array_equal(eps_before, fp.eps)
    fp.set_schedule(NoiseSchedule(50, "cosine"))
    assert fp.num_steps == 50 and fp.frame(49).shape == x0.shape


def test_predict_gives_x0_hat_consistent_with_core():
    model = tiny_image_model()
    x_t = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    eps, x0 = predict(model, x_t, 17)
    ref = model.eps(torch.from_numpy(x_t), torch.full((2,), 17)).numpy()
    np.testing.assert_allclose(eps, ref, atol=1e-6)
    np.testing.assert_allclose(x0, predict_x0(torch.from_numpy(x_t), 17, torch.from_numpy(eps),
                                               model.schedule).numpy(), atol=1e-4)


def test_error_curve_is_zero_for_an_oracle_and_chunking_does_not_matter():
    s = NoiseSchedule(300)
    x0 = np.random.default_rng(1).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
    fp = ForwardProcess(x0, s, seed=0)
    ts = even_timesteps(300, 100)
    assert ts[0] == 0 and ts[-1] == 299 and len(ts) == 100
    oracle = OracleModel(x0, s)
    assert np.max(error_curve(oracle, x0, fp.eps, ts)) < 1e-6
    model = tiny_image_model(300, channels=3)
    whole = error_curve(model, x0, fp.eps, ts)
    chunks = list(error_curve_steps(model, x0, fp.eps, ts, max_elements=192 * 7))
    assert len(chunks) == 15  # 7 timesteps of 192 values per call
    np.testing.assert_allclose(np.concatenate([e for _, e in chunks]), whole, rtol=1e-4)
    np.testing.assert_array_equal(np.concatenate([t for t, _ in chunks]), ts)
    # the curve at one t is the mean squared ε − ε̂ of what predict() shows there
    eps_hat, _ = predict(model, fp.frame(int(ts[40])), int(ts[40]))
    assert whole[40] == pytest.approx(np.mean((eps_hat - fp.eps) ** 2), rel=1e-4)


# ---------------------------------------------------------------------------- reverse process
@pytest.mark.parametrize("spec", [SampleSpec(3, 5, "ddpm"), SampleSpec(3, 5, "ddim", steps=10, eta=0.5)])
def test_sampling_run_matches_model_sample(spec):
    model = tiny_image_model()
    events = list(sampling_run(model, spec))
    progress, result = events[:-1], events[-1]
    assert all(isinstance(e, SamplingProgress) for e in progress) and isinstance(result, SamplingResult)
    total = spec.total_steps(40)
    assert [e.done for e in progress] == list(range(1, total + 1)) and progress[-1].total == total
    ref = model.sample(spec.n, spec.seed, sampler=spec.sampler, steps=spec.steps, eta=spec.eta)
    np.testing.assert_array_equal(result.final, ref.numpy())
    traj = result.trajectory
    assert len(traj) == total and traj.x_t.dtype == np.float32  # small: recorded exactly
    assert traj.timesteps[0] == (39 if spec.sampler == "ddpm" else 36) and traj.timesteps[-1] == 0


def test_closing_the_run_stops_the_sampler():
    model = tiny_image_model(1000)
    calls = []
    run = sampling_run(model, SampleSpec(2, 0, "ddpm"))
    orig = model.eps
    model.eps = lambda x, t: (calls.append(1), orig(x, t))[1]
    assert next(run).done == 1
    run.close()
    assert len(calls) == 1


def test_branch_from_last_step_reproduces_and_from_first_differs():
    model = tiny_image_model()
    spec = SampleSpec(4, 7, "ddpm")
    result = list(sampling_run(model, spec))[-1]
    traj = result.trajectory
    new_seed = SampleSpec(4, 8, "ddpm")

    def branch(k: int, s: SampleSpec) -> np.ndarray:
        x, index = branch_start(traj, k)
        return list(sampling_run(model, s, record=False, start_x=x, start_index=index))[-1].final

    np.testing.assert_array_equal(branch(len(traj) - 1, new_seed), result.final)  # t = 0 adds no noise
    np.testing.assert_array_equal(branch(20, spec), result.final)  # same seed retraces the run
    assert mean_abs_difference(branch(0, new_seed), result.final) > 0.1
    with pytest.raises(IndexError):
        branch_start(traj, len(traj))


def test_branch_of_a_ddim_trajectory_with_new_eta():
    model = tiny_image_model()
    spec = SampleSpec(2, 1, "ddim", steps=8, eta=0.0)
    result = list(sampling_run(model, spec))[-1]
    x, index = branch_start(result.trajectory, 3)
    assert index == 3
    same = list(sampling_run(model, SampleSpec(2, 99, "ddim", steps=8), record=False, start_x=x, start_index=index))
    np.testing.assert_allclose(same[-1].final, result.final, atol=1e-5)  # η = 0: the seed is irrelevant
    noisy = list(sampling_run(model, SampleSpec(2, 99, "ddim", steps=8, eta=1.0), record=False, start_x=x,
                              start_index=index))
    assert mean_abs_difference(noisy[-1].final, result.final) > 0.01


# ---------------------------------------------------------------------------- 2-D and export
def test_points_model_field_and_picture():
    model = tiny_points_model()
    origins, eps = eps_field(model, 10, (-3, 3, -2, 2), n=20)
    assert origins.shape == eps.shape == (400, 2)
    assert origins[:, 0].min() == -3 and origins[:, 1].max() == 2
    arrows = field_arrows(eps, 0.3)
    assert np.linalg.norm(arrows, axis=1).max() == pytest.approx(0.27)
    np.testing.assert_allclose(arrows / np.linalg.norm(arrows, axis=1, keepdims=True),
                               -eps / np.linalg.norm(eps, axis=1, keepdims=True), atol=1e-6)
    result = list(sampling_run(model, SampleSpec(50, 0, "ddim", steps=5)))[-1]
    assert result.final.shape == (50, 2) and result.trajectory.x_t.shape == (5, 50, 2)
    img = points_image(np.array([[0.0, 0.0], [10.0, 10.0]]), (-1, 1, -1, 1), size=64)
    assert img.shape == (64, 64, 3) and (img != 22).any(axis=-1).sum() == 4  # one 2×2 dot; the other is off


def test_export_gif_and_frames(tmp_path):
    model = tiny_image_model()
    traj = list(sampling_run(model, SampleSpec(4, 0, "ddpm")))[-1].trajectory
    frames = trajectory_frames(traj, max_frames=11)
    assert len(frames) == 11 and frames[0][0] == 39 and frames[-2][0] == 0 and frames[-1][0] == -1
    path = export_gif(tmp_path / "rev.gif", traj, fps=10, max_frames=11, hold_final_s=0.5)
    with Image.open(path) as im:
        assert im.n_frames >= 10 and im.size == (frames[0][1].shape[1], frames[0][1].shape[0])
    paths = export_frames(tmp_path / "frames", traj, what="x0")
    assert len(paths) == 41 and paths[0].name == "step_0000_t0039.png" and paths[-1].name == "final.png"
    np.testing.assert_array_equal(np.asarray(Image.open(paths[-1])), frames[-1][1])


def test_load_image_file_crops_and_resizes(tmp_path):
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, 20:60] = 255  # the centre square is white, the sides black
    Image.fromarray(a).save(tmp_path / "wide.png")
    x = load_image_file(tmp_path / "wide.png", size=16, channels=3)
    assert x.shape == (3, 16, 16) and x.dtype == np.float32 and x.min() > 0.9
    assert load_image_file(tmp_path / "wide.png", size=8, channels=1).shape == (1, 8, 8)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="bad.png"):
        load_image_file(tmp_path / "bad.png")


def test_scrub_is_qt_free():
    code = "import sys, genstudio.scrub; assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
