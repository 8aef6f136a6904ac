"""The collapse alarm in the Monitor: one line ("collapse: 3 of 8 modes") and a small histogram of
each mode's (or digit class's) share of the newest preview, drawn from a
:class:`genstudio.collapse.CollapseReport` the run sent with that preview."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from genstudio.collapse import REMEDIES_HINT

__all__ = ["CollapseBadge"]

_OK, _ALARM, _WAIT = "#57c965", "#ef5f5f", "#9a9a9a"


class _ShareBars(QWidget):
    """One bar per mode: its share of the samples, with a tick at the fair share 1/K."""

    def __init__(self) -> None:
        super().__init__()
        self.shares = np.zeros(0)
        self.flagged: set[int] = set()
        self.setFixedHeight(26)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(max(60, 9 * len(self.shares)), 26)

    def paintEvent(self, event: Any) -> None:
        k = len(self.shares)
        if not k:
            return
        p = QPainter(self)
        w, h = self.width(), self.height() - 2
        top = max(float(self.shares.max()), 2.0 / k)  # the fair share sits at half height or lower
        bw = w / k
        for i, share in enumerate(self.shares):
            bh = h * float(share) / top
            colour = QColor(_ALARM if i in self.flagged else "#4c9bf5")
            p.fillRect(QRectF(i * bw + 1, h - bh + 1, max(bw - 2, 1), bh), colour)
        p.setPen(QColor("#d0d0d0"))
        y = h - h * (1.0 / k) / top + 1
        p.drawLine(0, int(y), w, int(y))  # the fair share
        p.end()


class CollapseBadge(QWidget):
    """Shows the newest :class:`~genstudio.collapse.CollapseReport` (hidden until one arrives)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._bars = _ShareBars()
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self._bars)
        row.addWidget(self._label, 1)
        self.report = None
        self.setVisible(False)

    def show_report(self, report: Any) -> None:
        """Draw ``report`` (a CollapseReport); the remedies are named when it says collapse."""
        self.report = report
        self._bars.shares = report.shares
        self._bars.flagged = set(report.missing) | set(report.over)
        self._bars.updateGeometry()
        self._bars.update()
        mostly_off = report.on_mode is not None and report.on_mode < 0.5  # covered, but most samples miss
        colour = _ALARM if report.collapsed else (_WAIT if not report.judged or mostly_off else _OK)
        text = report.message + (f" — {REMEDIES_HINT}" if report.collapsed else "")
        self._label.setText(text)
        self._label.setStyleSheet(f"color: {colour}; font-weight: {'bold' if report.collapsed else 'normal'};")
        noun = "mode" if report.kind == "modes" else "digit class"
        self.setToolTip(f"Share of the newest preview's samples on each {noun} (line: a fair share). "
                        f"Collapse: a {noun} with under a quarter of its share, or one with far more.")
        self.setVisible(True)

    def clear(self) -> None:
        self.report = None
        self._label.setText("")
        self.setVisible(False)

    def text(self) -> str:
        """The line shown ("" when hidden)."""
        return self._label.text() if self.isVisible() or self.report is not None else ""
