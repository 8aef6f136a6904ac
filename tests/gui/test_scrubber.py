"""The Scrubber tab, offscreen: forward frames, ε̂ and its error curve, sampling, cancel, branch, export.

Tiny untrained models only (an 8 px U-Net, a 16-unit MLP). Every wait is on a condition
(``qtbot.waitUntil`` / ``waitSignal``), and each test shuts the view's threads down.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.diffusion.model import DiffusionModel
from genstudio.gui.widgets.reverse_view import FINAL
from genstudio.gui.widgets.scrubber import ScrubberView
from genstudio.imaging import make_grid
from genstudio.models.eps_mlp import EpsMLP
from genstudio.sampling import SampleSpec

from tiny_models import tiny_image_model

WAIT_MS = 20_000


def shot_scrubber(*args, **kwargs):
    """docs/screenshots.py's scrubber shot (the screenshot tooling lives with the docs, not in the app)."""
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots.py"
    spec = importlib.util.spec_from_file_location("genstudio_docs_screenshots", path)
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    return screenshots.shot_scrubber(*args, **kwargs)


def image_model(num_steps: int = 40, channels: int = 1, size: int = 8) -> DiffusionModel:
    return tiny_image_model(num_steps, channels, size, data="shapes")


def points_model(num_steps: int = 30) -> DiffusionModel:
    torch.manual_seed(0)
    meta = {"kind": "diffusion", "data_kind": "points", "data": "ring8", "step": 0,
            "models": {"eps": {"arch": "mlp_eps", "args": {}}}, "schedule": {"kind": "linear", "num_steps": num_steps}}
    return DiffusionModel(EpsMLP(hidden=16, depth=1, t_dim=8), NoiseSchedule(num_steps), meta, torch.device("cpu"))


@pytest.fixture
def view(qtbot):
    v = ScrubberView()
    qtbot.addWidget(v)
    v.resize(1200, 850)
    v.show()
    yield v
    v.shutdown()
    assert not v.reverse.sampler.is_busy()


def wait_forward(qtbot, v: ScrubberView) -> None:
    qtbot.waitUntil(lambda: v.forward.state.process is not None and v.forward.predictions_idle(), timeout=WAIT_MS)


def sample(qtbot, v: ScrubberView, spec: SampleSpec):
    assert v.reverse.sample(spec)
    qtbot.waitUntil(lambda: not v.reverse.is_busy(), timeout=WAIT_MS)
    assert v.reverse.state.result is not None
    return v.reverse.state.result


# ---------------------------------------------------------------------------- forward
def test_forward_shows_the_image_at_0_and_noise_at_the_end(qtbot, view):
    wait_forward(qtbot, view)
    fwd = view.forward
    x0 = np.random.default_rng(0).uniform(-0.9, 0.9, (3, 32, 32)).astype(np.float32)
    x0[:, 8:24, 8:24] = 0.7  # a square: structure to correlate with
    fwd.set_image(x0, "test")
    fwd.set_timestep(0)
    assert fwd.state.timestep == 0 and fwd.plot.cursor() == 0
    shown = fwd.shown_xt().astype(int)
    want = make_grid(x0[None], pad=1).astype(int)
    diff = np.abs(shown - want)  # x_0 = 0.99995·x_0 + 0.01·ε: within a few levels, mostly 0–1
    assert np.median(diff) <= 1 and np.percentile(diff, 99) <= 3 and diff.max() <= 6
    fwd.set_timestep(999)
    # the readout is throttled to ~30 Hz: a move within 33 ms of the last one is drawn by a timer
    qtbot.waitUntil(lambda: "t = 999" in fwd.plot.readout(), timeout=1000)
    last = fwd.state.frame()
    assert abs(np.corrcoef(last.ravel(), x0.ravel())[0, 1]) < 0.1
    assert abs(last.std() - 1.0) < 0.05
    before = fwd.state.frame().copy()
    fwd.new_noise()
    assert not np.array_equal(before, fwd.state.frame())
    # another schedule without a model is not "compare mode"
    fwd.set_schedule("cosine", 200)
    assert fwd.state.schedule.kind == "cosine" and fwd.state.schedule.num_steps == 200 and not fwd.state.compare
    assert fwd.state.timestep == 199  # the slider kept its place (the end)


