"""The style sheet keeps controls visible on the dark background (checked pixel by pixel)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from genstudio.gui.app import dark_palette, style_sheet

SHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"  # this checkout's sheet


def grab_rgb(widget: QWidget) -> np.ndarray:
    """The widget as drawn on its parent (its own grab would miss the parent's background)."""
    image = widget.parentWidget().grab(widget.geometry()).toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h).reshape(h, -1)
    return rows[:, : 3 * w].reshape(h, w, 3).astype(int)


def test_check_boxes_are_visible_checked_and_unchecked(qtbot):
    box = QWidget()
    box.setPalette(dark_palette())
    box.setStyleSheet(style_sheet(SHEET))
    layout = QHBoxLayout(box)
    unchecked, checked = QCheckBox("log y"), QCheckBox("log y")
    checked.setChecked(True)
    layout.addWidget(unchecked)
    layout.addWidget(checked)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    for cb, want in ((unchecked, "a light outline"), (checked, "a light tick on a blue box")):
        pixels = grab_rgb(cb)
        side = cb.style().pixelMetric(cb.style().PixelMetric.PM_IndicatorWidth, None, cb) + 4
        indicator = pixels[:, :side]  # the box left of the text
        background = np.median(pixels.reshape(-1, 3), axis=0)  # mostly the window's colour
        assert np.abs(background - [0x1E, 0x21, 0x27]).sum() < 10
        contrast = np.abs(indicator - background).sum(axis=-1)
        assert (contrast > 150).sum() >= 20, f"{'checked' if cb.isChecked() else 'unchecked'} box: no {want}"
    tick = grab_rgb(checked)[:, :20]
    assert (tick.min(axis=-1) > 200).sum() >= 4  # white pixels of the tick mark
    assert not (grab_rgb(unchecked)[:, :20].min(axis=-1) > 200).any()  # unchecked: no tick
