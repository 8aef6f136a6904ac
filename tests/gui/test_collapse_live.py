"""The Monitor's collapse alarm and its live settings: a change made while a GAN trains is marked on
the loss curves and recorded by the run."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from genstudio.collapse import mode_report  # noqa: E402
from genstudio.data.toy2d import ring8_centers  # noqa: E402
from genstudio.gui.mailbox import Drained  # noqa: E402
from genstudio.gui.status_update import RunStatusUpdate  # noqa: E402
from genstudio.gui.widgets.monitor import MonitorView  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402


def _ring(modes: int, per_mode: int = 100) -> np.ndarray:
    c = ring8_centers()[:modes]
    return np.repeat(c, per_mode, axis=0) + np.random.default_rng(0).normal(0, 0.02, (modes * per_mode, 2))


def test_the_badge_says_collapse_and_names_remedies_then_clears(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("gan", points=True)
    assert not m.collapse.isVisibleTo(m)
    m.apply(Drained(status=RunStatusUpdate(collapse=mode_report(_ring(3), ring8_centers()))))
    assert m.collapse.isVisibleTo(m)
    assert m.collapse.text().startswith("collapse: 3 of 8 modes") and "unrolled" in m.collapse.text()
    m.apply(Drained(status=RunStatusUpdate(collapse=mode_report(_ring(8), ring8_centers()))))
    assert m.collapse.text().startswith("8 of 8 modes covered · ")
    m.begin("gan", points=True)  # a new run forgets the old verdict
    assert not m.collapse.isVisibleTo(m)


def test_a_settings_change_is_marked_on_the_curves(qtbot):
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("gan", points=True)
    m.apply(Drained(status=RunStatusUpdate(settings_change=(120, "lr 0.0001"))))
    assert m.gan_losses.marks() == [(120, "lr 0.0001")] and m.gan_probs.marks() == [(120, "lr 0.0001")]
    m.begin("gan", points=True)
    assert m.gan_losses.marks() == []


def test_changing_the_learning_rate_of_a_running_gan(qtbot, make_window, tmp_path):
    w = make_window()
    w.panel.set_fields({"kind": "gan", "data": "ring8", "steps": 100_000, "batch": 64, "preview_every": 20,
                        "device": "cpu"})
    w.panel.folder.setText(str(tmp_path / "gan"))
    w.act_start.trigger()
    live = w.monitor.live
    qtbot.waitUntil(lambda: live.isEnabled() and w.run_status.step_value() >= 20, timeout=120_000)
    assert live.isVisibleTo(w.monitor) and float(live.lr_g.text()) == pytest.approx(w.controller.config.lr)
    live.lr_g.setText("1e-4")
    live.r1.setValue(2.0)
    live.apply_button.click()
    qtbot.waitUntil(lambda: w.monitor.gan_losses.marks() != [], timeout=60_000)
    (step, label), = w.monitor.gan_losses.marks()
    assert label == "lr 0.0001 · D lr 0.001 · R1 γ 2"  # D keeps its own rate when only G's changes
    qtbot.waitUntil(lambda: w.monitor.collapse.report is not None, timeout=60_000)  # the alarm came with a preview
    with qtbot.waitSignal(w.controller.threadFinished, timeout=120_000):
        w.controller.stop()
    rd = RunDir(tmp_path / "gan")
    assert [c["step"] for c in rd.read_changes()] == [step]
    saved = rd.read_config()
    assert saved.lr == 1e-4 and saved.extra == {"d_lr": 1e-3, "r1": 2.0}
    assert not live.isEnabled() and not w.errors, w.errors