def test_model_predictions_error_curve_and_compare_mode(qtbot, view):
    model = image_model(num_steps=300)
    view.set_model(model)
    fwd = view.forward
    wait_forward(qtbot, view)
    assert fwd.state.process.x0.shape == (1, 1, 8, 8)  # the model's size and channels
    ts, errs = fwd.plot.errors()
    assert len(ts) == 100 and ts[0] == 0 and ts[-1] == 299 and np.all(np.isfinite(errs))
    fwd.set_timestep(150)
    qtbot.waitUntil(lambda: fwd.prediction() is not None and fwd.prediction()[0] == 150, timeout=WAIT_MS)
    t, eps_hat, x0_hat = fwd.prediction()
    x_t = fwd.state.frame()
    ref = model.eps(torch.from_numpy(x_t), torch.full((1,), 150)).numpy()
    np.testing.assert_allclose(eps_hat, ref, atol=1e-5)
    a, b = fwd.state.process.coefficients(150)
    np.testing.assert_allclose(x0_hat, (x_t - b * eps_hat) / a, atol=1e-4)
    fwd.set_schedule("cosine", 300)
    assert fwd.state.compare and fwd.prediction() is None and fwd.plot.errors()[0].size == 0
    fwd.set_schedule("linear", 300)
    assert not fwd.state.compare
    qtbot.waitUntil(lambda: fwd.predictions_idle() and fwd.plot.errors()[0].size == 100, timeout=WAIT_MS)
    assert view.status() == ""  # no job failed on the way


