"""A grid of samples whose cells can be clicked (the reverse view picks its selected sample so)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from genstudio.gui.widgets.sample_view import SampleView

__all__ = ["ClickGrid"]


class ClickGrid(SampleView):
    """A :class:`SampleView` that reports which cell of its grid was clicked.

    Set :attr:`cells` to ``(count, ncol, cell side in pixels)`` of the grid shown (1 px gaps).
    """

    cellClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cells = (0, 1, 1)  # (count, ncol, cell side in pixels)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        grid, rect = self.current_grid(), self.image_rect()
        n, ncol, side = self.cells
        canvas = self.layout().itemAt(1).widget()
        p = canvas.mapFrom(self, event.position().toPoint())
        if grid is None or rect.isEmpty() or not rect.contains(p.x(), p.y()):
            return
        x = (p.x() - rect.x()) / rect.width() * grid.shape[1]
        y = (p.y() - rect.y()) / rect.height() * grid.shape[0]
        i = int(y // (side + 1)) * ncol + int(x // (side + 1))
        if 0 <= i < n:
            self.cellClicked.emit(i)
