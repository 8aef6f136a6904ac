"""A GAN Lab-style view of a 2-D distribution: real and fake points over D's opinion.

:class:`Points2DView` draws, in one square-aspect plot, a heat map of the discriminator's
probability that a location is real (purple = "fake", dark = undecided, green = "real"), the
real sample in green and the generator's sample in magenta, and optionally a field of short
arrows with heads (three line segments per arrow: the shaft and the two barbs of its head; the
diffusion scrubber uses it for the −ε̂ field).
Every item is created once; the setters only call ``setData``/``setImage``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND, legend_above, settle_range, show_grid

__all__ = ["Points2DView", "DECISION_COLORMAP", "arrow_segments"]

_REAL = (80, 220, 120)
ARROW_HEAD_LENGTH = 0.35  # of the arrow's length
ARROW_HEAD_ANGLE = np.deg2rad(28.0)  # each barb's angle to the shaft
_FAKE = (235, 90, 235)

#: Diverging map for D(x): 0 (looks fake) purple, 0.5 near the background, 1 (looks real) green.
DECISION_COLORMAP = pg.ColorMap(
    pos=[0.0, 0.5, 1.0],
    color=[(74, 38, 96), (30, 32, 38), (26, 96, 58)],
)


def _xy(points: np.ndarray, what: str) -> np.ndarray:
    """Validate an (N, 2) array and drop rows with a non-finite coordinate."""
    p = np.asarray(points, dtype=np.float64)
    if p.size == 0:
        return np.empty((0, 2))
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"{what} must have shape (N, 2), got {p.shape}")
    return p[np.isfinite(p).all(axis=1)]


def arrow_segments(origins: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Point pairs (6K, 2) for ``connect="pairs"``: per arrow its shaft, left barb and right barb
    (rows with a non-finite origin or vector are left out)."""
    o, d = np.asarray(origins, np.float64), np.asarray(vectors, np.float64)
    ok = np.isfinite(o).all(axis=1) & np.isfinite(d).all(axis=1)
    o, d = o[ok], d[ok]
    tip = o + d  # (K, 2)
    c, s = np.cos(ARROW_HEAD_ANGLE), np.sin(ARROW_HEAD_ANGLE)
    back = -d * ARROW_HEAD_LENGTH  # (K, 2) from the tip back along the shaft, turned ± the angle
    left = np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], axis=1)
    right = np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], axis=1)
    seg = np.empty((6 * o.shape[0], 2))  # (6K, 2): shaft, left barb, right barb as point pairs
    seg[0::6], seg[1::6] = o, tip
    seg[2::6], seg[3::6] = tip, tip + left
    seg[4::6], seg[5::6] = tip, tip + right
    return seg


