"""The training monitor's display widgets and their Qt-free helpers.

Each widget is built offscreen, fed synthetic data, and checked for what a user would notice.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image

from genstudio.gui.mailbox import Drained, Mailbox
from genstudio.gui.status_update import RunStatusUpdate
from genstudio.imaging import make_grid, save_gif, save_png, to_uint8
from genstudio.series import EmaState, MinMaxPyramid, Series, ema_smooth


# --------------------------------------------------------------------------- Qt-free helpers
def test_series_doubling_keeps_data():
    s = Series(capacity=2)
    xs, ys = np.arange(1000.0), np.sin(np.arange(1000.0))
    for i in range(0, 1000, 7):
        s.extend(xs[i : i + 7], ys[i : i + 7])
    assert len(s) == 1000
    assert s.capacity >= 1000 and s.capacity & (s.capacity - 1) == 0  # grew by doubling
    np.testing.assert_array_equal(s.x, xs)
    np.testing.assert_array_equal(s.y, ys)
    old_view = s.y
    s.extend(np.arange(1000.0, 3000.0), np.zeros(2000))
    np.testing.assert_array_equal(old_view, ys)  # an earlier view keeps its contents
    s.clear()
    assert len(s) == 0 and s.x.size == 0
    with pytest.raises(ValueError):
        s.extend([1.0, 2.0], [1.0])


def _naive_ema(y: np.ndarray, alpha: float) -> np.ndarray:
    """TensorBoard's loop, verbatim in spirit."""
    out, last, count = [], 0.0, 0
    for v in y:
        if not np.isfinite(v):
            out.append(v)
            continue
        last = last * alpha + (1 - alpha) * v
        count += 1
        out.append(last / (1 - alpha**count) if alpha > 0 else v)
    return np.array(out)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.6, 0.9, 0.999])
def test_ema_smooth_matches_naive_loop(alpha):
    y = np.random.default_rng(1).normal(size=3000).cumsum()
    y[[5, 400, 401]] = [np.nan, np.inf, -np.inf]
    expected = _naive_ema(y, alpha)
    np.testing.assert_allclose(ema_smooth(y, alpha), expected, rtol=1e-9, atol=1e-9)
    # fed in uneven chunks, the incremental state gives the same answer
    state, parts = EmaState(alpha), []
    for a, b in [(0, 1), (1, 6), (6, 1000), (1000, 1000), (1000, 3000)]:
        parts.append(state.update(y[a:b]))
    np.testing.assert_allclose(np.concatenate(parts), expected, rtol=1e-9, atol=1e-9)


def test_minmax_pyramid_envelope_and_mean():
    rng = np.random.default_rng(2)
    x, y = np.arange(100_000.0), rng.normal(size=100_000)
    whole, chunked = MinMaxPyramid(), MinMaxPyramid()
    whole.update(x, y)
    for end in range(0, 100_001, 3_333):
        chunked.update(x[:end], y[:end])
    chunked.update(x, y)
    vx, vy = whole.view(x, y, -np.inf, np.inf, 500)
    assert len(vx) <= 4 * 500 + 4
    assert vy.max() == y.max() and vy.min() == y.min()  # no spike lost
    cx, cy = chunked.view(x, y, -np.inf, np.inf, 500)
    np.testing.assert_array_equal(cx, vx)
    np.testing.assert_array_equal(cy, vy)
    mx, my = whole.view(x, y, -np.inf, np.inf, 500, mode="mean")
    size = 2 ** int(np.floor(np.log2(len(x) / 500)))  # bucket of the level chosen
    assert my[0] == pytest.approx(y[:size].mean()) and mx[0] == pytest.approx(x[:size].mean())
    # zoomed in far enough, the raw points come back, one beyond each edge
    zx, zy = whole.view(x, y, 1000.0, 1100.0, 500)
    np.testing.assert_array_equal(zx, x[999:1102])
    np.testing.assert_array_equal(zy, y[999:1102])


def test_to_uint8_exact_values_and_layouts():
    f = np.array([-1.0, 0.0, 1.0, 2.0, np.nan, -0.5], dtype=np.float32).reshape(1, 1, 2, 3)
    u = to_uint8(f)  # (1, 1, 2, 3) NCHW -> (1, 2, 3, 1)
    assert u.shape == (1, 2, 3, 1) and u.dtype == np.uint8
    assert u[0, :, :, 0].tolist() == [[0, 128, 255], [255, 0, 64]]
    rgb = np.zeros((2, 3, 4, 5), np.float32)
    rgb[:, 0] = 1.0  # red channel on
    out = to_uint8(rgb)
    assert out.shape == (2, 4, 5, 3)
    assert (out[..., 0] == 255).all() and (out[..., 1:] == 128).all()
    hwc = np.random.default_rng(3).integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_uint8(hwc), hwc)


