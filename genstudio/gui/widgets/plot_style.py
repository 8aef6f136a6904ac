"""The look shared by GenStudio's plots: a dark background and grid lines cheap to repaint.

pyqtgraph draws a grid by stretching each axis's ticks across the view with a translucent pen.
Qt's raster engine blends every pixel of a translucent line, which made the grid about half of
a live loss plot's paint time (3 of 5.6 ms at 560 × 380; benchmarks/soak_app.py). The same look
with an opaque pen, its colour mixed with the background beforehand, draws with plain span fills.
Only the major and minor tick levels are stretched, so the opaque minor lines do not crowd
the view.

Legends sit in a row above the data area (:func:`legend_above`), never over the curves.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSizePolicy

__all__ = ["PLOT_BACKGROUND", "show_grid", "settle_range", "blend", "legend_above"]

#: Behind every plot and image view.
PLOT_BACKGROUND = "#16181c"


def blend(colour: QColor | str, background: QColor | str, amount: float) -> QColor:
    """``amount`` (0..1) of ``colour`` over ``background``, as an opaque colour."""
    a, b = QColor(colour), QColor(background)
    mix = [round(amount * ca + (1 - amount) * cb) for ca, cb in zip(a.getRgb()[:3], b.getRgb()[:3])]
    return QColor(*mix)


def show_grid(item: pg.PlotItem, alpha: float, background: QColor | str = PLOT_BACKGROUND) -> None:
    """Grid lines on both axes of ``item``, as visible as ``alpha`` over ``background``, opaque."""
    item.showGrid(x=True, y=True, alpha=1.0)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickPen(pg.mkPen(blend(axis.pen().color(), background, alpha)))
        axis.setStyle(tickAlpha=255, maxTickLevel=1)


def settle_range(item: pg.PlotItem) -> None:
    """Apply the auto-range that new data call for now, not in the middle of the next paint.

    pyqtgraph defers it to just before painting; the range then changes during the paint, which
    schedules a second full repaint of the plot (two paints per data update instead of one).
    """
    item.getViewBox().prepareForPaint()


def legend_above(item: pg.PlotItem, columns: int = 6, **kwargs) -> pg.LegendItem:
    """A legend laid out in a row between the title and the data area of ``item``.

    pyqtgraph's ``addLegend`` floats the legend over the view box, where curves run under it.
    This one takes the top-axis cell of the plot's layout (the plot must not show a top axis), so
    the data area shrinks by one text line instead; named items added to ``item`` later join it,
    as with ``addLegend``.
    """
    legend = pg.LegendItem(colCount=columns, labelTextColor="#d0d0d0", horSpacing=14, verSpacing=-6, **kwargs)
    top = item.getAxis("top")
    item.layout.removeItem(top)  # hidden and unused: its cell holds the legend
    top.hide()
    legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)  # as wide as its entries
    item.layout.addItem(legend, 1, 1)
    item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    item.legend = legend  # PlotItem.addItem(…, name=…) adds named items here
    return legend
