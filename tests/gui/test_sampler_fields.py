"""The Scrubber's DDIM-only fields (steps, η) are disabled under DDPM, and look it in the app's theme."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtGui import QImage  # noqa: E402

import genstudio  # noqa: E402
from genstudio.gui.app import dark_palette  # noqa: E402
from genstudio.gui.widgets.sampler_controls import SamplerControls  # noqa: E402
from genstudio.sampling import SampleSpec  # noqa: E402

from tiny_models import tiny_image_model  # noqa: E402

STYLE = Path(genstudio.__file__).resolve().parent.parent / "resources" / "style.qss"


def _text_brightness(widget) -> int:
    """The brightest pixel in the left half of ``widget`` (its text; the arrows are on the right)."""
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return int(rows[:, : 3 * img.width()].reshape(img.height(), img.width(), 3)[:, : img.width() // 2].max())


@pytest.fixture
def themed(qapp):
    """The app's palette and style sheet, put back afterwards."""
    sheet, palette, style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    qapp.setStyle("Fusion")
    qapp.setPalette(dark_palette())
    qapp.setStyleSheet(STYLE.read_text(encoding="utf-8"))
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_steps_and_eta_are_disabled_under_ddpm_and_drawn_dimmed(qtbot, themed):
    c = SamplerControls()
    qtbot.addWidget(c)
    c.state.set_model(tiny_image_model())
    c.show()
    qtbot.waitExposed(c)
    c.state.set_spec(SampleSpec(4, 0, "ddim", 20, 0.5))
    assert c._steps.isEnabled() and c._eta.isEnabled()
    live = _text_brightness(c._steps), _text_brightness(c._eta)
    c.state.set_spec(SampleSpec(4, 0, "ddpm", 20, 0.5))
    assert not c._steps.isEnabled() and not c._eta.isEnabled()
    dim = _text_brightness(c._steps), _text_brightness(c._eta)
    assert dim[0] < live[0] - 60 and dim[1] < live[1] - 60  # a user sees they do not apply
    assert "DDIM only" in c._steps.toolTip() and "DDIM only" in c._eta.toolTip()
    assert c.state.spec.total_steps(40) == 40  # DDPM takes every step, whatever the field says
