"""The reverse view's sampling controls: sampler, steps, η, N, seed, Sample / Cancel and progress.

:class:`SamplerControls` turns its fields into a frozen :class:`~genstudio.sampling.SampleSpec` and says
how much memory the recording will take (float32 when it is small enough to branch exactly,
float16 otherwise). Its fields render a :class:`~genstudio.views.scrubber.ScrubberState`'s spec and
write edits back to it. The sampler list is the registry (:mod:`genstudio.sampling`); steps and η are
enabled for a sampler that takes them (DDIM) and disabled (and drawn so) otherwise (DDPM). It starts nothing itself: the owner connects ``sampleClicked`` and ``cancelClicked`` to its
:class:`~genstudio.gui.sampling_controller.SamplingController`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QProgressBar, QPushButton, QSpinBox, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.sampling import SAMPLERS
from genstudio.views.scrubber import ScrubberState

__all__ = ["SamplerControls"]


class SamplerControls(QWidget):
    """One row: the sampler (DDPM, DDIM, …), steps, η, N, seed, Sample, Cancel, a progress bar and a memory note.

    Parameters
    ----------
    state : ScrubberState, optional
        The state whose spec the fields show and edit (a new one if not given).
    parent : QWidget, optional

    Signals
    -------
    sampleClicked()
    cancelClicked()
    """

    sampleClicked = Signal()
    cancelClicked = Signal()

    def __init__(self, state: ScrubberState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state if state is not None else ScrubberState()
        self._kind = QComboBox()
        self._list_samplers()
        self._steps, self._n, self._seed = QSpinBox(), QSpinBox(), QSpinBox()
        self._steps.setRange(1, 4000)
        self._steps.setValue(50)
        self._steps.setSuffix(" steps")
        self._n.setRange(1, 4096)
        self._n.setValue(16)
        self._n.setPrefix("N = ")
        self._seed.setRange(0, 2**31 - 1)
        self._seed.setPrefix("seed ")
        self._eta = QDoubleSpinBox()
        self._eta.setRange(0.0, 1.0)
        self._eta.setSingleStep(0.1)
        self._eta.setPrefix("η = ")
        steps_by = "/".join(d.label for d in SAMPLERS.values() if d.takes_steps) or "no sampler"
        eta_by = "/".join(d.label for d in SAMPLERS.values() if d.takes_eta) or "no sampler"
        self._steps.setToolTip(f"{steps_by} only: how many of the T timesteps to visit (DDPM always takes all T)")
        self._eta.setToolTip(f"{eta_by} only: η = 0 is deterministic, η = 1 adds DDPM-like noise")
        self.go = QPushButton("Sample")
        self.cancel_button = QPushButton("Cancel")
        self._progress = QProgressBar()
        self._progress.setFormat("%v / %m steps")
        # elided, not wrapped: a wrapped label made the Scrubber's page height-for-width, and its
        # scroll area then asked for the preferred height (the timeline fell below the fold)
        self._note = ElidedLabel("", min_chars=3)
        # wide enough for the longest count (DDPM's "1000 / 1000 steps" was cut at 1280 px)
        self._progress.setMinimumWidth(self._progress.fontMetrics().horizontalAdvance("1000 / 1000 steps") + 12)
        self._seed.setMaximumWidth(130)
        for box in (self._steps, self._n, self._eta):
            box.setMaximumWidth(100)
        self._kind.currentIndexChanged.connect(lambda _i: self.state.edit(sampler=self._kind.currentData()))
        self._steps.valueChanged.connect(lambda v: self.state.edit(steps=v))
        self._eta.valueChanged.connect(lambda v: self.state.edit(eta=v))
        self._n.valueChanged.connect(lambda v: self.state.edit(n=v))
        self._seed.valueChanged.connect(lambda v: self.state.edit(seed=v))
        self.go.clicked.connect(self.sampleClicked)
        self.cancel_button.clicked.connect(self.cancelClicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self._kind, self._steps, self._eta, self._n, self._seed, self.go, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self._progress, 1)
        row.addWidget(self._note)
        self.state.changed.connect(self._on_state)
        self._show_spec()

    def _list_samplers(self) -> None:
        """One entry per registered sampler (label shown, name kept as the item's data)."""
        for d in SAMPLERS.values():
            self._kind.addItem(d.label, d.name)
        self._kind.setToolTip("; ".join(f"{d.label}: {d.description}" for d in SAMPLERS.values()))

    def sampler_names(self) -> list[str]:
        """The samplers offered, in list order."""
        return [self._kind.itemData(i) for i in range(self._kind.count())]

    # ------------------------------------------------------------------ state -> fields
    def _on_state(self, what: str) -> None:
        if what in ("model", "spec", "busy"):
            self._show_spec()

    def _show_spec(self) -> None:
        """Put the state's spec into the fields (silently), enable what applies, say what it records."""
        st = self.state
        spec, busy, m = st.spec, st.busy, st.model
        self._steps.blockSignals(True)
        self._steps.setMaximum(m.schedule.num_steps if m is not None else 4000)
        self._steps.blockSignals(False)
        for box, value in ((self._steps, spec.steps), (self._eta, spec.eta), (self._n, spec.n),
                           (self._seed, spec.seed), (self._kind, self._kind.findData(spec.sampler))):
            box.blockSignals(True)
            box.setCurrentIndex(value) if box is self._kind else box.setValue(value)
            box.blockSignals(False)
        sampler = spec.definition
        self._steps.setEnabled(sampler.takes_steps and not busy)
        self._eta.setEnabled(sampler.takes_eta and not busy)
        for w in (self._kind, self._n, self._seed):
            w.setEnabled(not busy)
        self.go.setEnabled(m is not None and not busy and not st.prompt_error())  # an unknown word: refused
        self.cancel_button.setEnabled(busy)
        self._note.setText(st.recording_note())

    # ------------------------------------------------------------------ progress
    def start_progress(self, total: int) -> None:
        self._progress.setRange(0, max(1, total))
        self._progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self._progress.setMaximum(max(1, total))
        self._progress.setValue(done)
