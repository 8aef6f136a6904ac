"""The Latent tab, offscreen: sliders, seeds, truncation, clipboard, files, interpolation, 2-D pad.

Every test waits for the background renderer deterministically (``view.idle()``: each kind's
newest request answered) and shuts the render thread down at the end.
"""

from __future__ import annotations

import math
import sys
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from genstudio.gan.model import GanModel
from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.latent_panel import LatentView
from genstudio.imaging import to_uint8
from genstudio.latent import encode_z
from genstudio.models.dcgan import DCGANGenerator
from genstudio.models.mlp import MLPGenerator

WAIT_MS = 20_000


def image_model(nz: int = 16, seed: int = 0) -> GanModel:
    """An untrained 32 px DCGAN whose pictures vary visibly (He-scaled weights, not N(0, 0.02))."""
    torch.manual_seed(seed)
    G = DCGANGenerator(nz=nz, ngf=8, nc=3, size=32)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, nn.ConvTranspose2d):
                cin, _, k, _ = m.weight.shape
                m.weight.normal_(0.0, math.sqrt(2.0 / (cin * k * k / m.stride[0] ** 2)))
    meta = {"kind": "gan", "data_kind": "images", "step": 0, "data": "faces",
            "models": {"G": {"arch": "dcgan_g", "args": {"nz": nz, "ngf": 8, "nc": 3, "size": 32}}}}
    return GanModel(G, meta, torch.device("cpu"))


def points_model(seed: int = 0) -> GanModel:
    torch.manual_seed(seed)
    G = MLPGenerator(nz=2, hidden=32, depth=2, out_dim=2)
    meta = {"kind": "gan", "data_kind": "points", "step": 0, "data": "ring8",
            "models": {"G": {"arch": "mlp_g", "args": {"nz": 2, "hidden": 32, "depth": 2, "out_dim": 2}}}}
    return GanModel(G, meta, torch.device("cpu"))


@pytest.fixture
def view(qtbot):
    v = LatentView()
    qtbot.addWidget(v)
    v.resize(1100, 800)
    yield v
    v.shutdown()
    assert not v.renderer().is_running()


def settle(qtbot, view):
    qtbot.waitUntil(view.idle, timeout=WAIT_MS)


def shown_for(model: GanModel, z: np.ndarray) -> np.ndarray:
    """What the view should show for z: G(z) alone, as uint8 (H, W, 3)."""
    return to_uint8(model.generate(torch.from_numpy(z[None])).numpy())[0]


# --------------------------------------------------------------------------- image models
def test_slider_moves_change_the_image_and_moving_back_restores_it(qtbot, view):
    model = image_model()
    view.set_model(model)
    settle(qtbot, view)
    first = view.image()
    assert first is not None and first.shape == (32, 32, 3)
    np.testing.assert_array_equal(first, shown_for(model, model.noise(1, 0)[0].numpy()))

    for sliders in (view.dimension_sliders(), view.direction_sliders()):
        assert sliders.count() > 0
        slider = sliders.slider(0)
        start = slider.value()
        for offset in (60, 120, 250):  # a drag: several valueChanged in a row
            slider.setValue(start + offset)
        assert view.requested_seq() > view.rendered_seq() or view.idle()
        settle(qtbot, view)
        moved = view.image()
        assert not np.array_equal(moved, first)
        np.testing.assert_array_equal(moved, shown_for(model, view.state.current_z()))
        slider.setValue(start)
        settle(qtbot, view)
        np.testing.assert_array_equal(view.image(), first)  # bit for bit


def test_same_seed_same_image_and_reset(qtbot, view):
    model = image_model()
    view.set_model(model)
    view.state.set_seed(7)
    settle(qtbot, view)
    seven = view.image()
    np.testing.assert_array_equal(view.state.current_z(), model.noise(1, 7)[0].numpy())
    view.state.set_seed(8)
    settle(qtbot, view)
    assert not np.array_equal(view.image(), seven)
    view.state.set_seed(7)
    settle(qtbot, view)
    np.testing.assert_array_equal(view.image(), seven)
    view.dimension_sliders().slider(2).setValue(-300)
    view.state.set_psi(0.3)
    settle(qtbot, view)
    view.reset()
    settle(qtbot, view)
    np.testing.assert_array_equal(view.image(), seven)


