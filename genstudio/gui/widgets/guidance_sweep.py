"""The Scrubber's guidance sweep: the same seed and prompt at s = 0, 1, 3, 7 (editable), one row per s.

:class:`GuidanceSweepView` renders a :class:`~genstudio.views.guidance_sweep.GuidanceSweep` and takes
the prompt, seed, sampler and N from the reverse view's
:class:`~genstudio.views.scrubber.ScrubberState`, so a sweep compares exactly what Sample would draw
at each scale. The rows run one after the other on a
:class:`~genstudio.gui.sampling_controller.SamplingController` (the reverse view's thread class),
with one progress bar for the whole sweep and Cancel; rows already done stay shown.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from genstudio.gui.sampling_controller import SamplingController
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.imaging import make_grid
from genstudio.latent_images import to_pictures
from genstudio.sampling import SamplingResult
from genstudio.views.guidance_sweep import MAX_ROWS, GuidanceSweep
from genstudio.views.scrubber import ScrubberState

__all__ = ["GuidanceSweepView"]


class GuidanceSweepView(QWidget):
    """Scales, Run sweep / Cancel and progress over one row of samples per guidance scale.

    Parameters
    ----------
    scrubber : ScrubberState
        The reverse view's state: its model and spec (prompt, negative, seed, sampler, N) are swept.

    Signals
    -------
    message(str)
        A one-line note for the person.
    """

    message = Signal(str)

    def __init__(self, scrubber: ScrubberState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scrubber = scrubber
        self.state = GuidanceSweep()
        self.sampler = SamplingController(self)
        self.sampler.progress.connect(self._on_progress)
        self.sampler.finished.connect(self._on_finished)
        self.sampler.failed.connect(self._on_failed)
        self.sampler.cancelled.connect(lambda _job: self._stop("guidance sweep cancelled"))
        self.sampler.busyChanged.connect(self._on_busy)
        self._cancelled = False
        self.scales = QLineEdit(self.state.text)
        self.scales.setToolTip("Guidance scales s to compare, one row each (0 = unconditional, 1 = conditional)")
        self.scales.textEdited.connect(self.state.set_text)
        self.go, self.cancel_button = QPushButton("Run sweep"), QPushButton("Cancel")
        self.go.setToolTip("Sample the prompt with the same seed at each scale (the Reverse tab's sampler, N, seed)")
        self.go.clicked.connect(lambda: self.run())
        self.cancel_button.clicked.connect(self.cancel)
        self._progress = QProgressBar()
        self._progress.setFormat("%v / %m steps")
        self._what = ElidedLabel("", min_chars=10)
        self._error = ElidedLabel("", min_chars=3)
        self._error.setStyleSheet("color: #d03030;")
        row = QHBoxLayout()
        row.addWidget(QLabel("Scales s ="))
        row.addWidget(self.scales, 1)
        for w in (self.go, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self._progress, 1)
        self.rows = [SampleView() for _ in range(MAX_ROWS)]
        body = QWidget()
        rows = QVBoxLayout(body)
        rows.setContentsMargins(0, 0, 0, 0)
        for v in self.rows:
            v.setMinimumHeight(90)
            rows.addWidget(v, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self._error)
        layout.addWidget(self._what)
        layout.addWidget(scroll, 1)
        self.state.changed.connect(self._on_state)
        scrubber.changed.connect(lambda what: self._update() if what in ("model", "spec", "busy") else None)
        self._on_state("plan")

    # ------------------------------------------------------------------ commands
    def run(self) -> bool:
        """Start the sweep of the scrubber's spec; False (with a message) when it cannot start."""
        st = self.scrubber
        if st.model is None or self.sampler.is_busy() or self.sampler.is_closed():
            return False
        try:
            st.check_prompt()
            self.state.plan(st.spec)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self._cancelled = False
        self._progress.setRange(0, max(1, sum(st.total_steps(s) for s in self.state.specs)))
        self._progress.setValue(0)
        self._start_next()
        return True

    def cancel(self) -> None:
        """Stop after the running step; the rows done stay shown."""
        self._cancelled = True
        self.sampler.cancel()

    def is_busy(self) -> bool:
        return self.state.busy

    def shutdown(self) -> None:
        self._cancelled = True
        self.sampler.shutdown()

    def _start_next(self) -> None:
        spec = self.state.next_spec()
        if spec is None or self._cancelled or self.scrubber.model is None:
            self.state.set_busy(False)
            return
        self.state.set_busy(True)
        self.sampler.start("sweep", self.scrubber.model, spec, record=False)

    # ------------------------------------------------------------------ the sampling thread
    @Slot(int, int)
    def _on_progress(self, done: int, _total: int) -> None:
        before = sum(self.scrubber.total_steps(s) for s in self.state.specs[:len(self.state.rows)])
        self._progress.setValue(before + done)

    @Slot(str, object)
    def _on_finished(self, _job: str, result: SamplingResult) -> None:
        self.state.add_row(to_pictures(self.scrubber.model, result.final))  # a latent model's rows: its preview

    @Slot(str, str, str)
    def _on_failed(self, _job: str, message: str, _details: str) -> None:
        self._stop(f"guidance sweep failed: {message}")

    def _stop(self, note: str) -> None:
        self._cancelled = True
        self.message.emit(note)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if not busy:  # a row ended: the next starts once its thread is gone
            self._start_next()

    # ------------------------------------------------------------------ the state, drawn
    def _on_state(self, what: str) -> None:
        sw = self.state
        if what in ("plan", "row"):
            for k, view in enumerate(self.rows):
                view.setVisible(k < max(1, len(sw.specs)))
                if k < len(sw.rows):
                    final = sw.rows[k]
                    view.set_images(make_grid(final, nrow=len(final), pad=1), sw.row_caption(sw.specs[k]))
                else:  # a row still to come (or none)
                    view.clear()
            spec = sw.specs[0] if sw.specs else None
            self._what.setText(f"prompt {spec.prompt!r}" + (f", negative {spec.negative!r}" if spec.negative else "")
                               + f": {spec.describe().split(', prompt')[0]}" if spec else
                               "Run sweep samples the Reverse tab's prompt and seed at each scale, one row each")
        self._error.setText(sw.error)
        self._error.setVisible(bool(sw.error))
        self._update()

    def _update(self) -> None:
        busy = self.state.busy
        self.go.setEnabled(not busy and self.scrubber.model is not None and not self.state.error
                           and not self.scrubber.prompt_error())
        self.cancel_button.setEnabled(busy)
        self.scales.setEnabled(not busy)
