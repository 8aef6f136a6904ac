"""The arena, live: GAN against diffusion on the same 2-D data, one curve each against CPU-seconds.

:class:`ArenaView` draws what :mod:`genstudio.arena` measures as the evaluations arrive
(:class:`~genstudio.gui.arena_runner.ArenaRunner`): the share of samples within 0.1 of a mode for
a set with modes (ring8, grid25), else the sliced Wasserstein distance to fresh real points, with
the contenders' colours of ``arena.png``; under the plot, a line per contender with its latest
numbers, and at the end the table ``genstudio arena`` prints. Its curves are created once and
set with ``setData``.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from genstudio.arena import CONTENDERS
from genstudio.arena_plot import COLOURS
from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND, legend_above, settle_range, show_grid

__all__ = ["ArenaView"]


class ArenaView(QWidget):
    """One curve per contender of the arena being run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QLabel(" ")
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._title.setWordWrap(True)  # the Monitor's curves stack is as wide as its widest page needs
        self._title.setStyleSheet("color: #c8c8c8;")
        self._plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        item = self._plot.getPlotItem()
        show_grid(item, 0.12)
        legend_above(item)
        item.setLabel("bottom", "CPU-seconds of training")
        self._curves = {kind: item.plot([], [], name=kind, pen=pg.mkPen(COLOURS[kind], width=2), symbol="o",
                                        symbolSize=6, symbolBrush=COLOURS[kind], symbolPen=None)
                        for kind in CONTENDERS}
        self._lines = QLabel(" ")
        self._lines.setTextFormat(Qt.TextFormat.PlainText)
        self._lines.setWordWrap(True)
        self._lines.setStyleSheet("color: #c8c8c8;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._plot, 1)
        layout.addWidget(self._lines)
        self._points: dict[str, list] = {kind: [] for kind in CONTENDERS}
        self._modes = True
        self._table_text = ""

    def begin(self, data: str, budget: float, modes: bool) -> None:
        """Forget the last arena; plot share within 0.1 (``modes``) or the sliced Wasserstein distance."""
        self._modes = modes
        self._points = {kind: [] for kind in CONTENDERS}
        for curve in self._curves.values():
            curve.setData([], [])
        item = self._plot.getPlotItem()
        item.setLabel("left", "% within 0.1 of a mode" if modes else "sliced Wasserstein to real points")
        self._title.setText(f"Arena on {data}: GAN against diffusion, {budget:g} CPU-seconds each "
                            f"(the GAN first)")
        self._lines.setTextFormat(Qt.TextFormat.PlainText)
        self._lines.setText("training the GAN…")
        self._table_text = ""

    def add(self, point) -> None:
        """Add one :class:`~genstudio.arena.ArenaPoint` to its contender's curve."""
        run = self._points.setdefault(point.kind, [])
        run.append(point)
        x = np.array([p.cpu_s for p in run], np.float64)
        y = np.array([self._value(p) for p in run], np.float64)
        if point.kind in self._curves:
            self._curves[point.kind].setData(x, y)
        settle_range(self._plot.getPlotItem())
        self._lines.setText("\n".join(self._line(kind) for kind in CONTENDERS if self._points.get(kind)))

    def set_table(self, text: str) -> None:
        """Show the finished arena's table (``genstudio arena``'s Markdown) under the plot, as a table."""
        self._table_text = text.strip()
        self._lines.setTextFormat(Qt.TextFormat.RichText)
        self._lines.setText(markdown_table_html(self._table_text))

    def _value(self, p) -> float:
        return 100.0 * p.share if self._modes else p.swd

    def _line(self, kind: str) -> str:
        p = self._points[kind][-1]
        modes = f"{p.modes} modes, {p.share:.1%} within 0.1, " if self._modes and math.isfinite(p.share) else ""
        return f"{kind:9s} {p.cpu_s:6.1f} CPU-s  step {p.step:6,}  {modes}sliced W. {p.swd:.3f}"

    # ------------------------------------------------------------------ queries (tests)
    def point_count(self, kind: str) -> int:
        """Evaluations of ``kind`` drawn."""
        x, _ = self._curves[kind].getData()
        return 0 if x is None else len(x)

    def text(self) -> str:
        """The lines under the plot, or the finished arena's table (Markdown)."""
        return self._table_text or self._lines.text()

    def title(self) -> str:
        return self._title.text()


def markdown_table_html(text: str) -> str:
    """``genstudio arena``'s text (paragraphs, then a Markdown table) as HTML for a QLabel."""
    parts, rows = [], []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if not all(set(c) <= {"-", ":"} for c in cells):  # the |---| line
                rows.append(cells)
        elif line:
            parts.append(f"<p>{html.escape(line)}</p>")
    if rows:
        head = "".join(f"<th>{c}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
        parts.append(f"<table cellspacing='0' cellpadding='3' border='1'><tr>{head}</tr>{body}</table>")
    return "".join(parts)
