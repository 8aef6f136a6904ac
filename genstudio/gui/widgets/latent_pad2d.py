"""The 2-D latent pad: drag z on the left, see G(z) land in data space on the right.

For a GAN on 2-D points the latent space is a plane too. :class:`LatentPad2D` shows, side by side,

* **latent space**: a draggable target at z over a faint regular grid of lines;
* **data space**: G(z) as a bright marker over a faint cloud of many generated points, and the
  same grid of lines mapped through G (the warped grid of GAN Lab), so one sees how the generator
  stretches and folds the plane.

Horizontal grid lines are drawn in one colour and vertical ones in another in both plots, so a
line can be followed from one side to the other. Clicking anywhere on the latent plot moves the
target there. Every plot item is created once; setters call ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QWidget

from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND, show_grid

__all__ = ["LatentPad2D"]

_ROWS = (90, 170, 230, 90)  # lines of constant z1
_COLS = (235, 160, 70, 90)  # lines of constant z0
_POINT = (255, 230, 90)
_CLOUD = (235, 90, 235, 60)
_PATH = (120, 230, 140, 200)


def _line_data(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten (L, P, 2) polylines to x, y and a pyqtgraph ``connect`` array breaking between lines."""
    lines = np.asarray(lines, np.float64)
    if lines.size == 0:
        return np.empty(0), np.empty(0), np.empty(0, bool)
    n_lines, n_points, _ = lines.shape
    connect = np.ones((n_lines, n_points), bool)
    connect[:, -1] = False  # no segment from the end of one line to the start of the next
    flat = lines.reshape(-1, 2)
    return flat[:, 0], flat[:, 1], connect.ravel()


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=PLOT_BACKGROUND, title=title)
    item = plot.getPlotItem()
    item.setAspectLocked(True)
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    show_grid(item, 0.1)
    item.setMenuEnabled(False)
    return plot


