"""The reverse view's Branch controls and the two endings it compares.

:class:`BranchPanel` holds the new seed and η of a branch, the "Branch here" button, and —
once a branch has ended — the original and the branched final samples side by side with their mean
|difference|: how much of the picture was already decided at the step branched from. For a
prompt-guided recording a second row (:class:`~genstudio.gui.widgets.branch_text.BranchTextRow`) holds
the prompt, negative prompt and s the branch continues with, on the recording's own noise: change the
prompt or the guidance mid-way and see both endings. The seed, η and text are a
:class:`~genstudio.views.scrubber.ScrubberState`'s (the fields show them and write edits back);
:class:`~genstudio.gui.widgets.reverse_view.ReverseView` runs the branch.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget

from genstudio.gui.widgets.branch_text import BranchTextRow
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.imaging import make_grid
from genstudio.scrub import points_image
from genstudio.views.scrubber import BranchEnding, ScrubberState

__all__ = ["BranchPanel", "SAME_ENDING"]

#: Below this mean |difference| (in [−1, 1] units) two endings count as the same.
SAME_ENDING = 0.01


class BranchPanel(QWidget):
    """Seed, η and the Branch button; the two endings once a branch has run.

    Signals
    -------
    branchClicked()
        The person pressed "Branch here".
    """

    branchClicked = Signal()

    def __init__(self, state: ScrubberState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._can_branch = False
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setPrefix("new seed ")
        self.seed.setValue(state.branch_seed)
        self.seed.valueChanged.connect(lambda v: state.set_branch_options(seed=v))
        self.eta = QDoubleSpinBox()
        self.eta.setRange(0.0, 1.0)
        self.eta.setSingleStep(0.1)
        self.eta.setPrefix("η = ")
        self.eta.setValue(state.branch_eta)
        self.eta.valueChanged.connect(lambda v: state.set_branch_options(eta=v))
        state.changed.connect(self._on_state)
        self.eta.setToolTip("for a sampler that takes η (DDIM): η of the branch (with η = 0 DDIM is "
                            "deterministic, and a new seed changes nothing)")
        self.button = QPushButton("Branch here")
        self.button.setToolTip("Keep x_t at this step, continue with another seed (or η), compare the endings")
        self.button.clicked.connect(self.branchClicked)
        self.text = BranchTextRow(state)  # a prompt-guided recording only
        self._summary = ElidedLabel("")  # elided, not wrapped: a long verdict never widens the tab
        self.row = QHBoxLayout()  # the owner may add its own buttons at the end
        for w in (self.seed, self.eta, self.button):
            self.row.addWidget(w)
        self.row.addStretch(1)
        self._endings = [SampleView(), SampleView()]
        self._ending_row = QWidget()  # shown once a branch has ended: the verdict, then both endings
        outer = QVBoxLayout(self._ending_row)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._summary)
        erow = QHBoxLayout()
        outer.addLayout(erow, 1)
        for v in self._endings:
            erow.addWidget(v, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(self.row)
        layout.addWidget(self._ending_row, 1)
        self.clear()

    def _on_state(self, what: str) -> None:
        if what == "branch_options":
            self.button.setEnabled(self._can_branch and not self.state.branch_text_error())
        if what in ("branch_options", "result"):  # a new recording may set η (DDIM η = 0 branches at η = 1)
            for box, value in ((self.seed, self.state.branch_seed), (self.eta, self.state.branch_eta)):
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)

    def set_enabled(self, can_branch: bool) -> None:
        """Enable the controls; η only when the recording's sampler takes one (DDIM)."""
        self._can_branch = can_branch
        for w in (self.button, self.seed):
            w.setEnabled(can_branch)
        self.button.setEnabled(can_branch and not self.state.branch_text_error())
        self.eta.setEnabled(can_branch and self.state.branch_takes_eta())

    def show_endings(self, original: np.ndarray, ending: BranchEnding,
                     extent: tuple[float, float, float, float], original_label: str = "original ending") -> None:
        """Show both final batches ((N, C, H, W) images or (N, 2) clouds) and their mean |difference|."""
        branch, t, diff = ending.final, ending.t, ending.diff
        if branch.ndim == 2:  # 2-D: the two clouds as pictures
            pics = [points_image(original, extent), points_image(branch, extent)]
        else:
            pics = [make_grid(original, pad=1), make_grid(branch, pad=1)]
        spec = self.state.result.spec if self.state.result is not None else None
        text = spec is not None and spec.guided
        if original_label != "original ending":  # the caller names it (an inversion: "reconstruction")
            original = original_label
        else:
            original = f"original: {_text_of(spec.prompt, spec.guidance)}" if text else "original ending"
        self._endings[0].set_images(pics[0], original)
        self._endings[1].set_images(pics[1], f"branch from t = {t}: " + (ending.what or f"seed {self.seed.value()}"))
        if ending.what == "nothing":
            verdict = "nothing changed: the branch retraces the recording"
        elif text and not any(ending.what.startswith(w) for w in ("seed", "η")):  # the text changed
            verdict = ("the same ending: the picture was already decided at this t" if diff < SAME_ENDING
                       else "the endings differ: the new text still steers the picture at this t")
        else:
            verdict = ("the same ending: already decided at this t" if diff < SAME_ENDING
                       else "the endings differ: not yet decided at this t")
        self._summary.setText(f"mean |difference| = {diff:.4f} ({verdict})")
        self._ending_row.setVisible(True)

    def clear(self) -> None:
        """Hide the endings."""
        for v in self._endings:
            v.clear()
        self._summary.setText("")
        self._ending_row.setVisible(False)

    def summary(self) -> str:
        """The line with the mean |difference| ("" before a branch)."""
        return self._summary.text()


def _text_of(prompt: str | None, guidance: float | None) -> str:
    """"'a handwritten 7', s = 3" (the empty prompt as the null caption)."""
    return (repr(prompt) if prompt else "the null caption") + ("" if guidance is None else f", s = {guidance:g}")
