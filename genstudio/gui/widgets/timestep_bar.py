"""The scrubber's timestep control: a slider over the timesteps on offer, a readout, play and pause.

:class:`TimestepBar` moves over an ascending list of timesteps: every t in [0, T) for the forward
process, or the timesteps a sampler visited for the reverse one. Left is t = 0 (clean data), right
is t = T−1 (noise). A timestep below 0 stands for the
sampler's output (the reverse process's final sample) and reads "final sample". Play animates with one GUI ``QTimer`` (~30 Hz) that advances as many steps per
tick as the chosen speed asks, towards larger t (noising, ``direction=+1``) or smaller t
(denoising, ``direction=−1``), and stops at the end.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

__all__ = ["TimestepBar", "SPEEDS"]

#: Play speeds offered, in steps per second.
SPEEDS = (10, 30, 100, 300, 1000)
_TICK_MS = 33


class TimestepBar(QWidget):
    """A timestep slider with a "t = …" readout and play / pause.

    Parameters
    ----------
    direction : int
        +1: play runs towards larger t; −1: towards smaller t.
    parent : QWidget, optional

    Signals
    -------
    timestepChanged(int)
        The selected timestep t (emitted on every slider move, including programmatic ones).
    playingChanged(bool)
    """

    timestepChanged = Signal(int)
    playingChanged = Signal(bool)

    def __init__(self, direction: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._direction = 1 if direction >= 0 else -1
        self._timesteps = np.arange(1, dtype=np.int64)
        self._play = QToolButton()
        self._play.setCheckable(True)
        self._play.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._show_play_state(False)
        self._play.setToolTip("Animate over t at the chosen speed")
        self._play.toggled.connect(self._on_play_toggled)
        self._speed = QComboBox()
        for s in SPEEDS:
            self._speed.addItem(f"{s} steps/s", s)
        self._speed.setCurrentIndex(2)
        self._speed.setToolTip("Play speed")
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, 0)
        self._slider.setPageStep(10)
        self._slider.valueChanged.connect(self._on_slider)
        self._label = QLabel()
        # a fixed size: a text change on every move then asks no layout above for a new geometry
        fm = self._label.fontMetrics()
        self._label.setFixedSize(fm.horizontalAdvance("t = 0000 / 0000 ") + 8, fm.height() + 4)
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._play)
        layout.addWidget(self._speed)
        layout.addWidget(QLabel("clean"))
        layout.addWidget(self._slider, 1)
        layout.addWidget(QLabel("noise"))
        layout.addWidget(self._label)
        self._update_label()

    # ------------------------------------------------------------------ configuration
    def set_timesteps(self, timesteps, t: int | None = None) -> None:
        """Offer these timesteps (any order; sorted ascending) and select ``t`` (or the nearest)."""
        ts = np.unique(np.asarray(timesteps, dtype=np.int64))
        if ts.size == 0:
            ts = np.zeros(1, np.int64)
        keep = self.timestep() if t is None else int(t)
        self._timesteps = ts
        self._slider.blockSignals(True)
        self._slider.setRange(0, len(ts) - 1)
        self._slider.setPageStep(max(1, len(ts) // 20))
        self._slider.blockSignals(False)
        self.set_timestep(keep, force=True)

    def timesteps(self) -> np.ndarray:
        return self._timesteps.copy()

    def set_direction(self, direction: int) -> None:
        self._direction = 1 if direction >= 0 else -1

    # ------------------------------------------------------------------ value
    def timestep(self) -> int:
        """The selected t."""
        return int(self._timesteps[min(self._slider.value(), len(self._timesteps) - 1)])

    def position(self) -> int:
        """Index of the selected t in :meth:`timesteps`."""
        return self._slider.value()

    def set_timestep(self, t: int, force: bool = False) -> None:
        """Select the offered timestep nearest to ``t`` (emits ``timestepChanged`` if it moved or ``force``)."""
        i = int(np.clip(np.searchsorted(self._timesteps, t), 0, len(self._timesteps) - 1))
        if i > 0 and abs(self._timesteps[i - 1] - t) <= abs(self._timesteps[i] - t):
            i -= 1
        self.set_position(i, force)

    def set_position(self, i: int, force: bool = False) -> None:
        """Select the ``i``-th offered timestep."""
        i = int(np.clip(i, 0, len(self._timesteps) - 1))
        if i != self._slider.value():
            self._slider.setValue(i)  # emits through _on_slider
        elif force:
            self._on_slider(i)

    def slider(self) -> QSlider:
        """The slider itself (benchmarks and tests drive it like a user)."""
        return self._slider

    # ------------------------------------------------------------------ play
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        self._play.setChecked(True)

    def pause(self) -> None:
        self._play.setChecked(False)

    def set_speed(self, steps_per_s: int) -> None:
        i = self._speed.findData(steps_per_s)
        if i >= 0:
            self._speed.setCurrentIndex(i)

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        if on:
            end = len(self._timesteps) - 1 if self._direction > 0 else 0
            if self._slider.value() == end:  # at the end: start over
                self.set_position(len(self._timesteps) - 1 - end)
            self._timer.start()
        else:
            self._timer.stop()
        self._show_play_state(on)
        self.playingChanged.emit(on)

    @Slot()
    def _tick(self) -> None:
        per_tick = max(1, round(int(self._speed.currentData()) * _TICK_MS / 1000))
        i = self._slider.value() + self._direction * per_tick
        end = len(self._timesteps) - 1 if self._direction > 0 else 0
        if (i - end) * self._direction >= 0:
            self.set_position(end)
            self.pause()
        else:
            self.set_position(i)

    # ------------------------------------------------------------------ internals
    def _show_play_state(self, playing: bool) -> None:
        """The style's media icon and a plain word: the default fonts lack a pause glyph (⏸ drew as ▯)."""
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self._play.setIcon(self.style().standardIcon(icon))
        self._play.setText("Pause" if playing else "Play")

    @Slot(int)
    def _on_slider(self, _value: int) -> None:
        self._update_label()
        self.timestepChanged.emit(self.timestep())

    def _update_label(self) -> None:
        t, top = self.timestep(), int(self._timesteps[-1])
        self._label.setText("final sample" if t < 0 else f"t = {t} / {top}")
