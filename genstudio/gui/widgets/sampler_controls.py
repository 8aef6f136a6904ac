"""The reverse view's sampling controls: sampler, steps, η, N, seed, Sample / Cancel and progress.

:class:`SamplerControls` turns its fields into a frozen :class:`~genstudio.sampling.SampleSpec` and says
how much memory the recording will take (float32 when it is small enough to branch exactly,
float16 otherwise). The sampler list is the registry (:mod:`genstudio.sampling`); steps and η are
enabled for a sampler that takes them (DDIM) and disabled (and drawn so) otherwise (DDPM). It starts nothing itself: the owner connects ``sampleClicked`` and ``cancelClicked`` to its
:class:`~genstudio.gui.sampling_controller.SamplingController`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QProgressBar, QPushButton, QSpinBox, QWidget

from genstudio.diffusion.trajectory import Trajectory
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.sampling import SAMPLERS, SampleSpec, get_sampler, record_dtype_for

__all__ = ["SamplerControls"]


class SamplerControls(QWidget):
    """One row: the sampler (DDPM, DDIM, …), steps, η, N, seed, Sample, Cancel, a progress bar and a memory note.

    Signals
    -------
    sampleClicked()
    cancelClicked()
    """

    sampleClicked = Signal()
    cancelClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = None
        self._busy = False
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
        self._kind.currentIndexChanged.connect(self._update)
        self._steps.valueChanged.connect(self._update)
        self._n.valueChanged.connect(self._update)
        self.go.clicked.connect(self.sampleClicked)
        self.cancel_button.clicked.connect(self.cancelClicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self._kind, self._steps, self._eta, self._n, self._seed, self.go, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self._progress, 1)
        row.addWidget(self._note)
        self._update()

    def _list_samplers(self) -> None:
        """One entry per registered sampler (label shown, name kept as the item's data)."""
        for d in SAMPLERS.values():
            self._kind.addItem(d.label, d.name)
        self._kind.setToolTip("; ".join(f"{d.label}: {d.description}" for d in SAMPLERS.values()))

    def sampler_names(self) -> list[str]:
        """The samplers offered, in list order."""
        return [self._kind.itemData(i) for i in range(self._kind.count())]

    # ------------------------------------------------------------------ spec
    def spec(self) -> SampleSpec:
        """What the fields ask for."""
        return SampleSpec(self._n.value(), self._seed.value(), self._kind.currentData(),
                          self._steps.value(), self._eta.value())

    def set_spec(self, spec: SampleSpec) -> None:
        self._kind.setCurrentIndex(self._kind.findData(spec.sampler))
        self._steps.setValue(spec.steps)
        self._eta.setValue(spec.eta)
        self._n.setValue(spec.n)
        self._seed.setValue(spec.seed)

    # ------------------------------------------------------------------ state
    def set_model(self, model) -> None:
        """Fit the fields to ``model`` (DDIM steps up to its T; 1,000 points for a 2-D model)."""
        self._model = model
        if model is not None:
            self._steps.setMaximum(model.schedule.num_steps)
            if model.is_points:
                self._n.setValue(1000)
        self._update()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update()

    def start_progress(self, total: int) -> None:
        self._progress.setRange(0, max(1, total))
        self._progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self._progress.setMaximum(max(1, total))
        self._progress.setValue(done)

    @Slot()
    def _update(self) -> None:
        busy, sampler = self._busy, get_sampler(self._kind.currentData())
        self._steps.setEnabled(sampler.takes_steps and not busy)
        self._eta.setEnabled(sampler.takes_eta and not busy)
        for w in (self._kind, self._n, self._seed):
            w.setEnabled(not busy)
        self.go.setEnabled(self._model is not None and not busy)
        self.cancel_button.setEnabled(busy)
        m = self._model
        if m is None:
            self._note.setText("load a diffusion model to sample")
            return
        spec = self.spec()
        steps = spec.total_steps(m.schedule.num_steps)
        shape = (spec.n, *m.sample_shape)
        dtype = record_dtype_for(steps, shape)
        mb = Trajectory.estimate_nbytes(steps, shape, dtype) / 2**20
        self._note.setText(f"records {steps} steps: {mb:,.0f} MB ({str(dtype).removeprefix('torch.')})")