def test_make_grid_places_every_image():
    imgs = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3, 1) * 8  # (N, H, W, 1)
    grid = make_grid(imgs, pad=1, pad_value=7)
    # ceil(sqrt(5)) = 3 columns, 2 rows
    assert grid.shape == (2 * (2 + 1) + 1, 3 * (3 + 1) + 1, 3)
    for i in range(5):
        r, c = divmod(i, 3)
        tile = grid[1 + r * 3 : 1 + r * 3 + 2, 1 + c * 4 : 1 + c * 4 + 3]
        np.testing.assert_array_equal(tile, np.repeat(imgs[i], 3, axis=-1))
    assert (grid[0] == 7).all() and (grid[:, 0] == 7).all()
    assert (grid[4:6, 9:12] == 7).all()  # the empty sixth cell is padding
    assert make_grid(imgs, nrow=5, pad=0).shape == (2, 15, 3)


def test_save_png_round_trips_text(tmp_path):
    pixels = np.random.default_rng(4).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    path = save_png(tmp_path / "sub" / "grid.png", pixels, {"step": "1200", "model": "dcgan"})
    with Image.open(path) as im:
        assert im.text["step"] == "1200" and im.text["model"] == "dcgan"
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), pixels)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["grid.png"]  # no temp file left


def test_save_gif_writes_all_frames(tmp_path):
    frames = [np.full((8, 8, 3), v, np.uint8) for v in (0, 120, 250)]
    path = save_gif(tmp_path / "anim.gif", frames, fps=5)
    with Image.open(path) as im:
        assert im.n_frames == 3
        assert im.info["duration"] == 200


def test_mailbox_keeps_all_metrics_in_order_and_newest_preview():
    box = Mailbox()
    n = 5000
    drained: list[Drained] = []
    done = threading.Event()

    def produce() -> None:
        for step in range(n):
            box.post_metrics(step, {"loss": float(step)})
            if step % 10 == 0:
                box.post_preview(step, np.full(3, step))
            box.post_status(RunStatusUpdate(step=step, paused=False))
        done.set()

    def consume() -> None:  # drains often (every ~1 ms, vs the GUI's 33 ms), without starving the producer
        while not done.is_set():
            drained.append(box.drain())
            time.sleep(0.001)
        drained.append(box.drain())

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    steps = [s for d in drained for s, _ in d.metrics]
    assert steps == list(range(n))
    assert all(m["loss"] == s for d in drained for s, m in d.metrics)
    previews = [d.preview[0] for d in drained if d.preview is not None]
    assert previews == sorted(previews) and previews[-1] == n - 10
    last_status = [d.status for d in drained if d.status][-1]
    assert last_status == RunStatusUpdate(step=n - 1, paused=False)
    assert not box.drain()


def test_a_drain_never_waits_for_a_poster_and_loses_nothing():
    box = Mailbox()
    box.post_metrics(1, {"loss": 1.0})
    held, release = threading.Event(), threading.Event()

    def stuck_poster() -> None:  # a worker caught inside a post (say, in a slow finalizer)
        with box._lock:
            held.set()
            release.wait(0.5)

    poster = threading.Thread(target=stuck_poster)
    poster.start()
    assert held.wait(5)
    t0 = time.perf_counter()
    assert not box.drain()  # the GUI thread goes on at once
    waited = time.perf_counter() - t0
    release.set()
    poster.join(5)
    assert waited < 0.1
    assert box.drain().metrics == [(1, {"loss": 1.0})]  # the next tick takes it


def test_mailbox_newest_preview_wins_within_one_drain():
    box = Mailbox()
    box.post_preview(1, "old")
    box.post_preview(2, "new")
    box.post_status(RunStatusUpdate(step=1))
    box.post_status(RunStatusUpdate(step=2, total=3))
    d = box.drain()
    assert d.preview == (2, "new") and d.status == RunStatusUpdate(step=2, total=3) and d.metrics == []


# --------------------------------------------------------------------------- widgets
@pytest.fixture
def loss_plot(qtbot):
    from genstudio.gui.widgets.loss_plot import LossPlot

    w = LossPlot("losses", ["loss_D", "loss_G"])
    qtbot.addWidget(w)
    w.resize(700, 400)
    w.show()
    qtbot.waitExposed(w)
    return w


def _noisy(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float64)
    return x, np.exp(-x / n) + 0.2 * rng.normal(size=n) + 0.5


