"""The Monitor's time-lapse bar: play / pause, a slider over the run's saved previews, the chosen
step, and "Export GIF…".

It renders a :class:`~genstudio.views.timelapse.TimeLapseState` and writes the person's moves back
to it (the slider calls ``state.choose``; the play button ``state.toggle``); while the state plays, a
timer advances it :data:`FPS` times a second. What a chosen step shows is the Monitor's business.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QToolButton, QWidget

from genstudio.views.timelapse import TimeLapseState

__all__ = ["TimeLapseBar", "FPS"]

#: Frames a second while playing (and in the exported GIF): a 50-preview run plays in ~6 s.
FPS = 8.0


class TimeLapseBar(QWidget):
    """Controls of a :class:`TimeLapseState`.

    Signals
    -------
    exportRequested()
        "Export GIF…" was pressed.
    """

    exportRequested = Signal()

    def __init__(self, state: TimeLapseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.play_button = QToolButton()
        self.play_button.setToolTip("Play the previews saved so far as an animation (Space)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("The preview saved at each step; a click on the loss curve picks the nearest")
        self.label = QLabel()
        self.label.setStyleSheet("color: #c8c8c8;")
        self.label.setMinimumWidth(120)
        self.export_button = QPushButton("Export GIF…")
        self.export_button.setToolTip("Write the saved previews as an animated GIF, the step on each frame")
        self._timer = QTimer(self)
        self._timer.setInterval(int(round(1000 / FPS)))
        self._timer.timeout.connect(self._tick)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 2, 0, 0)
        row.addWidget(QLabel("Time-lapse"))
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.export_button)

        self.play_button.clicked.connect(self._on_play)
        self.slider.valueChanged.connect(self._on_slider)
        self.export_button.clicked.connect(self.exportRequested)
        state.changed.connect(self._show)
        self._show("frames")

    # ------------------------------------------------------------------ state -> controls
    def _show(self, what: str = "") -> None:
        st = self.state
        n = len(st.steps)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(st.index or 0)
        self.slider.blockSignals(False)
        for w in (self.slider, self.play_button, self.export_button):
            w.setEnabled(n > 0)
        self.play_button.setEnabled(n > 1)
        self.play_button.setText("❚❚" if st.playing else "▶")
        step = st.step()
        if step is None:
            self.label.setText("no previews yet")
        else:
            where = "newest" if st.is_newest() else f"{st.index + 1} of {n}"
            self.label.setText(f"step {step:,} ({where})")
        if st.playing and not self._timer.isActive():
            self._timer.start()
        elif not st.playing and self._timer.isActive():
            self._timer.stop()

    # ------------------------------------------------------------------ controls -> state
    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.state.pause()
        self.state.choose(value)

    @Slot()
    def _on_play(self) -> None:
        self.state.toggle()

    @Slot()
    def _tick(self) -> None:
        self.state.advance()

    def is_playing(self) -> bool:
        return self.state.playing
