"""Diffusion loss per timestep band over training, as a heat map.

Each :meth:`BandHeatmap.append` adds one column (a training step) of per-band losses; rows are
timestep bands (band 0 = least noise at the bottom). Colours show log10 of the loss, with a
colour bar. Columns live in a buffer that doubles when full; past 2,000 columns the display
averages neighbouring columns (ignoring NaN) so the image handed to Qt stays small.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND

__all__ = ["BandHeatmap", "MAX_COLUMNS"]

MAX_COLUMNS = 2000  # columns drawn at most; more are averaged in pairs until they fit


def _halve_columns(values: np.ndarray) -> np.ndarray:
    """Average column pairs, ignoring NaN (a pair of NaN stays NaN); an odd last column stays.

    Parameters
    ----------
    values : np.ndarray
        (B, n) float.

    Returns
    -------
    np.ndarray
        (B, ceil(n / 2)).
    """
    b, n = values.shape
    even = n - n % 2
    pairs = values[:, :even].reshape(b, even // 2, 2)  # (B, n//2, 2)
    finite = np.isfinite(pairs)
    count = finite.sum(axis=2)
    total = np.where(finite, pairs, 0.0).sum(axis=2)
    out = np.full((b, even // 2), np.nan)
    np.divide(total, count, out=out, where=count > 0)
    if n % 2:
        out = np.concatenate([out, values[:, -1:]], axis=1)
    return out


class BandHeatmap(QWidget):
    """Loss per timestep band (rows) against training step (columns).

    Parameters
    ----------
    title : str
        Shown above the plot.
    parent : QWidget, optional
    """

    def __init__(self, title: str = "loss per t band", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = np.empty((0, 256))  # (B, capacity); B fixed by the first append
        self._steps = np.empty(256)  # (capacity,)
        self._n = 0
        self._dirty = False

        self._plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        item = self._plot.getPlotItem()
        item.setTitle(title, color="#d0d0d0", size="10pt")
        item.setLabel("bottom", "step")
        item.setLabel("left", "t band")
        self._image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self._image)
        self._bar = pg.ColorBarItem(
            values=(-2.0, 0.0), colorMap=pg.colormap.get("viridis"), label="log10 loss",
            interactive=False, width=14,
        )
        self._bar.setImageItem(self._image, insert_in=item)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)

    def append(self, step: int, band_losses: np.ndarray) -> None:
        """Store one column; nothing is drawn until :meth:`refresh`.

        Parameters
        ----------
        step : int
            Training step of this column (steps should increase).
        band_losses : np.ndarray
            (B,) mean loss per band; NaN for bands without samples. B must not change.
        """
        col = np.asarray(band_losses, dtype=np.float64).reshape(-1)
        if self._n == 0 and self._values.shape[0] != col.shape[0]:
            self._values = np.empty((col.shape[0], self._steps.shape[0]))
        if col.shape[0] != self._values.shape[0]:
            raise ValueError(f"expected {self._values.shape[0]} bands, got {col.shape[0]}")
        if self._n == self._steps.shape[0]:
            cap = 2 * self._steps.shape[0]
            values = np.empty((self._values.shape[0], cap))
            values[:, : self._n] = self._values[:, : self._n]
            steps = np.empty(cap)
            steps[: self._n] = self._steps[: self._n]
            self._values, self._steps = values, steps
        if self._n == 0:
            self._label_bands(col.shape[0])
        self._values[:, self._n] = col
        self._steps[self._n] = step
        self._n += 1
        self._dirty = True

    def clear(self) -> None:
        """Forget all columns."""
        self._n = 0
        self._dirty = False
        self._image.clear()

    @Slot()
    def refresh(self) -> None:
        """Redraw if columns were appended since the last refresh."""
        if not self._dirty or self._n == 0:
            return
        self._dirty = False
        shown = self.display_values()  # (B, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            logv = np.log10(np.where(shown > 0, shown, np.nan)).astype(np.float32)
        finite = logv[np.isfinite(logv)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-2.0, 0.0)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        x0 = float(self._steps[0])
        x1 = float(self._steps[self._n - 1])
        m = shown.shape[1]
        # each column spans one step interval; a single column gets width 1
        width = (x1 - x0) * m / (m - 1) if m > 1 and x1 > x0 else 1.0
        self._image.setImage(logv, autoLevels=False)
        self._image.setRect(QRectF(x0, 0.0, width, float(shown.shape[0])))
        self._bar.setLevels((lo, hi))

    def _label_bands(self, bands: int) -> None:
        """Tick each band at its centre (every k-th band when there are many)."""
        every = max(1, int(np.ceil(bands / 12)))
        ticks = [(i + 0.5, str(i)) for i in range(0, bands, every)]
        self._plot.getPlotItem().getAxis("left").setTicks([ticks])

    def display_values(self) -> np.ndarray:
        """The (B, m) losses drawn: columns averaged in pairs until m <= MAX_COLUMNS."""
        shown = self._values[:, : self._n]
        while shown.shape[1] > MAX_COLUMNS:
            shown = _halve_columns(shown)
        return shown

    def has_undrawn(self) -> bool:
        """Whether columns were appended since the last :meth:`refresh`."""
        return self._dirty and self._n > 0

    def column_count(self) -> int:
        """Number of stored columns (training steps)."""
        return self._n

    def band_count(self) -> int:
        """Number of bands (0 before the first append)."""
        return self._values.shape[0] if self._n else 0

    def plot_item(self) -> pg.PlotItem:
        """The underlying pyqtgraph PlotItem."""
        return self._plot.getPlotItem()