def test_loss_plot_appends_and_smooths(loss_plot):
    x, y = _noisy(2000)
    loss_plot.append("loss_D", x[:1000], y[:1000])
    assert loss_plot.point_count("loss_D") == 1000
    loss_plot.append("loss_D", x[1000:], y[1000:])
    loss_plot.append("loss_G", x, y + 1)
    loss_plot.refresh()
    assert loss_plot.point_count("loss_D") == 2000
    assert loss_plot.last_value("loss_G") == pytest.approx(y[-1] + 1)
    assert loss_plot.last_value("nothing") is None
    smoothed = loss_plot.smoothed_values("loss_D")
    assert smoothed.std() < 0.8 * y.std()  # visibly smoother than the raw values
    np.testing.assert_allclose(smoothed, ema_smooth(y, loss_plot.smoothing()))
    loss_plot.set_smoothing(0.0)
    np.testing.assert_array_equal(loss_plot.smoothed_values("loss_D"), y)
    assert loss_plot._slider.value() == 0 and loss_plot._spin.value() == 0.0
    loss_plot._slider.setValue(900)  # the toolbar drives the same setting
    assert loss_plot.smoothing() == pytest.approx(0.9)
    np.testing.assert_allclose(loss_plot.smoothed_values("loss_D"), ema_smooth(y, 0.9))
    loss_plot.append("D(x)", [0, 1], [0.5, 0.6])  # a new name makes a new curve
    assert loss_plot.names() == ["loss_D", "loss_G", "D(x)"]
    loss_plot.clear()
    assert loss_plot.point_count("loss_D") == 0


def test_loss_plot_nan_and_inf_do_not_crash(loss_plot):
    loss_plot.append("loss_D", [0, 1, 2, 3], [1.0, np.nan, np.inf, 0.5])
    loss_plot.append("loss_G", [0, 1], [np.nan, np.nan])
    loss_plot.refresh()
    loss_plot.set_log_y(True)
    loss_plot.append("loss_D", [4, 5], [-1.0, 0.0])  # not drawable on a log axis
    loss_plot.refresh()
    loss_plot.grab()
    assert loss_plot.point_count("loss_D") == 4 and loss_plot.skipped_count("loss_D") == 2
    assert loss_plot.point_count("loss_G") == 0 and loss_plot.last_value("loss_G") is None


def test_loss_plot_log_toggle(loss_plot):
    x, y = _noisy(500)
    loss_plot.append("loss_D", x, np.abs(y) + 0.01)
    loss_plot.refresh()
    assert not loss_plot.is_log_y()
    loss_plot._log.setChecked(True)
    assert loss_plot.is_log_y() and loss_plot.plot_item().ctrl.logYCheck.isChecked()
    loss_plot.set_log_y(False)
    assert not loss_plot.is_log_y() and not loss_plot._log.isChecked()


def test_loss_plot_readout_follows_the_mouse(loss_plot, qtbot):
    from PySide6.QtCore import QPointF

    x, y = _noisy(1000)
    loss_plot.append("loss_D", x * 10, y)  # steps 0, 10, ..., 9990
    loss_plot.append("loss_G", x * 10, y + 1)
    loss_plot.refresh()
    qtbot.wait(50)
    view = loss_plot.plot_item().getViewBox()
    scene_pos = view.mapViewToScene(QPointF(1203.0, 1.0))
    loss_plot._plot.scene().sigMouseMoved.emit(scene_pos)
    qtbot.waitUntil(lambda: "step 1,200" in loss_plot.readout_text(), timeout=2000)
    text = loss_plot.readout_text()
    assert "loss_D" in text and "loss_G" in text
    assert loss_plot._cursor.isVisible() and loss_plot._cursor.value() == 1200.0


def test_loss_plot_draws_a_bounded_number_of_points(loss_plot):
    n = 200_000
    x, y = _noisy(n)
    loss_plot.append("loss_D", x, y)
    loss_plot.refresh()
    raw_x, raw_y = loss_plot._curves["loss_D"].raw_item.getData()
    assert len(raw_x) < 5_000 and raw_y.max() == y.max() and raw_y.min() == y.min()
    loss_plot.plot_item().setXRange(1000, 1400, padding=0)  # zoom in: raw points again
    zx, _ = loss_plot._curves["loss_D"].raw_item.getData()
    assert zx[0] <= 1000 and zx[-1] >= 1400 and len(zx) < 500
    loss_plot.plot_item().enableAutoRange()  # back to following all data
    fx, _ = loss_plot._curves["loss_D"].raw_item.getData()
    assert fx[0] == 0 and fx[-1] > n - 1000


