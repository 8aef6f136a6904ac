"""GAN Lab's playground in the Monitor, driven as a person would: draw a data set with the mouse and
train on it; pause a 2-D GAN run and Step it one step at a time, with an arrow on every generated point."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QEvent, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.views.drawing import ERASE_RADIUS, SPACING  # noqa: E402


def _mouse(tool, kind, x, y, button=Qt.MouseButton.LeftButton):
    pos = tool.viewport_point(x, y)
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, pos, tool._viewport.mapToGlobal(pos), button, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tool._viewport, event)


def _stroke(tool, start, end, button=Qt.MouseButton.LeftButton, moves=20):
    _mouse(tool, QEvent.Type.MouseButtonPress, *start, button=button)
    for t in np.linspace(0, 1, moves + 1)[1:]:
        _mouse(tool, QEvent.Type.MouseMove, *(np.asarray(start) + t * (np.asarray(end) - start)), button=button)
    _mouse(tool, QEvent.Type.MouseButtonRelease, *end, button=button)


def test_draw_with_the_mouse_erase_and_train_on_the_drawing(qtbot, make_window, tmp_path):
    w = make_window()
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    m, tool = w.monitor, w.monitor.tool
    assert tool.draw_button.isEnabled() and not tool.train_button.isVisible()
    tool.draw_button.click()
    assert tool.state.active and tool.train_button.isVisible() and m.caption().startswith("Drawing")
    _stroke(tool, (-1.0, 0.0), (1.0, 0.0))  # a left drag: points along the way
    pts = tool.state.points
    assert abs(len(pts) - (2.0 / SPACING + 1)) <= 2
    assert np.abs(pts[:, 1]).max() < 0.03 and pts[:, 0].min() < -0.95 and pts[:, 0].max() > 0.95
    assert tool.drawn_count() == len(pts) and tool.count.text() == f"{len(pts)} points drawn"
    _stroke(tool, (0.0, 0.5), (0.0, 1.5))  # a second stroke
    n = len(tool.state)
    _stroke(tool, (0.0, 0.0), (0.0, 0.01), button=Qt.MouseButton.RightButton)  # the eraser
    left = tool.state.points
    assert len(left) < n and (np.hypot(left[:, 0], left[:, 1]) > ERASE_RADIUS - 0.03).all()

    w.panel.set_fields({"kind": "gan", "steps": 12, "batch": 32, "preview_every": 6, "device": "cpu", "seed": 0})
    with qtbot.waitSignal(w.controller.threadFinished, timeout=120_000):
        tool.train_button.click()
    assert not tool.state.active and not w.errors
    assert w.controller.last_result[0] == "done"
    rd = RunDir(w.controller.run_dir)
    np.testing.assert_allclose(np.load(rd.drawing), left)  # the run trains on (its copy of) the drawing
    assert rd.read_config().data == f"points:{rd.drawing.resolve()}"
    assert (tmp_path / "drawings").is_dir() and w.panel.form["data"].startswith(f"points:{tmp_path / 'drawings'}")
    assert m.is_points() and m.points.real_count() > 0
    real = m.points._real.data  # the real points shown are the drawing's
    xy = np.stack([real["x"], real["y"]], 1)
    assert (np.linalg.norm(xy[:, None] - left[None], axis=2).min(1) < 0.2).all()


def test_step_runs_one_step_and_draws_an_arrow_on_every_generated_point(qtbot, make_window, tmp_path):
    w = make_window()
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    w.panel.set_fields({"kind": "gan", "data": "ring8", "steps": 20000, "batch": 32, "preview_every": 10,
                        "device": "cpu", "seed": 0})
    w.panel.folder.setText(str(tmp_path / "run"))
    assert not w.act_step.isEnabled()
    w.act_start.trigger()
    m = w.monitor
    qtbot.waitUntil(lambda: m.preview_step() is not None, timeout=60_000)
    assert not w.act_step.isEnabled() and not m.tool.draw_button.isEnabled()  # running: no step, no drawing
    w.act_pause.trigger()
    qtbot.waitUntil(lambda: w.run_status.status().paused is True, timeout=10_000)
    s1 = w.run_status.step_value()
    assert w.act_step.isEnabled() and not m.tool.step_button.isHidden()
    w.act_step.trigger()
    qtbot.waitUntil(lambda: m.preview_step() == s1 + 1 and "one step" in m.caption(), timeout=20_000)
    assert m.points.arrow_count() == m.points.fake_count() == 300  # an arrow on every generated point
    qtbot.wait(300)
    assert w.run_status.step_value() == s1 + 1 and w.controller.state == "paused"  # paused again
    w.monitor.setFocus()
    qtbot.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)  # the shortcut
    qtbot.waitUntil(lambda: m.preview_step() == s1 + 2, timeout=20_000)
    assert w.run_status.step_value() == s1 + 2
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        w.act_stop.trigger()
    assert w.controller.last_result[:2] == ("stopped", s1 + 2)
