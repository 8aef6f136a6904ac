"""The Monitor tab: drawing drained data, a live diffusion run, and following a run folder."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from genstudio.config import RunConfig  # noqa: E402
from genstudio.gui.mailbox import Drained  # noqa: E402
from genstudio.gui.status_update import RunStatusUpdate  # noqa: E402
from genstudio.gui.widgets.monitor import MonitorView  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.trainer import Preview  # noqa: E402




# ---------------------------------------------------------------------------- the view alone
def test_gan_metrics_go_to_two_plots_and_images_to_the_grid(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("gan", points=False)
    records = [(s, {"loss_D": 1.0 / s, "loss_G": 2.0, "D(x)": 0.6, "D(G(z))": 0.4}) for s in range(10, 60, 10)]
    images = np.random.default_rng(0).uniform(-1, 1, (16, 3, 8, 8)).astype(np.float32)
    m.apply(Drained(metrics=records, preview=(50, Preview("images", images))))
    assert m.gan_losses.point_count("loss_D") == 5 and m.gan_losses.point_count("loss_G") == 5
    assert m.gan_probs.point_count("D(x)") == 5 and m.gan_probs.point_count("D(G(z))") == 5
    assert m.gan_losses.last_value("loss_D") == pytest.approx(1 / 50)
    qtbot.waitUntil(lambda: m.preview_step() == 50, timeout=1_000)  # drawn after the plots, in its own paint
    assert m.samples.current_grid() is not None
    assert "step 50" in m.caption()


def test_a_text_to_image_preview_is_one_labelled_row_per_prompt(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.resize(900, 600)
    m.show()
    m.begin("text2image", points=False)
    images = np.random.default_rng(0).uniform(-1, 1, (3 * 4, 1, 8, 8)).astype(np.float32)
    prompts = ["a red circle", "a blue square", "a green triangle"]
    m.apply(Drained(preview=(40, Preview("images", images, {"prompts": prompts, "columns": 4}))))
    qtbot.waitUntil(lambda: m.preview_step() == 40, timeout=1_000)
    assert m.samples.row_labels() == prompts and "one prompt a row" in m.caption()
    assert m.samples.current_grid().shape == (3 * 9 + 1, 4 * 9 + 1, 3)  # 3 rows of 4, not a square grid
    assert m.samples.image_rect().left() > m.samples.fontMetrics().horizontalAdvance("a green triangle")
    m.apply(Drained(preview=(50, Preview("images", images))))  # a run without prompts: no labels
    qtbot.waitUntil(lambda: m.preview_step() == 50, timeout=1_000)
    assert m.samples.row_labels() == []


def test_diffusion_loss_and_band_columns(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("diffusion", points=True)
    bands = [float(b) for b in np.linspace(1.0, 0.1, 10)]
    m.apply(Drained(metrics=[(s, {"loss": 0.5, "bands": bands}) for s in (10, 20, 30)]))
    assert m.diffusion_loss.point_count("loss") == 3 and m.bands.column_count() == 3
    pts = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    m.apply(Drained(preview=(30, Preview("points", pts)), status=RunStatusUpdate(real_points=pts)))
    qtbot.waitUntil(lambda: m.points.fake_count() == 100 and m.points.real_count() == 100, timeout=1_000)
    assert not m.points.heatmap_visible()  # diffusion has no discriminator


def test_plots_and_preview_that_arrive_together_are_redrawn_one_per_paint(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("gan", points=True)
    drawn = []
    for plot in (m.gan_losses, m.gan_probs):
        plot.refresh = lambda real=plot.refresh, name=plot: (drawn.append(name), real())
    pts = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    m.apply(Drained(metrics=[(10, {"loss_D": 1.0, "loss_G": 2.0, "D(x)": 0.6, "D(G(z))": 0.4})],
                    preview=(10, Preview("points", pts))))
    assert drawn == [m.gan_losses]  # the rest wait for the window to paint this and serve input
    qtbot.waitUntil(lambda: m.preview_step() == 10, timeout=1_000)
    assert drawn == [m.gan_losses, m.gan_probs] and m.points.fake_count() == 50


def test_non_finite_values_from_a_jsonl_are_drawn_as_gaps(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("gan", points=False)
    m.add_metrics([(1, {"loss_D": "nan", "loss_G": 1.0}), (2, {"loss_D": 0.5, "loss_G": "inf"})])
    assert m.gan_losses.point_count("loss_D") == 1 and m.gan_losses.skipped_count("loss_D") == 1


# ---------------------------------------------------------------------------- live runs
def test_short_diffusion_run_shows_loss_points_and_band_columns(qtbot, make_window, tmp_path):
    pytest.importorskip("genstudio.diffusion.trainer")
    w = make_window()
    w.panel.set_fields({"kind": "diffusion", "data": "ring8", "steps": 40, "batch": 64, "preview_every": 20,
                        "device": "cpu"})
    w.panel.folder.setText(str(tmp_path / "diff"))
    from genstudio.recipes import recipe_for

    assert w.panel.config().lr == pytest.approx(recipe_for("diffusion", "ring8").lr) and w.panel.config().beta1 == 0.9
    with qtbot.waitSignal(w.controller.threadFinished, timeout=120_000):  # generous: shared CPUs
        w.act_start.trigger()
    assert not w.errors, w.errors
    assert w.controller.last_result[0] == "done"
    m = w.monitor
    assert m.kind() == "diffusion"
    assert m.diffusion_loss.point_count("loss") == 4  # log_every 10
    assert m.bands.column_count() == 4 and m.bands.band_count() == 10
    assert m.points.fake_count() > 0


# ---------------------------------------------------------------------------- following a folder
def _fake_run(folder, n: int) -> RunDir:
    rd = RunDir(folder)
    rd.write_config(RunConfig(kind="gan", data="ring8", steps=1000))
    for s in range(1, n + 1):
        rd.append_metrics(s * 10, {"loss_D": 1.0, "loss_G": 2.0, "D(x)": 0.5, "D(G(z))": 0.5})
    return rd


def test_following_a_run_folder_shows_new_lines_within_two_seconds(qtbot, make_window, tmp_path):
    rd = _fake_run(tmp_path / "followed", 5)
    pts = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32)
    rd.write_preview(50, Preview("points", pts, {"heatmap": np.full((8, 8), 0.5, np.float32),
                                                 "extent": (-2.0, 2.0, -2.0, 2.0)}))
    w = make_window()
    assert w.open_run_folder(rd.path)
    plot = w.monitor.gan_losses
    qtbot.waitUntil(lambda: plot.point_count("loss_D") == 5 and w.monitor.points.fake_count() == 50,
                    timeout=2_000)
    assert w.monitor.points.heatmap_visible() and w.monitor.preview_step() == 50
    assert w.run_status.step_value() == 50

    for s in range(6, 9):  # the run grows, as `genstudio train` would append
        rd.append_metrics(s * 10, {"loss_D": 0.9, "loss_G": 1.9, "D(x)": 0.5, "D(G(z))": 0.5})
    qtbot.waitUntil(lambda: plot.point_count("loss_D") == 8, timeout=2_000)
    with open(rd.metrics_path, "a") as fh:  # a half-written line is not read yet
        fh.write('{"step": 90, "loss_D": 0.8')
    qtbot.wait(700)
    assert plot.point_count("loss_D") == 8
    with open(rd.metrics_path, "a") as fh:
        fh.write(', "loss_G": 1.8}\n')
    qtbot.waitUntil(lambda: plot.point_count("loss_D") == 9, timeout=2_000)
    assert w.run_status.step_value() == 90

    rd.write_preview(90, Preview("points", pts[:20], {}))  # a newer preview replaces the shown one
    qtbot.waitUntil(lambda: w.monitor.points.fake_count() == 20, timeout=2_000)
    assert w.monitor.preview_step() == 90


def test_following_an_image_run_shows_its_png_preview(qtbot, make_window, tmp_path):
    rd = RunDir(tmp_path / "images")
    rd.write_config(RunConfig(kind="gan", data="digits", size=16, steps=100))
    rd.append_metrics(10, {"loss_D": 1.0, "loss_G": 2.0})
    images = np.random.default_rng(2).uniform(-1, 1, (4, 1, 16, 16)).astype(np.float32)
    rd.write_preview(10, Preview("images", images))
    w = make_window()
    assert w.open_run_folder(rd.path)
    qtbot.waitUntil(lambda: w.monitor.samples.current_grid() is not None, timeout=2_000)
    assert w.monitor.preview_step() == 10 and w.monitor.gan_losses.point_count("loss_D") == 1


def test_open_run_folder_refuses_a_folder_without_a_run(qtbot, make_window, tmp_path):
    w = make_window()
    assert not w.open_run_folder(tmp_path)
    assert w.errors[-1][0] == "Not a run folder"
