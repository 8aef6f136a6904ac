"""A one-line label that elides ("…") instead of widening or wrapping its row.

A long note ("compare mode: no ε̂ …", "mean |difference| = …") in a row of controls would
otherwise set the row's minimum width and push the tab into a horizontal scroll bar; a wrapped
label makes its layout height-for-width, and a scroll area then sizes the page by its *preferred*
height. :class:`ElidedLabel` asks for little width, draws as much of the text as fits and keeps
the whole text in its tool tip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["ElidedLabel"]


class ElidedLabel(QLabel):
    """A single-line QLabel that shows "…" when the text is wider than the label.

    Parameters
    ----------
    text : str
    parent : QWidget, optional
    min_chars : int
        Roughly how many characters it keeps room for at least.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, min_chars: int = 8) -> None:
        super().__init__(text, parent)
        self._min_chars = int(min_chars)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("x" * self._min_chars) if self.text() else 0, fm.height())

    def shown_text(self) -> str:
        """The text as drawn now (elided to the label's width)."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), self.shown_text(), self.foregroundRole())
        painter.end()