def test_drop_a_file_and_a_bad_file(qtbot, view, tmp_path):
    wait_forward(qtbot, view)
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, 10:30] = (255, 0, 0)  # the centre square is red
    Image.fromarray(a).save(tmp_path / "red.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "red.png"))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    view.forward.dropEvent(event)
    x0 = view.forward.state.process.x0
    assert x0.shape == (1, 3, 32, 32) and x0[0, 0].min() > 0.9 and x0[0, 1].max() < -0.9
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert not view.forward.load_file(str(tmp_path / "bad.png"))
    assert "bad.png" in view.status()


# ---------------------------------------------------------------------------- reverse
def test_final_step_shows_exactly_the_samples_and_clicks_select(qtbot, view):
    model = image_model()
    view.set_model(model)
    rev = view.reverse
    spec = SampleSpec(6, 3, "ddpm")
    result = sample(qtbot, view, spec)
    ref = model.sample(6, 3, sampler="ddpm")
    np.testing.assert_array_equal(result.final, ref.numpy())
    assert rev.bar.timestep() == FINAL  # the samples are shown first
    np.testing.assert_array_equal(rev.shown_grid(), make_grid(ref.numpy(), pad=1))
    rev.state.select(4)
    np.testing.assert_array_equal(rev.shown_selected(), make_grid(ref.numpy()[4:5], pad=1))
    traj = rev.state.result.trajectory
    for t in traj.timesteps:  # every recorded step can be shown
        rev.bar.set_timestep(int(t))
        k = rev.state.step_index()
        assert traj.timesteps[k] == t
    np.testing.assert_array_equal(rev.shown_grid(), make_grid(traj.x_t[-1].astype(np.float32), pad=1))
    # clicking a cell of the grid selects that sample
    rect = rev._grid.image_rect()
    canvas = rev._grid.layout().itemAt(1).widget()
    cell = rect.width() / rev.shown_grid().shape[1] * (8 + 1)  # 3 columns of 8 px + 1 px gaps
    p = canvas.mapTo(rev._grid, QPoint(int(rect.x() + 1.5 * cell), int(rect.y() + 1.5 * cell)))
    qtbot.mouseClick(rev._grid, Qt.MouseButton.LeftButton, pos=p)
    assert rev.state.selected == 4  # row 1, column 1 of 3
    rev._use.click()  # "Noise this sample" (synchronous)
    assert view.tabs.currentWidget() is view.forward
    np.testing.assert_allclose(view.forward.state.process.x0[0], result.final[4])


def test_cancel_stops_sampling_promptly(qtbot, view):
    view.set_model(image_model(num_steps=1000))
    rev = view.reverse
    with qtbot.waitSignal(rev.sampler.progress, timeout=WAIT_MS):
        assert rev.sample(SampleSpec(16, 0, "ddpm"))
    assert rev.is_busy() and rev.controls.cancel_button.isEnabled() and not rev.controls.go.isEnabled()
    started = time.monotonic()
    with qtbot.waitSignal(rev.sampler.cancelled, timeout=2000):
        rev.cancel()
    assert time.monotonic() - started < 2.0
    assert not rev.is_busy() and rev.sampler.thread is None
    assert rev.state.result is None and rev.shown_grid() is None
    assert rev.controls.go.isEnabled() and not rev.controls.cancel_button.isEnabled() and not rev.branch_panel.button.isEnabled()
    assert "cancelled" in view.status()
    qtbot.wait(50)  # nothing of the cancelled run arrives later
    assert rev.state.result is None
    # a recording that would not fit in memory is refused up front (4,096 × 3×8×8 × 1,000 steps: 4.7 GB)
    view.set_model(image_model(num_steps=1000, channels=3))
    assert not rev.sample(SampleSpec(4096, 0, "ddpm")) and "lower N" in view.status() and not rev.is_busy()


def test_branch_from_last_step_reproduces_and_from_first_differs(qtbot, view):
    view.set_model(image_model())
    rev = view.reverse
    result = sample(qtbot, view, SampleSpec(4, 1, "ddpm"))
    traj = result.trajectory
    rev.bar.set_timestep(0)  # the last recorded step
    assert rev.state.step_index() == len(traj) - 1
    assert rev.branch(seed=2)
    qtbot.waitUntil(lambda: rev.state.branch is not None and not rev.is_busy(), timeout=WAIT_MS)
    t, final, diff, _what = rev.state.branch
    assert t == 0 and diff == 0.0
    np.testing.assert_array_equal(final, result.final)
    assert "mean |difference| = 0.0000" in rev.branch_panel.summary()
    rev.bar.set_timestep(int(traj.timesteps[0]))  # the first step, t = T−1
    assert rev.branch(seed=2)
    qtbot.waitUntil(lambda: rev.state.branch[0] == 39 and not rev.is_busy(), timeout=WAIT_MS)
    assert rev.state.branch[2] > 0.1
    assert rev.state.result is result  # branching keeps the recording


def test_export_gif_and_frames(qtbot, view, tmp_path):
    view.set_model(image_model())
    sample(qtbot, view, SampleSpec(4, 0, "ddim", steps=10))
    assert view.reverse.export_gif(str(tmp_path / "rev.gif"))
    with Image.open(tmp_path / "rev.gif") as im:
        assert im.n_frames >= 11
    assert view.reverse.export_frames(str(tmp_path / "frames"))
    assert len(list((tmp_path / "frames").glob("*.png"))) == 11  # 10 steps + final


def test_exports_come_out_at_the_chosen_size(qtbot, view, tmp_path):
    view.set_model(image_model())
    rev = view.reverse
    sample(qtbot, view, SampleSpec(4, 0, "ddim", steps=3))
    native = rev.shown_grid()  # 2 × 2 grid of 8 px samples, 1 px apart: 19 px
    assert native.shape[:2] == (19, 19)
    assert rev.export_size.long_side() == 512  # the default: not a 19 px file
    assert rev.export_gif(str(tmp_path / "rev.gif"))
    with Image.open(tmp_path / "rev.gif") as im:
        assert im.size == (512, 512)
    for size, smooth in ((256, False), (1024, True), (None, False)):
        rev.export_size.set_long_side(size)
        rev.export_size.set_smooth(smooth)
        folder = tmp_path / f"frames{size}"
        assert rev.export_frames(str(folder))
        with Image.open(folder / "final.png") as im:
            final = np.asarray(im.convert("RGB"))
        assert final.shape[:2] == ((size, size) if size else (19, 19))
        if size == 256:  # nearest: the same colours as the grid, only bigger blocks
            assert {tuple(c) for c in final.reshape(-1, 3)} <= {tuple(c) for c in make_grid(
                rev.state.result.final, pad=1).reshape(-1, 3)}
        if smooth:  # Lanczos makes in-between colours
            assert len(np.unique(final.reshape(-1, 3), axis=0)) > len(np.unique(native.reshape(-1, 3), axis=0))


def test_points_model_exports_a_scatter_plot(qtbot, view, tmp_path):
    view.set_model(points_model())
    rev = view.reverse
    sample(qtbot, view, SampleSpec(200, 0, "ddim", steps=4))
    assert rev.export_frames(str(tmp_path / "frames"))
    assert rev.export_gif(str(tmp_path / "rev.gif"))
    with Image.open(tmp_path / "frames" / "final.png") as im:
        pic = np.asarray(im.convert("RGB")).astype(int)
    assert pic.shape == (512, 512, 3)
    pink = (pic[..., 0] > 200) & (pic[..., 1] < 130) & (pic[..., 2] > 200)  # samples
    green = (pic[..., 1] > pic[..., 0] + 30) & (pic[..., 1] > pic[..., 2] + 20)  # real data, fainter
    assert pink.sum() > 200 and green.sum() > 200
    grey_rows = (np.abs(pic - [170, 175, 185]).sum(axis=-1) < 10).sum(axis=1)
    assert grey_rows.max() > 300  # the axes box: a long light line
    with Image.open(tmp_path / "rev.gif") as im:
        assert im.size == (512, 512) and im.n_frames >= 5


def test_points_model_forward_cloud_and_reverse_field(qtbot, view):
    view.set_model(points_model())
    fwd, rev = view.forward, view.reverse
    wait_forward(qtbot, view)
    assert fwd.state.process.x0.shape == (1000, 2)
    fwd.set_timestep(10)
    qtbot.waitUntil(lambda: fwd._points.arrow_count() == 400 and fwd.predictions_idle(), timeout=WAIT_MS)
    assert fwd._points.fake_count() == 1000 and fwd.plot.errors()[0].size == 30
    sample(qtbot, view, SampleSpec(200, 0, "ddim", steps=5))
    assert rev._cloud.fake_count() == 200
    rev.bar.set_timestep(int(rev.state.result.trajectory.timesteps[1]))
    qtbot.waitUntil(lambda: rev._cloud.arrow_count() == 400, timeout=WAIT_MS)
    assert rev.branch(seed=5)
    qtbot.waitUntil(lambda: rev.state.branch is not None and not rev.is_busy(), timeout=WAIT_MS)
    assert view.status() == ""


def contains(box, lo, hi) -> bool:
    xmin, xmax, ymin, ymax = box
    return xmin <= lo[0] and hi[0] <= xmax and ymin <= lo[1] and hi[1] <= ymax


def test_2d_plots_are_framed_on_the_data_and_arrows_have_heads(qtbot, view):
    view.set_model(points_model())
    fwd, rev = view.forward, view.reverse
    wait_forward(qtbot, view)
    # the forward view: ring8 (radius 2) and ε (x_T ≈ ε), not a fixed ±3 or an auto-range of ±9
    ring, eps = fwd.state.process.x0, fwd.state.process.eps
    box = fwd._points.view_range()
    assert contains(box, ring.min(axis=0), ring.max(axis=0))
    assert contains(box, np.percentile(eps, 1, axis=0), np.percentile(eps, 99, axis=0))
    assert box[3] - box[2] < 6.0  # the short side (the plot is wider than tall): about ±2.7, not ±3
    # the reverse view before sampling: the data alone, with a margin
    ext = rev.extent()
    assert contains(ext, ring.min(axis=0), ring.max(axis=0)) and max(map(abs, ext)) < 2.6
    yr = rev._cloud.view_range()[2:]
    assert yr[0] < -2.0 and yr[1] > 2.0 and yr[1] - yr[0] < 5.5
    # after sampling: the box also holds the central 98 % of x_T, for every step (no jumps)
    traj = sample(qtbot, view, SampleSpec(500, 0, "ddim", steps=5)).trajectory
    x_T = traj.x_t[0].astype(np.float32)
    ext = rev.extent()
    assert contains(ext, np.percentile(x_T, 1, axis=0), np.percentile(x_T, 99, axis=0))
    rev.bar.set_timestep(int(traj.timesteps[2]))
    qtbot.waitUntil(lambda: rev._cloud.arrow_count() == 400, timeout=WAIT_MS)
    assert rev.extent() == ext
    segs = rev._cloud.arrow_segments()  # (K, 3, 2, 2): shaft, left barb, right barb
    shaft = segs[:, 0, 1] - segs[:, 0, 0]
    origins = segs[:, 0, 0]
    assert origins[:, 0].min() == pytest.approx(ext[0]) and origins[:, 1].max() == pytest.approx(ext[3])
    for b in (1, 2):
        np.testing.assert_allclose(segs[:, b, 0], segs[:, 0, 1])  # each barb starts at the tip
        barb = segs[:, b, 1] - segs[:, b, 0]
        long = np.linalg.norm(shaft, axis=1) > 1e-6
        cos = -(barb * shaft).sum(axis=1)[long] / (np.linalg.norm(barb, axis=1) * np.linalg.norm(shaft, axis=1))[long]
        np.testing.assert_allclose(cos, np.cos(np.deg2rad(28.0)), atol=1e-6)  # pointing back, 28° off
        np.testing.assert_allclose(np.linalg.norm(barb, axis=1), 0.35 * np.linalg.norm(shaft, axis=1), atol=1e-9)


# ---------------------------------------------------------------------------- the tab
def test_snapshot_button_gan_refusal_play_and_shot(qtbot, view, tmp_path):
    with qtbot.waitSignal(view.snapshotRequested, timeout=1000):
        view.use_trained.click()

    class FakeGan:
        kind = "gan"

    view.set_model(FakeGan())
    assert view.model() is None and "GAN" in view.status()
    wait_forward(qtbot, view)
    bar = view.forward.bar
    bar.set_speed(1000)
    bar.set_timestep(900)
    bar.play()
    qtbot.waitUntil(lambda: not bar.is_playing(), timeout=WAIT_MS)
    assert bar.timestep() == 999
    view.set_model(image_model())
    paths = shot_scrubber(view, tmp_path, t=20)
    assert [p.name for p in paths] == ["scrubber_forward.png", "scrubber_reverse.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_shutdown_while_sampling_ends_the_thread(qtbot):
    v = ScrubberView()
    qtbot.addWidget(v)
    v.set_model(image_model(num_steps=1000))
    with qtbot.waitSignal(v.reverse.sampler.progress, timeout=WAIT_MS):
        assert v.reverse.sample(SampleSpec(8, 0, "ddpm"))
    started = time.monotonic()
    v.close()  # closeEvent -> shutdown: cancel, wait
    assert time.monotonic() - started < 2.0
    assert not v.reverse.is_busy() and v.reverse.state.result is None
    assert not v.reverse.sample()  # refused after shutdown


def test_the_shipped_sample_pictures_load_in_the_forward_view(qtbot):
    from pathlib import Path

    from genstudio.gui.widgets.forward_view import ForwardView
    from genstudio.gui.widgets.image_source import samples_folder

    pictures = sorted(Path(samples_folder()).glob("*.png"))
    assert {p.stem for p in pictures} >= {"face", "digit", "shape"}
    view = ForwardView()
    qtbot.addWidget(view)
    try:
        for path in pictures:
            assert view.load_file(str(path))
            view.set_timestep(0)
            frame = view.shown_xt()
            assert frame is not None and frame.std() > 0.05  # the picture itself, not a blank
    finally:
        view.shutdown()


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_a_preview_is_shown_while_sampling(qtbot, view, sampler):
    view.set_model(image_model(num_steps=40))
    rev = view.reverse
    seen = []  # (t, caption of the grid, still busy) when each preview had been drawn

    def spy(job, t, x_t, x0):  # connected after the view: runs once the view has drawn it
        seen.append((t, rev.grid_view().caption(), rev.is_busy(), rev.state.result is None, x_t.shape, x0.dtype))

    rev.sampler.preview.connect(spy)
    started = time.monotonic()
    result = sample(qtbot, view, SampleSpec(4, 0, sampler, steps=10))
    elapsed = time.monotonic() - started
    assert seen, "no preview before the samples"
    t, caption, busy, no_result, shape, dtype = seen[0]
    assert t == int(result.trajectory.timesteps[0]) and "sampling… t = " in caption and busy and no_result
    assert shape == (4, 1, 8, 8) and dtype == np.float32
    assert len(seen) <= elapsed * 10 + 2  # at most ~10 a second
    assert "sampling" not in rev.grid_view().caption()  # the recording replaced the preview


def test_sampling_progress_carries_the_step_for_previews():
    from genstudio.sampling import SamplingProgress, sampling_run

    events = list(sampling_run(image_model(num_steps=20), SampleSpec(2, 0, "ddpm"), record=False))
    progress = [e for e in events if isinstance(e, SamplingProgress)]
    assert [e.t for e in progress] == list(range(19, -1, -1))
    assert tuple(progress[0].x_t.shape) == (2, 1, 8, 8) and tuple(progress[0].x0.shape) == (2, 1, 8, 8)


def test_a_2d_model_previews_its_moving_cloud(qtbot, view):
    view.set_model(points_model(num_steps=30))
    rev = view.reverse
    seen = []
    rev.sampler.preview.connect(lambda job, t, x_t, x0: seen.append((t, rev.preview_caption(), rev._cloud.fake_count())))
    sample(qtbot, view, SampleSpec(300, 0, "ddpm"))
    assert seen and seen[0][0] == 29 and seen[0][1].startswith("sampling… t = 29") and seen[0][2] == 300
    assert not rev.preview_caption().startswith("sampling")
