"""The Monitor's training time-lapse: the slider shows the preview of the chosen step with the step
marked on the loss curves, a click on a curve picks a preview, it plays, it exports, and following a
run folder picks up new previews (the choice follows the newest unless the person moved it)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PIL import Image  # noqa: E402

from genstudio.gui.mailbox import Drained  # noqa: E402
from genstudio.gui.widgets.monitor import MonitorView  # noqa: E402
from genstudio.runs.timelapse import load_preview_file  # noqa: E402
from timelapse_runs import COLOURS, add_image_preview, image_run, points_run  # noqa: E402


def shown_grid(m: MonitorView) -> np.ndarray | None:
    return m.samples.current_grid()


def grid_of(rd, step: int) -> np.ndarray:
    return load_preview_file(rd.previews / f"step_{step:06d}.png").data


def new_monitor(qtbot) -> MonitorView:
    m = MonitorView()
    qtbot.addWidget(m)
    return m


def open_run(qtbot, rd) -> MonitorView:
    m = new_monitor(qtbot)
    m.begin("gan", points=False)
    m.set_run_folder(rd.path)
    m.apply(Drained(metrics=[(r["step"], {k: v for k, v in r.items() if k not in ("step", "time")})
                             for r in rd.read_metrics()]))  # what a follower's first drain brings
    return m


def test_the_slider_shows_the_preview_of_the_chosen_step_and_marks_it_on_the_curves(qtbot, tmp_path):
    rd = image_run(tmp_path / "run")
    m = open_run(qtbot, rd)
    bar = m.timelapse_bar
    assert bar.slider.maximum() == 4 and bar.slider.value() == 4  # the newest, step 100
    qtbot.waitUntil(lambda: m.preview_step() == 100, timeout=2_000)
    assert np.array_equal(shown_grid(m), grid_of(rd, 100))

    bar.slider.setValue(1)  # as a drag would
    qtbot.waitUntil(lambda: m.preview_step() == 40, timeout=2_000)
    assert np.array_equal(shown_grid(m), grid_of(rd, 40))
    qtbot.waitUntil(lambda: m.gan_losses.marker_step() == 40 and m.gan_probs.marker_step() == 40, timeout=2_000)
    assert "step 40" in m.caption() and "loss_D 0.04" in m.caption()
    assert "step 40 (2 of 5)" in bar.label.text()


def test_a_click_on_the_loss_curve_picks_the_nearest_preview(qtbot, tmp_path):
    rd = image_run(tmp_path / "run")
    m = open_run(qtbot, rd)
    m.gan_losses.stepClicked.emit(57.0)
    qtbot.waitUntil(lambda: m.preview_step() == 60 and m.gan_losses.marker_step() == 60, timeout=2_000)
    assert m.timelapse_bar.slider.value() == 2
    assert np.array_equal(shown_grid(m), grid_of(rd, 60))


def test_play_runs_through_the_previews_to_the_newest(qtbot, tmp_path):
    rd = image_run(tmp_path / "run")
    m = open_run(qtbot, rd)
    shown: list[int] = []
    m.timelapse.changed.connect(lambda what: shown.append(m.timelapse.step()) if what == "index" else None)
    m.timelapse_bar.play_button.click()
    assert m.timelapse_bar.is_playing() and m.timelapse_bar.play_button.text() == "❚❚"
    qtbot.waitUntil(lambda: not m.timelapse_bar.is_playing(), timeout=5_000)
    assert shown == [20, 40, 60, 80, 100] and m.timelapse.follow
    qtbot.waitUntil(lambda: m.preview_step() == 100, timeout=2_000)


def test_export_writes_one_gif_frame_per_preview(qtbot, tmp_path):
    rd = image_run(tmp_path / "run")
    m = open_run(qtbot, rd)
    said: list[str] = []
    m.message.connect(said.append)
    assert m.export_timelapse_gif(tmp_path / "out.gif")
    with Image.open(tmp_path / "out.gif") as im:
        assert im.n_frames == 5
    assert "5 frames" in said[-1]


def test_points_runs_show_each_steps_points_and_field(qtbot, tmp_path):
    rd = points_run(tmp_path / "ring")
    m = new_monitor(qtbot)
    m.begin("gan", points=True)
    m.set_run_folder(rd.path)
    m.apply(Drained())
    m.timelapse_bar.slider.setValue(0)
    qtbot.waitUntil(lambda: m.preview_step() == 50, timeout=2_000)
    assert m.points.fake_count() == 200 and m.points.heatmap_visible()
    assert "step 50" in m.points.caption()


def test_following_a_run_folder_picks_up_new_previews(qtbot, make_window, tmp_path):
    rd = image_run(tmp_path / "remote", preview_steps=(20, 40))
    w = make_window()
    assert w.open_run_folder(rd.path), w.errors
    bar = w.monitor.timelapse_bar
    qtbot.waitUntil(lambda: w.monitor.preview_step() == 40, timeout=3_000)

    add_image_preview(rd, 60, COLOURS[2])  # the remote run writes its next preview
    qtbot.waitUntil(lambda: bar.slider.maximum() == 2, timeout=3_000)
    qtbot.waitUntil(lambda: w.monitor.preview_step() == 60, timeout=3_000)  # followed: the newest shows
    assert np.array_equal(shown_grid(w.monitor), grid_of(rd, 60))

    bar.slider.setValue(0)  # the person looks back ...
    qtbot.waitUntil(lambda: w.monitor.preview_step() == 20, timeout=3_000)
    add_image_preview(rd, 80, COLOURS[3])  # ... while the run goes on
    qtbot.waitUntil(lambda: bar.slider.maximum() == 3, timeout=3_000)
    qtbot.wait(300)
    assert w.monitor.preview_step() == 20 and bar.slider.value() == 0  # held where they put it

    w.show_view("Monitor")
    w.view_keys.toggle_timelapse()  # Space
    assert w.monitor.timelapse.playing
    qtbot.waitUntil(lambda: not w.monitor.timelapse.playing, timeout=5_000)
    assert w.monitor.preview_step() == 80


def test_a_live_runs_previews_join_the_slider_as_they_arrive(qtbot, tmp_path):
    """A training run writes each preview to its folder, then sends it through the mailbox."""
    from genstudio.runs.folder import RunDir
    from genstudio.trainer import Preview
    from timelapse_runs import solid_images

    rd = RunDir(tmp_path / "live")
    m = new_monitor(qtbot)
    m.begin("gan", points=False)
    m.set_run_folder(rd.path)  # nothing there yet
    m.apply(Drained())
    assert m.timelapse_bar.label.text() == "no previews yet"
    for i, step in enumerate((10, 20, 30)):
        images = solid_images(COLOURS[i])
        rd.write_preview(step, Preview("images", images))
        m.apply(Drained(metrics=[(step, {"loss_D": 0.1, "loss_G": 1.0})], preview=(step, Preview("images", images))))
        qtbot.waitUntil(lambda s=step: m.preview_step() == s, timeout=2_000)
    assert m.timelapse_bar.slider.maximum() == 2 and m.timelapse.follow


def test_a_live_preview_is_one_more_frame_shown_from_memory_without_listing_or_reading_the_folder(
        qtbot, tmp_path, monkeypatch):
    """At every preview of a long run the folder used to be listed and the new file decoded on the
    GUI thread (a 5-10 ms stall each time); the preview that came is the newest frame itself."""
    import genstudio.gui.widgets.monitor_timelapse as part
    from genstudio.runs.folder import RunDir
    from genstudio.trainer import Preview
    from timelapse_runs import solid_images

    rd = RunDir(tmp_path / "live")
    m = new_monitor(qtbot)
    m.begin("gan", points=False)
    m.set_run_folder(rd.path)
    m.apply(Drained())  # the folder is listed once, when it is set
    listed, read = [], []
    monkeypatch.setattr(part, "preview_files", lambda d: listed.append(d) or [])
    monkeypatch.setattr(part, "load_preview_file", lambda p: read.append(p))
    for i, step in enumerate((10, 20, 30)):
        images = solid_images(COLOURS[i])
        rd.write_preview(step, Preview("images", images))
        m.apply(Drained(metrics=[(step, {"loss_D": 0.1, "loss_G": 1.0})], preview=(step, Preview("images", images))))
        qtbot.waitUntil(lambda s=step: m.preview_step() == s, timeout=2_000)
        assert np.array_equal(shown_grid(m), grid_of(rd, step))  # the picture that came is the file's
    assert m.timelapse.steps == [10, 20, 30] and m.timelapse_bar.slider.maximum() == 2
    assert listed == [] and read == []
    qtbot.waitUntil(lambda: m.gan_losses.marker_step() == 30, timeout=2_000)