class LatentPad2D(QWidget):
    """Latent pad (left) and data-space view (right) for a 2-D GAN.

    Signals
    -------
    pointMoved(float, float)
        The target moved to latent ``(z0, z1)``: by a drag, a click, or :meth:`set_latent_point`.
    """

    pointMoved = Signal(float, float)

    def __init__(self, parent: QWidget | None = None, extent: float = 3.0) -> None:
        super().__init__(parent)
        self._latent = _plot("latent space z", "z0", "z1")  # named as the Dimensions sliders name them
        self._data = _plot("data space G(z)", "x", "y")
        lat, dat = self._latent.getPlotItem(), self._data.getPlotItem()

        self._grid_rows = pg.PlotDataItem(pen=pg.mkPen(*_ROWS, width=1))
        self._grid_cols = pg.PlotDataItem(pen=pg.mkPen(*_COLS, width=1))
        self._warp_rows = pg.PlotDataItem(pen=pg.mkPen(*_ROWS, width=1), antialias=True)
        self._warp_cols = pg.PlotDataItem(pen=pg.mkPen(*_COLS, width=1), antialias=True)
        self._cloud = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*_CLOUD), pxMode=True)
        self._z_path = pg.PlotDataItem(pen=pg.mkPen(*_PATH, width=2))
        self._x_path = pg.PlotDataItem(pen=pg.mkPen(*_PATH, width=2), antialias=True)
        self._out = pg.ScatterPlotItem(size=14, pen=pg.mkPen("#101010", width=1.5),
                                       brush=pg.mkBrush(*_POINT), pxMode=True, symbol="o")
        self._target = pg.TargetItem(pos=(0.0, 0.0), size=16, pen=pg.mkPen(*_POINT, width=2),
                                     brush=pg.mkBrush(*_POINT, 80), movable=True)
        for item in (self._grid_rows, self._grid_cols, self._z_path):
            lat.addItem(item)
        lat.addItem(self._target)
        for item in (self._cloud, self._warp_rows, self._warp_cols, self._x_path, self._out):
            dat.addItem(item)
        self._cloud.setZValue(-5)
        self._out.setZValue(10)
        self._target.setZValue(10)
        self._target.sigPositionChanged.connect(self._on_target_moved)
        self._latent.scene().sigMouseClicked.connect(self._on_click)
        self._output = np.full(2, np.nan)
        self.set_extent(extent)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self._latent, 1)
        layout.addWidget(self._data, 1)

    # ------------------------------------------------------------------ latent side
    def set_extent(self, extent: float) -> None:
        """Show the latent square ``[-extent, extent]²``."""
        self._extent = float(extent)
        self._latent.getPlotItem().setRange(xRange=(-extent, extent), yRange=(-extent, extent),
                                            padding=0.05)

    def set_latent_point(self, x: float, y: float, emit: bool = True) -> None:
        """Move the target to latent ``(x, y)``, by the path a drag takes (``TargetItem.setPos``).

        With ``emit=False`` the target moves silently (the view already knows z).
        """
        self._target.blockSignals(not emit)
        try:
            self._target.setPos(float(x), float(y))
        finally:
            self._target.blockSignals(False)

    def axis_names(self) -> tuple[str, str]:
        """The latent plot's axis labels (x, y), e.g. ("z0", "z1")."""
        item = self._latent.getPlotItem()
        return item.getAxis("bottom").labelText, item.getAxis("left").labelText

    def latent_point(self) -> tuple[float, float]:
        """The target's latent position."""
        p = self._target.pos()
        return float(p.x()), float(p.y())

    @Slot(object)
    def _on_target_moved(self, target: object) -> None:
        x, y = self.latent_point()
        self.pointMoved.emit(x, y)

    @Slot(object)
    def _on_click(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        vb = self._latent.getPlotItem().getViewBox()
        if vb.sceneBoundingRect().contains(event.scenePos()):
            p: QPointF = vb.mapSceneToView(event.scenePos())
            self.set_latent_point(p.x(), p.y())

    # ------------------------------------------------------------------ data side
    def set_output_point(self, xy: np.ndarray) -> None:
        """Show G(z), a 2-vector, in data space."""
        p = np.asarray(xy, np.float64).ravel()[:2]
        self._output = p.copy()
        self._out.setData(x=p[:1], y=p[1:2])

    def output_point(self) -> np.ndarray:
        """The data-space point shown (NaN before the first)."""
        return self._output.copy()

    def set_cloud(self, points: np.ndarray) -> None:
        """Show many generated points (N, 2) faintly: where G puts its mass."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        self._cloud.setData(x=p[:, 0], y=p[:, 1])

    def cloud_count(self) -> int:
        """Points in the cloud."""
        return len(self._cloud.data)

    def set_grid(self, latent_lines: np.ndarray, data_lines: np.ndarray) -> None:
        """Show a latent grid and its image under G.

        Parameters
        ----------
        latent_lines, data_lines : np.ndarray
            (2n, P, 2) each: n lines of constant z1 then n of constant z0
            (:func:`genstudio.latent.latent_grid_lines` and its mapping through G).
        """
        half = latent_lines.shape[0] // 2
        for item, lines in ((self._grid_rows, latent_lines[:half]), (self._grid_cols, latent_lines[half:]),
                            (self._warp_rows, data_lines[:half]), (self._warp_cols, data_lines[half:])):
            x, y, connect = _line_data(lines)
            item.setData(x, y, connect=connect)

    def warped_grid(self) -> np.ndarray:
        """The data-space grid lines shown, as flat (M, 2) points (for tests)."""
        parts = [np.column_stack(i.getData()) for i in (self._warp_rows, self._warp_cols)
                 if i.getData()[0] is not None]
        return np.concatenate(parts) if parts else np.empty((0, 2))

    def set_path(self, z_path: np.ndarray | None, x_path: np.ndarray | None) -> None:
        """Show an interpolation walk in both spaces ((T, 2) each), or hide it with None."""
        for item, path in ((self._z_path, z_path), (self._x_path, x_path)):
            if path is None:
                item.setData([], [])
            else:
                p = np.asarray(path, np.float64).reshape(-1, 2)
                item.setData(p[:, 0], p[:, 1])

    def picture(self) -> np.ndarray:
        """Both plots as shown, uint8 (H, W, 3) (what "Save image" writes for a 2-D model)."""
        image = self.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        w, h = image.width(), image.height()
        rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
        return rows[:, :3 * w].reshape(h, w, 3).copy()

    def fit_data_view(self, points: np.ndarray) -> None:
        """Frame the data plot around ``points`` (N, 2), robust to a few outliers."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        if p.shape[0] == 0:
            return
        lo, hi = np.percentile(p, 0.5, axis=0), np.percentile(p, 99.5, axis=0)
        pad = 0.1 * max(float((hi - lo).max()), 1e-3)
        self._data.getPlotItem().setRange(xRange=(lo[0] - pad, hi[0] + pad),
                                          yRange=(lo[1] - pad, hi[1] + pad), padding=0.0)
