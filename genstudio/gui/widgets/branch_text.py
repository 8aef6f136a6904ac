"""The branch panel's text row for a prompt-guided recording: continue from step t with another prompt.

:class:`BranchTextRow` shows and edits a :class:`~genstudio.views.scrubber.ScrubberState`'s
``branch_prompt``, ``branch_negative`` and ``branch_guidance``: the text the branch continues with from
the step shown (on the recording's own noise). A new recording fills it with that recording's text;
a word the model never saw shows the tokenizer's message in red and disables the branch. It is hidden
unless the recording was prompt-guided.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from genstudio.diffusion.guidance import MAX_GUIDANCE
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.prompt_controls import GUIDANCE_TIP, WordCompleter, show_text_row
from genstudio.views.scrubber import ScrubberState

__all__ = ["BranchTextRow"]


class BranchTextRow(QWidget):
    """"From here, continue with: prompt · negative prompt · s", with the tokenizer's message under it."""

    def __init__(self, state: ScrubberState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.prompt, self.negative = QLineEdit(), QLineEdit()
        self.prompt.setPlaceholderText("prompt from here on")
        self.negative.setPlaceholderText("negative prompt from here on")
        self.prompt.setToolTip("Change the prompt mid-way: the branch keeps x_t at this step and the recording's "
                               "noise, and continues with this prompt")
        self.completers = []
        for box in (self.prompt, self.negative):
            c = WordCompleter(box)
            box.setCompleter(c)
            self.completers.append(c)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, MAX_GUIDANCE)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        self.guidance.setPrefix("s = ")
        self.guidance.setToolTip("Guidance scale from this step on.\n" + GUIDANCE_TIP)
        self.error = ElidedLabel("", min_chars=3)
        self.error.setStyleSheet("color: #d03030;")
        self.prompt.textEdited.connect(lambda text: state.set_branch_options(prompt=text))
        self.negative.textEdited.connect(lambda text: state.set_branch_options(negative=text))
        self.guidance.valueChanged.connect(lambda v: state.set_branch_options(guidance=float(v)))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("From this step on:"))
        row.addWidget(self.prompt, 3)
        row.addWidget(self.negative, 2)
        row.addWidget(self.guidance)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addLayout(row)
        col.addWidget(self.error)
        state.changed.connect(self._on_state)
        self._show()

    def _on_state(self, what: str) -> None:
        if what in ("model", "result", "branch_options", "busy"):
            self._show()

    def _show(self) -> None:
        st = self.state
        shown = st.result is not None and st.result.spec.guided
        self.setVisible(shown)
        if not shown:
            return
        show_text_row(self, st.vocabulary(), st.branch_prompt, st.branch_negative, st.branch_guidance, st.busy,
                      st.branch_text_error())