def test_truncation_scales_z(qtbot, view):
    model = image_model()
    view.set_model(model)
    settle(qtbot, view)
    z = view.state.current_z()
    view.state.set_psi(0.5)
    np.testing.assert_allclose(view.state.current_z(), 0.5 * z, rtol=1e-6)
    view.state.set_psi(0.0)
    settle(qtbot, view)
    np.testing.assert_array_equal(view.state.current_z(), np.zeros_like(z))
    np.testing.assert_array_equal(view.image(), shown_for(model, np.zeros_like(z)))


def test_locked_dimensions_survive_random(qtbot, view):
    view.set_model(image_model())
    settle(qtbot, view)
    sliders = view.dimension_sliders()
    sliders.slider(3).setValue(321)
    sliders.set_locked(3)
    sliders.set_locked(5)
    before = view.state.current_z()
    seed = view.state.seed
    view.random()
    settle(qtbot, view)
    after = view.state.current_z()
    assert view.state.seed != seed
    assert after[3] == before[3] and after[5] == before[5]
    assert np.count_nonzero(after != before) >= 12


def test_copy_paste_and_bad_paste(qtbot, view):
    model = image_model()
    view.set_model(model)
    settle(qtbot, view)
    text = view.copy_z()
    z = view.state.current_z()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == text
    for bad in ("not a latent", "[1, 2, 3]", "[1, NaN" + ", 0" * 14 + "]"):
        assert view.paste_z(bad) is False
        assert view.message().startswith("Paste z:")
        np.testing.assert_array_equal(view.state.current_z(), z)  # unchanged
    other = model.noise(1, 99)[0].numpy()
    QGuiApplication.clipboard().setText(encode_z(other))
    view.z_action("Paste z").trigger()  # the menu entry, as a person would
    assert view.message() == "Pasted z."
    settle(qtbot, view)
    np.testing.assert_array_equal(view.state.current_z(), other)
    np.testing.assert_array_equal(view.image(), shown_for(model, other))
    QGuiApplication.clipboard().setText("")
    assert view.paste_z() is False and "empty" in view.message()


def test_save_png_with_z_and_seed_and_npy(qtbot, view, tmp_path):
    view.set_model(image_model())
    view.state.set_seed(42)
    settle(qtbot, view)
    out = view.save_image(tmp_path / "pic.png")
    with Image.open(out) as im:
        assert im.text["seed"] == "42"
        assert view.image().shape == (32, 32, 3) and im.size == (512, 512)  # the default export size
        # nearest neighbour: each model pixel a 16 × 16 block
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), view.image().repeat(16, 0).repeat(16, 1))
        z = np.asarray(eval(im.text["z"]), np.float32)  # a JSON list of numbers
    np.testing.assert_array_equal(z, view.state.current_z())
    npy = view.save_z(tmp_path / "z")
    np.testing.assert_array_equal(np.load(npy), view.state.current_z())
    size = view.interpolation().export_size
    size.set_long_side(None)  # native: one pixel per model pixel
    with Image.open(view.save_image(tmp_path / "native.png")) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), view.image())
    size.set_long_side(1024)
    size.set_smooth(True)
    with Image.open(view.save_image(tmp_path / "big.png")) as im:
        big = np.asarray(im.convert("RGB"))
    assert big.shape == (1024, 1024, 3)
    assert len(np.unique(big.reshape(-1, 3), axis=0)) > len(np.unique(view.image().reshape(-1, 3), axis=0))


def test_save_png_of_a_2d_model_is_a_scatter_plot(qtbot, view, tmp_path):
    view.set_model(points_model())
    settle(qtbot, view)
    qtbot.waitUntil(lambda: view._pad.cloud_count() > 0, timeout=WAIT_MS)
    settle(qtbot, view)
    out = view.save_image(tmp_path / "points.png")
    with Image.open(out) as im:
        assert im.size == (512, 512) and im.text["seed"] == str(view.state.seed)
        pic = np.asarray(im.convert("RGB")).astype(int)
    pink = (pic[..., 0] > 200) & (pic[..., 1] < 130) & (pic[..., 2] > 200)  # G's cloud
    green = (pic[..., 1] > pic[..., 0] + 30) & (pic[..., 1] > pic[..., 2] + 20)  # ring8, faint
    yellow = (pic[..., 0] > 240) & (pic[..., 1] > 190) & (pic[..., 2] < 60)  # the current G(z)
    assert pink.sum() > 100 and green.sum() > 100 and yellow.sum() > 20


