"""The Scrubber's Play / Pause button draws with what the fonts have: no ▯ for a missing glyph."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtGui import QFontMetrics  # noqa: E402
from PySide6.QtWidgets import QToolButton  # noqa: E402

from genstudio.gui.widgets.timestep_bar import TimestepBar  # noqa: E402


def test_play_and_pause_show_an_icon_and_text_the_font_can_draw(qtbot):
    bar = TimestepBar()
    qtbot.addWidget(bar)
    bar.set_timesteps(range(100))
    button = bar.findChild(QToolButton)  # the Play / Pause button
    seen, missing, icons = [], [], []
    for playing in (False, True, False):
        bar.play() if playing else bar.pause()
        assert bar.is_playing() == playing
        metrics = QFontMetrics(button.font())
        missing += [c for c in button.text() if not c.isspace() and not metrics.inFontUcs4(ord(c))]
        icons.append(not button.icon().isNull())
        seen.append(button.text())
    assert not missing, f"{seen}: the font has no glyph for {missing}"
    assert seen == ["Play", "Pause", "Play"] and all(icons)