def test_live_plots_repaint_once_per_update_even_when_their_range_moves(loss_plot, qtbot):
    from PySide6.QtCore import QEvent, QObject

    from genstudio.gui.widgets.points2d import Points2DView

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    points = Points2DView()
    qtbot.addWidget(points)
    points.resize(400, 400)
    points.show()
    qtbot.waitExposed(points)
    rng = np.random.default_rng(0)
    qtbot.wait(200)  # the first paints after showing
    views = {"loss plot": loss_plot._plot.viewport(), "2-D view": points._plot.viewport()}
    counters = {name: PaintCounter() for name in views}
    for name, view in views.items():
        view.installEventFilter(counters[name])
    for k in range(1, 6):  # each update moves the auto-ranged axes, as a live run's do
        x = np.arange(100.0 * (k - 1), 100.0 * k)
        loss_plot.append("loss_D", x, 1.0 + 0.1 * rng.normal(size=100) - 0.05 * k)
        loss_plot.refresh()
        points.set_fake(rng.normal(size=(500, 2)) + 0.1 * k)
        qtbot.wait(60)
    for name, view in views.items():
        view.removeEventFilter(counters[name])
    # a range settled mid-paint scheduled a second full repaint: twice the GUI time of a live run
    # (fewer when a slow machine folds two updates into one paint)
    counts = {name: c.count for name, c in counters.items()}
    assert all(1 <= n <= 5 for n in counts.values()), counts


def test_sample_view_grid_pixels(qtbot):
    from genstudio.gui.widgets.sample_view import SampleView

    w = SampleView()
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.show()
    rng = np.random.default_rng(5)
    imgs = rng.integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    w.set_images(imgs, "step 1,200")
    grid = w.current_grid()
    assert grid.shape == (4 * 9 + 1, 4 * 9 + 1, 3)
    np.testing.assert_array_equal(grid[1:9, 1:9], imgs[0])
    np.testing.assert_array_equal(grid[1 + 9 * 3 : 9 + 9 * 3, 1 + 9 * 2 : 9 + 9 * 2], imgs[14])
    assert w.caption() == "step 1,200"
    rect = w.image_rect()
    assert rect.width() == rect.height()  # square grid stays square in a wide widget
    assert rect.width() % grid.shape[1] == 0  # whole-number zoom: crisp pixels
    w.set_images(np.tanh(rng.normal(size=(10, 1, 6, 6))).astype(np.float32))
    assert w.current_grid().shape == (3 * 7 + 1, 4 * 7 + 1, 3)
    ready = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    w.set_images(ready, "grid")
    np.testing.assert_array_equal(w.current_grid(), ready)
    r = w.image_rect()
    assert r.width() / r.height() == pytest.approx(30 / 20)
    w.grab()


def test_points2d_counts_heatmap_and_arrows(qtbot):
    from genstudio.gui.widgets.points2d import Points2DView

    w = Points2DView()
    qtbot.addWidget(w)
    w.show()
    rng = np.random.default_rng(6)
    w.set_real(rng.normal(size=(300, 2)))
    fake = rng.normal(size=(120, 2))
    fake[:3] = np.nan
    w.set_fake(fake)
    assert w.real_count() == 300 and w.fake_count() == 117
    heat = rng.random((32, 32))
    heat[0, 0] = np.nan
    w.set_heatmap(heat, (-3, 3, -2, 2))
    assert w.heatmap_visible()
    br = w._heat.mapRectToParent(w._heat.boundingRect())
    assert (br.left(), br.right(), br.top(), br.bottom()) == pytest.approx((-3, 3, -2, 2))
    w.set_arrows(rng.normal(size=(50, 2)), 0.1 * rng.normal(size=(50, 2)))
    assert w.arrow_count() == 50
    w.set_caption("step 10")
    w.grab()
    w.clear_heatmap()
    w.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
    w.set_fake(np.empty((0, 2)))
    assert not w.heatmap_visible() and w.arrow_count() == 0 and w.fake_count() == 0
    with pytest.raises(ValueError):
        w.set_real(np.zeros((4, 3)))


def test_band_heatmap_grows_and_downsamples(qtbot):
    from genstudio.gui.widgets.band_heatmap import MAX_COLUMNS, BandHeatmap, _halve_columns

    w = BandHeatmap()
    qtbot.addWidget(w)
    w.show()
    rng = np.random.default_rng(7)
    for step in range(0, 300, 10):
        losses = rng.random(8) + 0.01
        losses[step % 8] = np.nan  # a band not sampled this time
        w.append(step, losses)
    w.refresh()
    assert w.column_count() == 30 and w.band_count() == 8
    assert w._image.image.shape == (8, 30)
    for step in range(300, 300 + 10 * 4100, 10):
        w.append(step, rng.random(8) + 0.01)
    w.refresh()
    shown = w.display_values()
    assert w.column_count() == 4130
    assert MAX_COLUMNS // 2 < shown.shape[1] <= MAX_COLUMNS
    w.grab()
    v = np.array([[1.0, 3.0, np.nan, 4.0, np.nan, np.nan, 9.0]])
    np.testing.assert_array_equal(_halve_columns(v), [[2.0, 4.0, np.nan, 9.0]])
    with pytest.raises(ValueError):
        w.append(1, np.ones(3))