def test_interpolation_ends_are_a_and_b_and_gif_export(qtbot, view, tmp_path):
    model = image_model()
    view.set_model(model)
    panel = view.interpolation()
    view.state.set_seed(1)
    settle(qtbot, view)
    a_img, a = view.image(), view.state.current_z()
    panel.endpointRequested.emit("A")
    view.state.set_seed(2)
    settle(qtbot, view)
    b_img, b = view.image(), view.state.current_z()
    panel.endpointRequested.emit("B")
    np.testing.assert_array_equal(view.state.endpoint("A"), a)
    for method in ("linear", "slerp"):
        view.state.set_method(method)
        for t, expected in ((0.0, a_img), (1.0, b_img)):
            view.state.set_t(t)
            settle(qtbot, view)
            np.testing.assert_array_equal(panel.preview_image(), expected)
        view.state.set_t(0.5)
        settle(qtbot, view)
        assert not np.array_equal(panel.preview_image(), a_img)
    strip = panel.strip_image()
    assert strip.shape == (32 + 2, 8 * 33 + 1, 3)  # 8 frames in a row, 1 px apart
    np.testing.assert_array_equal(view.state.walk(8)[0], a)
    np.testing.assert_array_equal(view.state.walk(8)[-1], b)

    panel.export_gif(tmp_path / "walk.gif", n_frames=6)
    settle(qtbot, view)
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.is_animated and gif.n_frames == 6
        assert gif.size == (512, 512)  # the default export size, not the model's 32 px
    assert "walk.gif" in view.message()
    for size in (256, None):
        panel.export_size.set_long_side(size)
        panel.export_gif(tmp_path / f"walk{size}.gif", n_frames=3)
        settle(qtbot, view)
        with Image.open(tmp_path / f"walk{size}.gif") as gif:
            assert gif.size == ((size, size) if size else (32, 32))


def test_neighbourhood_grid_rows_and_columns(qtbot, view):
    view.set_model(image_model())
    view.show_neighbourhood()
    settle(qtbot, view)
    assert view.state.directions is not None
    grid = view.neighbourhood_image()
    assert grid.shape == (5 * 33 + 1, 7 * 33 + 1, 3)  # top 5 directions x 7 steps
    middle = grid[1:33, 3 * 33 + 1:4 * 33]  # row 1, column 4: σ = 0, the current z
    np.testing.assert_array_equal(middle, view.image())


def test_snapshot_button_new_models_and_no_model(qtbot, view):
    with qtbot.waitSignal(view.snapshotRequested, timeout=1000):
        view._snapshot.click()
    view.set_model(image_model(seed=0))
    view.state.set_seed(5)
    settle(qtbot, view)
    z, before = view.state.current_z(), view.image()
    view.set_model(image_model(seed=1))  # a newer snapshot of the same run: z is kept
    settle(qtbot, view)
    np.testing.assert_array_equal(view.state.current_z(), z)
    assert view.state.seed == 5 and not np.array_equal(view.image(), before)
    view.set_model(image_model(nz=8))  # another latent size: a fresh draw
    view.set_model(None)  # while its renders are in flight: they must not arrive
    settle(qtbot, view)
    assert view.image() is None and view.paste_z("[1]") is False


# --------------------------------------------------------------------------- 2-D models
def test_pad_moves_the_output_point(qtbot, view):
    model = points_model()
    view.set_model(model)
    settle(qtbot, view)
    pad = view.pad()
    assert pad.cloud_count() == 2000 and pad.warped_grid().shape[0] == 22 * 64
    before = pad.output_point().copy()
    pad.set_latent_point(1.25, -0.5)  # TargetItem.setPos: the path a drag takes
    settle(qtbot, view)
    z = view.state.current_z()
    np.testing.assert_allclose(z, [1.25, -0.5], rtol=1e-6)
    shown = pad.output_point()
    assert not np.allclose(shown, before)
    np.testing.assert_allclose(shown, model.generate(torch.from_numpy(z[None]))[0].numpy(), rtol=1e-6)
    assert view.dimension_sliders().values()[0] == pytest.approx(1.25)
    view.dimension_sliders().slider(1).setValue(100)  # a slider moves the pad's target too
    settle(qtbot, view)
    z2 = view.dimension_sliders().values()[1]
    assert abs(z2 - 1.0) < 0.01 and pad.latent_point() == pytest.approx((1.25, z2))


