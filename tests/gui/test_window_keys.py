"""The view keys (R, Ctrl+Shift+C / V, Space) work whatever has focus in the window, right after
Ctrl+2 / Ctrl+3 or a menu, and never take a letter or a space from a text field."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from genstudio.config import RunConfig  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.runs.loop import run_to_end  # noqa: E402

TINY = RunConfig(kind="gan", data="ring8", steps=2, batch=16, log_every=1, preview_every=100,
                 checkpoint_every=100, device="cpu", seed=0)
CTRL, CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier, (Qt.KeyboardModifier.ControlModifier
                                                         | Qt.KeyboardModifier.ShiftModifier)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    out = {}
    for kind in ("gan", "diffusion"):
        run_to_end(TINY.replace(kind=kind), root / kind)
        out[kind] = RunDir(root / kind).last_checkpoint
    return out


def _press(qtbot, w, key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key press as the window delivers it: to whatever has focus."""
    qtbot.keyClick(QApplication.focusWidget() or w, key, modifier)


@pytest.fixture
def window(qtbot, make_window, checkpoints):
    w = make_window()
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    w.open_checkpoint(checkpoints["diffusion"])
    w.open_checkpoint(checkpoints["gan"])
    qtbot.waitUntil(w.latent.idle, timeout=10_000)
    return w


def test_latent_keys_work_right_after_ctrl_2_with_focus_outside_the_tab(qtbot, window):
    w = window
    w.show_view("Monitor")
    w.panel.new_folder.setFocus()  # focus in the run panel, outside every tab
    _press(qtbot, w, Qt.Key.Key_2, CTRL)
    assert w.tabs.tabText(w.tabs.currentIndex()) == "Latent"
    assert not w.latent.isAncestorOf(QApplication.focusWidget())
    seed = w.latent.state.seed
    _press(qtbot, w, Qt.Key.Key_R)
    assert w.latent.state.seed != seed  # a new random z
    z = w.latent.state.current_z().copy()
    _press(qtbot, w, Qt.Key.Key_C, CTRL_SHIFT)
    copied = QApplication.clipboard().text()
    assert copied and "Copied z" in w.latent.message()
    _press(qtbot, w, Qt.Key.Key_R)
    assert (w.latent.state.current_z() != z).any()
    _press(qtbot, w, Qt.Key.Key_V, CTRL_SHIFT)  # paste brings the copied z back
    assert (w.latent.state.current_z() == z).all()


def test_space_plays_the_scrubber_right_after_ctrl_3_and_after_the_z_menu(qtbot, window):
    w = window
    w.latent.z_action("Copy z").trigger()  # used the z menu on the Latent tab
    _press(qtbot, w, Qt.Key.Key_3, CTRL)
    assert w.tabs.tabText(w.tabs.currentIndex()) == "Scrubber"
    bar = w.scrubber.tabs.currentWidget().bar
    assert not bar.is_playing()
    _press(qtbot, w, Qt.Key.Key_Space)
    assert bar.is_playing()
    _press(qtbot, w, Qt.Key.Key_Space)
    assert not bar.is_playing()


def test_the_keys_leave_text_fields_alone_and_act_only_on_their_tab(qtbot, window):
    w = window
    w.show_view("Latent")
    seed = w.latent.state.seed
    w.panel.folder.setFocus()
    w.panel.folder.clear()
    qtbot.keyClicks(w.panel.folder, "Run 1")  # an R and a space, typed into the folder field
    assert w.panel.folder.text() == "Run 1" and w.latent.state.seed == seed
    w.latent._seed_box.setFocus()  # the seed field is a text field too
    _press(qtbot, w, Qt.Key.Key_R)
    assert w.latent.state.seed == seed
    w.show_view("Scrubber")
    bar = w.scrubber.tabs.currentWidget().bar
    qtbot.keyClicks(w.panel.folder, " x")
    assert w.panel.folder.text() == "Run 1 x" and not bar.is_playing()
    w.show_view("Monitor")
    w.tabs.setFocus()
    _press(qtbot, w, Qt.Key.Key_R)  # R on the Monitor draws no new z
    _press(qtbot, w, Qt.Key.Key_Space)
    assert w.latent.state.seed == seed and not bar.is_playing()


def test_space_on_a_focused_button_still_presses_it(qtbot, window):
    w = window
    w.show_view("Scrubber")
    bar = w.scrubber.tabs.currentWidget().bar
    w.panel.new_folder.setFocus()  # the run panel's "New" button
    with qtbot.waitSignal(w.panel.new_folder.clicked, timeout=2_000):
        _press(qtbot, w, Qt.Key.Key_Space)
    assert not bar.is_playing()
