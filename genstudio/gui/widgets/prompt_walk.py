"""The Scrubber's prompt walk: from the Reverse tab's prompt to another, on one fixed noise, saved as a GIF.

:class:`PromptWalkView` renders a :class:`~genstudio.views.prompt_walk.PromptWalk` and takes prompt A,
the negative prompt, s, the sampler and the seed from the reverse view's
:class:`~genstudio.views.scrubber.ScrubberState`. The frames are drawn on a
:class:`~genstudio.gui.walk_controller.WalkController` thread with a progress bar and Cancel; they
appear as a strip as they arrive, a slider plays through them large, and "Save GIF…" writes them
(:func:`genstudio.text2image.walk.walk_gif_frames`: each frame with a bar that shows α).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSlider, QSpinBox,
    QVBoxLayout, QWidget,
)

from genstudio.gui.walk_controller import WalkController
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.prompt_controls import WordCompleter
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.imaging import make_grid, save_gif
from genstudio.text2image.walk import MAX_FRAMES, WALK_METHODS, walk_gif_frames
from genstudio.views.prompt_walk import PromptWalk
from genstudio.views.scrubber import ScrubberState

__all__ = ["PromptWalkView"]

STRIP_COLUMNS = 8  # frames per row of the strip


class PromptWalkView(QWidget):
    """Target prompt, frames, method; Walk / Cancel / Save GIF…; the frames as a strip and one large.

    Signals
    -------
    message(str)
        A one-line note for the person.
    """

    message = Signal(str)

    def __init__(self, scrubber: ScrubberState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scrubber = scrubber
        self.state = PromptWalk()
        self.walker = WalkController(self)
        self.walker.progress.connect(self._on_progress)
        self.walker.frame.connect(self._on_frame)
        self.walker.failed.connect(self._on_failed)
        self.walker.busyChanged.connect(self._on_busy)
        self.to = QLineEdit()
        self.to.setPlaceholderText("the prompt to walk to")
        self.to.setToolTip("The walk goes from the Reverse tab's prompt to this one, on one fixed noise")
        completer = WordCompleter(self.to)
        self.to.setCompleter(completer)
        self.completer = completer
        self.to.textEdited.connect(lambda text: self.state.set_options(prompt_to=text))
        self.frames = QSpinBox()
        self.frames.setRange(2, MAX_FRAMES)
        self.frames.setValue(self.state.frames)
        self.frames.setSuffix(" frames")
        self.frames.valueChanged.connect(lambda v: self.state.set_options(frames=v))
        self.method = QComboBox()
        self.method.addItems(WALK_METHODS)
        self.method.setToolTip("slerp: along the sphere the text encoder's (layer-normed) embeddings lie on; "
                               "lerp: a straight line, through shorter embeddings")
        self.method.currentTextChanged.connect(lambda m: self.state.set_options(method=m))
        self.index = QSpinBox()
        self.index.setRange(0, 1023)
        self.index.setPrefix("noise of sample #")
        self.index.setToolTip("Every frame starts from this sample's x_T (and its step noise) of the Reverse "
                              "tab's seed: frame 0 is that sample drawn with the Reverse tab's prompt")
        self.index.valueChanged.connect(lambda v: self.state.set_options(index=v))
        self.go, self.cancel_button, self.save = QPushButton("Walk"), QPushButton("Cancel"), QPushButton("Save GIF…")
        self.go.setToolTip("Sample every frame (the Reverse tab's sampler, steps, s, negative prompt and seed)")
        self.go.clicked.connect(lambda: self.run())
        self.cancel_button.clicked.connect(self.cancel)
        self.save.clicked.connect(self._ask_gif)
        self._progress = QProgressBar()
        self._progress.setFormat("%v / %m steps")
        self._what = ElidedLabel("", min_chars=10)
        self._error = ElidedLabel("", min_chars=3)
        self._error.setStyleSheet("color: #d03030;")
        row = QHBoxLayout()
        row.addWidget(QLabel("Walk to"))
        row.addWidget(self.to, 3)
        for w in (self.frames, self.method, self.index, self.go, self.cancel_button, self.save):
            row.addWidget(w)
        row.addWidget(self._progress, 1)
        self.large = SampleView()  # the frame the slider shows
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self._show_frame)
        self.strip = SampleView()  # every frame so far, in order
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.large, 1)
        left.addWidget(self.slider)
        body.addLayout(left, 2)
        body.addWidget(self.strip, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self._error)
        layout.addWidget(self._what)
        layout.addLayout(body, 1)
        self.state.changed.connect(self._on_state)
        scrubber.changed.connect(lambda what: self._update() if what in ("model", "spec", "busy") else None)
        self._on_state("plan")

    # ------------------------------------------------------------------ commands
    def run(self) -> bool:
        """Start the walk from the scrubber's spec; False (with a message) when it cannot start."""
        st = self.scrubber
        if st.model is None or self.walker.is_busy() or self.walker.is_closed():
            return False
        try:
            st.check_prompt()
            spec = self.state.plan(st.spec, st.model)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        frames, method, index = self.state.planned
        self._progress.setRange(0, max(1, frames * st.total_steps(spec)))
        self._progress.setValue(0)
        self.state.set_busy(True)
        self.walker.start(st.model, spec, self.state.target, frames, method, index)
        return True

    def cancel(self) -> None:
        """Stop after the running network step; the frames done stay shown."""
        self.walker.cancel()

    def is_busy(self) -> bool:
        return self.state.busy

    def shutdown(self) -> None:
        self.walker.shutdown()

    def save_gif(self, path: str, long_side: int | None = 256) -> bool:
        """Write the finished walk as a GIF at ``path`` (8 frames a second); False before one is done."""
        if not self.state.done():
            return False
        save_gif(path, walk_gif_frames(np.stack(self.state.images), long_side), fps=8)
        self.message.emit(f"prompt walk saved to {path}")
        return True

    @Slot()
    def _ask_gif(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the prompt walk", "walk.gif", "GIF (*.gif)")
        if path:
            self.save_gif(path if path.endswith(".gif") else path + ".gif")

    # ------------------------------------------------------------------ the walk's thread
    @Slot(int, int)
    def _on_progress(self, done: int, _total: int) -> None:
        self._progress.setValue(done)

    @Slot(int, float, object)
    def _on_frame(self, _k: int, alpha: float, image: object) -> None:
        self.state.add_frame(alpha, np.asarray(image))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.message.emit(f"prompt walk failed: {message}")

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if not busy:
            if self.walker.cancelled:
                self.message.emit(f"prompt walk cancelled after {len(self.state.images)} frames")
            self.state.set_busy(False)

    # ------------------------------------------------------------------ the state, drawn
    def _on_state(self, what: str) -> None:
        sw = self.state
        if what in ("plan", "frame"):
            n = len(sw.images)
            if n:
                batch = np.stack(sw.images)  # (n, C, H, W)
                self.strip.set_images(make_grid(batch, nrow=min(STRIP_COLUMNS, sw.planned[0]), pad=1),
                                      f"{n} of {sw.planned[0]} frames, left to right, top to bottom")
            else:
                self.strip.clear()
                self.large.clear()
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(0, n - 1))
            self.slider.setValue(max(0, n - 1))  # follow the newest frame
            self.slider.blockSignals(False)
            self._show_frame(self.slider.value())
            self._what.setText(sw.describe() or "Walk samples the Reverse tab's prompt, then the way to another "
                               "prompt, every frame from the same noise")
        error = sw.error(self.scrubber.model)
        self._error.setText(error)
        self._error.setVisible(bool(error))
        self._update()

    @Slot(int)
    def _show_frame(self, k: int) -> None:
        sw = self.state
        if 0 <= k < len(sw.images):
            self.large.set_images(make_grid(sw.images[k][None], pad=0),
                                  f"frame {k + 1} of {sw.planned[0]}: α = {sw.alphas[k]:.2f}")

    def _update(self) -> None:
        busy, st = self.state.busy, self.scrubber
        words = st.vocabulary()
        if self.completer.words() != sorted(words):
            self.completer.set_words(words)
        self.go.setEnabled(not busy and st.model is not None and not st.prompt_error()
                           and not self.state.error(st.model))
        self.cancel_button.setEnabled(busy)
        self.save.setEnabled(not busy and self.state.done())
        for w in (self.to, self.frames, self.method, self.index):
            w.setEnabled(not busy)
