"""Every tab fits a 1280 × 720 window: no scroll bars, and the controls a person needs in view.

The main window is shown at 1280 × 720 with the run panel docked; each tab (and both Scrubber
pages, in their widest states: compare mode, a finished branch with its long verdict) is shown
in turn, and the page's scroll area must need no scroll bar, with the timeline slider, Sample
and "Branch here" fully inside what is visible.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QScrollArea, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.sampling import SampleSpec

from test_latent_view import image_model as gan_model
from test_superres_view import _model as sr_model
from tiny_models import tiny_image_model

WAIT_MS = 20_000


def page_scroll(window) -> QScrollArea:
    """The scroll area that holds the current tab's view (below its hint)."""
    page = window.tabs.currentWidget()
    areas = page.findChildren(QScrollArea, options=Qt.FindChildOption.FindDirectChildrenOnly)
    assert len(areas) == 1
    return areas[0]


def assert_fits(qtbot, window, what: str, keys: tuple[QWidget, ...] = ()) -> None:
    qtbot.wait(50)  # let the layouts settle
    area = page_scroll(window)
    assert not area.verticalScrollBar().isVisible(), f"{what}: needs a vertical scroll bar"
    assert not area.horizontalScrollBar().isVisible(), f"{what}: needs a horizontal scroll bar"
    viewport = area.viewport()
    for w in keys:
        assert w.isVisible(), f"{what}: {type(w).__name__} hidden"
        top_left = w.mapTo(viewport, w.rect().topLeft())
        assert viewport.rect().contains(QRect(top_left, w.size())), \
            f"{what}: {type(w).__name__} {w.text() if hasattr(w, 'text') else ''} lies outside the visible area"


@pytest.mark.parametrize("size", [(1280, 720), (1400, 900), (1920, 1080)])
def test_every_view_fits_without_scrolling(qtbot, make_window, size):
    w = make_window()
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    assert w.dock.isVisible() and w.width() == size[0] and w.height() == size[1]

    w.show_view("Monitor")
    assert_fits(qtbot, w, "Monitor")

    w.show_view("Latent")
    w.latent.set_model(gan_model())
    qtbot.waitUntil(w.latent.idle, timeout=WAIT_MS)
    assert_fits(qtbot, w, "Latent")

    w.show_view("Scrubber")
    s = w.scrubber
    s.set_model(tiny_image_model(num_steps=40))
    s.tabs.setCurrentWidget(s.forward)
    s.forward.set_schedule("cosine", 1000)  # compare mode: the widest forward row
    assert s.forward.state.compare
    qtbot.waitUntil(lambda: s.forward.state.process is not None and s.forward.predictions_idle(), timeout=WAIT_MS)
    assert_fits(qtbot, w, "Scrubber forward (compare mode)", (s.forward.bar.slider(),))

    s.tabs.setCurrentWidget(s.reverse)
    rv = s.reverse
    assert rv.sample(SampleSpec(4, 0, "ddim", steps=5))
    qtbot.waitUntil(lambda: not rv.is_busy() and rv.state.result is not None, timeout=WAIT_MS)
    rv.bar.set_timestep(int(rv.state.result.trajectory.timesteps[1]))
    assert rv.branch(seed=3, eta=1.0)
    qtbot.waitUntil(lambda: not rv.is_busy() and rv.state.branch is not None, timeout=WAIT_MS)
    assert "mean |difference|" in rv.branch_panel.summary()
    assert_fits(qtbot, w, "Scrubber reverse (after a branch)",
                (rv.bar.slider(), rv.controls.go, rv.branch_panel.button))
    assert np.all(np.isfinite(rv.state.result.final))
    s.shutdown()

    w.show_view("Super-resolution")  # four columns with five-line scores, the plot scored, the caption
    sr = w._pages["Super-resolution"].view()
    sr.set_model(sr_model("srresnet"))
    sr.set_model(sr_model("srgan"))
    qtbot.waitUntil(lambda: not sr.pd_plot.job.is_busy() and len(sr.pd_plot.points) == 3, timeout=WAIT_MS)
    assert_fits(qtbot, w, "Super-resolution", (sr.caption, sr.fine_tune, sr.pd_plot.caption))


def test_elided_label_shows_what_fits_and_keeps_the_whole_text(qtbot):
    text = "mean |difference| = 0.3190 (the endings differ: not yet decided at this t)"
    label = ElidedLabel(text)
    qtbot.addWidget(label)
    assert label.minimumSizeHint().width() < label.fontMetrics().horizontalAdvance(text) / 4
    label.resize(120, 20)
    label.show()
    qtbot.waitExposed(label)
    shown = label.shown_text()
    assert shown.endswith("…") and text.startswith(shown[:-1]) and label.toolTip() == text
    label.resize(label.fontMetrics().horizontalAdvance(text) + 10, 20)
    assert label.shown_text() == text
    label.setText("")
    assert label.minimumSizeHint().width() == 0 and label.toolTip() == ""