class Points2DView(QWidget):
    """Real vs. generated 2-D points over the discriminator's decision surface.

    Parameters
    ----------
    parent : QWidget, optional
    point_size : float
        Marker diameter in screen pixels.
    generated : str
        The legend's name for the model's points: "fake" beside a discriminator (a GAN), "samples" for a
        diffusion model (:meth:`set_generated_name` changes it).
    """

    def __init__(self, parent: QWidget | None = None, point_size: float = 4.0, generated: str = "fake") -> None:
        super().__init__(parent)
        self._caption = ElidedLabel(" ")  # a long caption (step, losses, …) must not widen the tab
        self._caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption.setStyleSheet("color: #c8c8c8;")
        self._plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        item = self._plot.getPlotItem()
        item.setAspectLocked(True)
        show_grid(item, 0.12)
        legend_above(item)  # not over the points, where addLegend floats it

        self._heat = pg.ImageItem(axisOrder="row-major")
        self._heat.setColorMap(DECISION_COLORMAP)
        self._heat.setZValue(-10)
        self._heat.setVisible(False)
        item.addItem(self._heat)
        self._arrows = pg.PlotDataItem(
            connect="pairs", pen=pg.mkPen(200, 200, 200, 150, width=1), antialias=True
        )
        self._arrows.setZValue(5)
        item.addItem(self._arrows)
        self._real = pg.ScatterPlotItem(
            size=point_size, pen=None, brush=pg.mkBrush(*_REAL, 200), pxMode=True, name="real"
        )
        self._fake = pg.ScatterPlotItem(
            size=point_size, pen=None, brush=pg.mkBrush(*_FAKE, 200), pxMode=True, name=generated
        )
        self._real.setZValue(10)
        self._fake.setZValue(11)
        item.addItem(self._real)
        item.addItem(self._fake)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._caption)
        layout.addWidget(self._plot, 1)

    def set_generated_name(self, name: str) -> None:
        """Call the model's points ``name`` in the legend ("fake", "samples")."""
        if self._fake.name() == name:
            return
        self._fake.opts["name"] = name
        # relabel in place: a removed legend label, once its Python side is collected, was still asked
        # for its size by Qt (pyqtgraph's LabelItem then raised inside the event loop)
        for sample, label in self._plot.getPlotItem().legend.items:
            if sample.item is self._fake:
                label.setText(name)

    def legend_names(self) -> list[str]:
        """The names the legend shows, in order."""
        return [label.text for _, label in self._plot.getPlotItem().legend.items]

    def set_real(self, points: np.ndarray) -> None:
        """Show the real sample, (N, 2); rows with NaN/inf are skipped."""
        p = _xy(points, "real points")
        self._real.setData(x=p[:, 0], y=p[:, 1])
        settle_range(self._plot.getPlotItem())

    def set_fake(self, points: np.ndarray) -> None:
        """Show the generated sample, (M, 2); rows with NaN/inf are skipped."""
        p = _xy(points, "fake points")
        self._fake.setData(x=p[:, 0], y=p[:, 1])
        settle_range(self._plot.getPlotItem())

    def set_heatmap(self, values: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        """Show D(x) over a grid behind the points.

        Parameters
        ----------
        values : np.ndarray
            (H, W) probabilities in [0, 1]; row 0 is ``ymin``, column 0 is ``xmin``.
            NaN cells are transparent.
        extent : (xmin, xmax, ymin, ymax)
            The area the grid covers, in data coordinates.
        """
        v = np.asarray(values, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"heat map must be (H, W), got {v.shape}")
        v = np.where(np.isinf(v), np.clip(v, 0.0, 1.0), v)
        xmin, xmax, ymin, ymax = (float(e) for e in extent)
        self._heat.setImage(v, autoLevels=False, levels=(0.0, 1.0))
        self._heat.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        self._heat.setVisible(True)
        settle_range(self._plot.getPlotItem())

    def clear_heatmap(self) -> None:
        """Hide the heat map."""
        self._heat.setVisible(False)

    def set_arrows(self, origins: np.ndarray, vectors: np.ndarray) -> None:
        """Draw an arrow (a shaft and a two-barbed head) from each origin along its vector (empty: none).

        Parameters
        ----------
        origins, vectors : np.ndarray
            (K, 2) each, in data coordinates.
        """
        o, d = np.asarray(origins, np.float64), np.asarray(vectors, np.float64)
        if o.size == 0:
            self._arrows.setData(np.empty(0), np.empty(0))
            return
        if o.shape != d.shape or o.ndim != 2 or o.shape[1] != 2:
            raise ValueError(f"origins and vectors must both be (K, 2), got {o.shape}, {d.shape}")
        seg = arrow_segments(o, d)
        self._arrows.setData(seg[:, 0], seg[:, 1])

    def set_caption(self, text: str) -> None:
        """Text above the plot (e.g. "step 3,000")."""
        self._caption.setText(text)

    def caption(self) -> str:
        """The caption text."""
        return self._caption.text()

    def real_count(self) -> int:
        """Number of real points shown."""
        return len(self._real.data)

    def fake_count(self) -> int:
        """Number of generated points shown."""
        return len(self._fake.data)

    def arrow_count(self) -> int:
        """Number of arrows shown."""
        x, _ = self._arrows.getData()
        return 0 if x is None else len(x) // 6

    def arrow_segments(self) -> np.ndarray:
        """The drawn segments, (K, 3, 2, 2): per arrow the shaft, then the two barbs, each (start, end)."""
        x, y = self._arrows.getData()
        if x is None or len(x) == 0:
            return np.empty((0, 3, 2, 2))
        return np.stack([x, y], axis=1).reshape(-1, 3, 2, 2)

    def view_range(self) -> tuple[float, float, float, float]:
        """The visible area, (xmin, xmax, ymin, ymax)."""
        (x0, x1), (y0, y1) = self._plot.getPlotItem().getViewBox().viewRange()
        return (x0, x1, y0, y1)

    def heatmap_visible(self) -> bool:
        """Whether a heat map is shown."""
        return self._heat.isVisible()

    def set_view_range(self, xmin: float, xmax: float, ymin: float, ymax: float) -> None:
        """Fix the visible area (otherwise it follows the data)."""
        self._plot.getPlotItem().setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.02)

    def arrows_item(self) -> pg.PlotDataItem:
        """The item that draws :meth:`set_arrows`'s field (to name it in the legend)."""
        return self._arrows

    def plot_widget(self) -> pg.PlotWidget:
        """The underlying pyqtgraph PlotWidget (its viewport gets the mouse)."""
        return self._plot

    def plot_item(self) -> pg.PlotItem:
        """The underlying pyqtgraph PlotItem."""
        return self._plot.getPlotItem()
