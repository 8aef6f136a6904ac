"""The reverse view's text fields for a model that reads a prompt: prompt, negative prompt, guidance s.

:class:`PromptControls` renders the prompt, negative prompt and guidance scale of a
:class:`~genstudio.views.scrubber.ScrubberState`'s spec and writes edits back to it; it is hidden for
a model without text. The prompt boxes complete the word being typed from the model's vocabulary
(:class:`WordCompleter`), and a word the model never saw shows the tokenizer's message in red under
the boxes (the state then refuses to sample, and the Sample button is disabled).
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.diffusion.guidance import MAX_GUIDANCE, SCALE_CONVENTION
from genstudio.views.scrubber import ScrubberState

__all__ = ["PromptControls", "WordCompleter", "GUIDANCE_TIP"]

GUIDANCE_TIP = ("Classifier-free guidance scale s = 0 is the unconditional model, s = 1 the conditional one, "
                "s > 1 pushes harder toward the prompt (diffusers' guidance_scale is the same s).\n"
                + SCALE_CONVENTION)


class WordCompleter(QCompleter):
    """Completes the last word of a line from a word list ("a red st" → "a red star")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(QStringListModel([], self))
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)

    def set_words(self, words: list[str]) -> None:
        self.model().setStringList(sorted(words))

    def words(self) -> list[str]:
        return self.model().stringList()

    def splitPath(self, path: str) -> list[str]:  # noqa: N802 (Qt's name)
        return [path.rsplit(" ", 1)[-1]]  # match the word being typed

    def pathFromIndex(self, index) -> str:  # noqa: N802 (Qt's name)
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = text.rsplit(" ", 1)[0] + " " if " " in text else ""
        return head + str(index.data())  # an index of the completion model (the filtered words)


class PromptControls(QWidget):
    """Prompt, negative prompt and guidance s, with the tokenizer's message under them in red.

    Parameters
    ----------
    state : ScrubberState
        The state whose spec (``prompt``, ``negative``, ``guidance``) the fields show and edit.
    parent : QWidget, optional

    Signals
    -------
    walkRequested()
        "Walk to…" was pressed: the person wants to walk from this prompt to another (the Scrubber's
        Prompt walk tab).
    """

    walkRequested = Signal()

    def __init__(self, state: ScrubberState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.walk = QPushButton("Walk to…")
        self.walk.setToolTip("Walk from this prompt to another on one fixed noise, frame by frame, and save a GIF")
        self.walk.clicked.connect(self.walkRequested)
        self.prompt, self.negative = QLineEdit(), QLineEdit()
        self.prompt.setPlaceholderText("prompt (empty: the null caption)")
        self.negative.setPlaceholderText("negative prompt (optional)")
        self.prompt.setToolTip("What to draw, in the model's words (the completions list them)")
        self.negative.setToolTip("Guidance pushes away from this prompt: it takes the null caption's place in ε̂_∅")
        self.completers = []
        for box in (self.prompt, self.negative):
            c = WordCompleter(box)
            box.setCompleter(c)
            self.completers.append(c)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, MAX_GUIDANCE)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        self.guidance.setPrefix("guidance s = ")
        self.guidance.setToolTip(GUIDANCE_TIP)
        self.error = ElidedLabel("", min_chars=3)  # one line: the whole message is its tool tip
        self.error.setObjectName("promptError")
        self.error.setStyleSheet("color: #d03030;")
        self.prompt.textEdited.connect(lambda text: self.state.edit(prompt=text))
        self.negative.textEdited.connect(lambda text: self.state.edit(negative=text))
        self.guidance.valueChanged.connect(lambda v: self.state.edit(guidance=float(v)))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Prompt"))
        row.addWidget(self.prompt, 3)
        row.addWidget(self.negative, 2)
        row.addWidget(self.guidance)
        row.addWidget(self.walk)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addLayout(row)
        col.addWidget(self.error)
        self.state.changed.connect(self._on_state)
        self._show()

    def _on_state(self, what: str) -> None:
        if what in ("model", "spec", "busy"):
            self._show()

    def _show(self) -> None:
        """Show the state's prompt, negative and s (silently); hidden for a model without text."""
        st = self.state
        text = st.takes_text()
        self.setVisible(text)
        if not text:
            return
        spec = st.spec
        show_text_row(self, st.vocabulary(), spec.prompt, spec.negative, spec.guidance, st.busy, st.prompt_error())


def show_text_row(row, words, prompt: str | None, negative: str | None, guidance: float | None, busy: bool,
                  message: str) -> None:
    """Show a prompt row's values silently (no edit signals): ``row`` has ``completers``, ``prompt``,
    ``negative``, ``guidance`` and ``error`` (the prompt controls, and the branch's text row)."""
    if words and row.completers[0].words() != sorted(words):
        for c in row.completers:
            c.set_words(words)
    for box, value in ((row.prompt, prompt or ""), (row.negative, negative or "")):
        if box.text() != value:
            box.blockSignals(True)
            box.setText(value)
            box.blockSignals(False)
    row.guidance.blockSignals(True)
    row.guidance.setValue(guidance or 0.0)
    row.guidance.blockSignals(False)
    for w in (row.prompt, row.negative, row.guidance):
        w.setEnabled(not busy)
    row.error.setText(message)
    row.error.setVisible(bool(message))