# --------------------------------------------------------------------------- the render worker
def test_render_controller_drops_superseded_jobs(qtbot):
    ctrl = RenderController()
    ran, shown = [], []
    ctrl.rendered.connect(lambda kind, seq, result: shown.append(result))

    def job(i):
        def fn(progress):
            ran.append(i)
            time.sleep(0.02)
            return i
        return fn

    for i in range(30):
        ctrl.submit("main", job(i))
    qtbot.waitUntil(ctrl.idle, timeout=WAIT_MS)
    assert shown == [29]  # every older result was superseded before it could be shown
    assert ran[-1] == 29 and len(ran) <= 5  # queued jobs were replaced, not run
    ctrl.submit("oops", lambda progress: 1 / 0)
    with qtbot.waitSignal(ctrl.failed, timeout=WAIT_MS) as failed:
        pass
    assert failed.args[0] == "oops" and "ZeroDivisionError" in failed.args[2]
    ctrl.shutdown()
    assert not ctrl.is_running()
    assert ctrl.submit("main", job(99)) == 0 and ctrl.requested_seq() == 30  # ignored after shutdown


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread OpenMP limit is Linux-only")
def test_render_thread_limits_only_its_own_torch_threads(qtbot):
    before = torch.get_num_threads()
    ctrl = RenderController(torch_threads=1)
    with qtbot.waitSignal(ctrl.rendered, timeout=WAIT_MS) as got:
        ctrl.submit("main", lambda progress: torch.get_num_threads())
    assert got.args[2] == 1
    assert torch.get_num_threads() == before  # the GUI thread keeps its own
    seen = []
    other = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    other.start()
    other.join()
    assert seen == [before] or before == 1  # threads started later still get torch's default
    ctrl.shutdown()


def test_long_job_stops_at_shutdown(qtbot):
    ctrl = RenderController()
    started = threading.Event()

    def slow(progress):
        started.set()
        for i in range(500):
            time.sleep(0.01)
            progress(i / 500)  # raises once the controller shuts down
        return "finished"

    ctrl.submit("directions", slow)
    assert started.wait(5)
    t0 = time.monotonic()
    ctrl.shutdown()
    assert time.monotonic() - t0 < 2.0 and not ctrl.is_running()  # not the 5 s the job wanted


def test_closing_the_view_stops_its_thread(qtbot):
    v = LatentView()
    qtbot.addWidget(v)
    v.set_model(image_model())
    qtbot.waitUntil(v.idle, timeout=WAIT_MS)
    assert v.renderer().is_running()
    v.close()
    assert not v.renderer().is_running()


def test_project_a_picture_finds_its_z_and_the_sliders_then_edit_it(qtbot, view, tmp_path):
    """File-free GAN inversion in the app: a picture G made from an unknown z comes back as the
    explorer's z (rendered, its sliders moved), off the GUI thread; a 2-D model cannot project."""
    from genstudio.imaging import save_png
    from genstudio.metrics import psnr

    model = image_model()
    target = model.generate(torch.randn(1, model.latent_dim, generator=torch.Generator().manual_seed(9)))
    save_png(tmp_path / "mine.png", to_uint8(target.numpy())[0])
    view.set_model(model)
    settle(qtbot, view)
    before = psnr(model.generate(torch.from_numpy(view.state.current_z()[None]).float()).numpy(), target.numpy())
    assert view.project_image(tmp_path / "mine.png", steps=60)
    qtbot.waitUntil(lambda: "Projected mine.png" in view.message(), timeout=60_000)
    settle(qtbot, view)
    z = view.state.current_z()
    after = psnr(model.generate(torch.from_numpy(z[None]).float()).numpy(), target.numpy())
    assert after > before + 5, (before, after)
    np.testing.assert_array_equal(view.image(), shown_for(model, z))  # the picture shows the found z
    assert view.dimension_sliders().values() == pytest.approx(z, abs=0.01)

    (tmp_path / "broken.png").write_bytes(b"not an image")
    assert not view.project_image(tmp_path / "broken.png")
    assert "not an image, or a corrupt one" in view.message()
    view.set_model(points_model())
    assert not view.z_action("Project a picture…").isEnabled()
