"""The exact denoiser beside the learned one, in the reverse view's 2-D plot.

:class:`ExactPanel` is a narrow column beside the plot: which field the arrows show (−ε̂ of the
network, −ε* of the ideal denoiser, or both overlaid in two colours), a heat map of ‖ε̂ − ε*‖ at
the step shown (with its scale), "sample the exact denoiser too" (the same spec and noise: its points
are drawn with the network's), and the error against t as a small curve with a marker at the
step shown. The panel renders a Qt-free :class:`~genstudio.views.exact_lab.ExactLab` and draws its
layers (exact arrows, heat map, exact samples) onto the plot's own PlotItem; the reverse view computes
what it draws (:func:`~genstudio.diffusion.exact_compare.compare_fields`) on its render thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from genstudio.diffusion.exact_compare import ErrorCurve, FieldComparison
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND
from genstudio.gui.widgets.points2d import Points2DView, arrow_segments
from genstudio.views.exact_lab import FIELDS, ExactLab

__all__ = ["ExactPanel", "HEAT_COLORMAP", "EXACT_ARROWS", "EXACT_POINTS", "TRAILS", "paths_xy"]

EXACT_ARROWS = (255, 160, 40)  # orange: the ideal field (the learned one stays light grey)
EXACT_POINTS = (90, 200, 255)  # sky blue: the exact denoiser's samples (real green, learned magenta)
_HEAT = [(22, 24, 30), (34, 62, 112), (92, 140, 214)]  # dark to blue: under every other colour
#: ‖ε̂ − ε*‖ from 0 (the plot's background) to the heat map's top level (light blue).
HEAT_COLORMAP = pg.ColorMap(pos=[0.0, 0.5, 1.0], color=_HEAT)
_PANEL_WIDTH = 270
TRAILS = 6  # samples whose paths (learned and exact, same noise) are drawn while exact samples are shown
_LEARNED_OVER = pg.mkPen(245, 245, 245, 235, width=1)  # −ε̂ drawn over −ε*


def _rgb(c: tuple[int, int, int]) -> str:
    return f"rgb({c[0]}, {c[1]}, {c[2]})"


def paths_xy(paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of S paths (S, K, 2) as one line broken by NaN between paths (``connect="finite"``)."""
    p = np.asarray(paths, np.float64)
    if p.size == 0:
        return np.empty(0), np.empty(0)
    gap = np.full((p.shape[0], 1, 2), np.nan)
    flat = np.concatenate([p, gap], axis=1).reshape(-1, 2)  # (S·(K+1), 2)
    return flat[:, 0], flat[:, 1]


class ExactPanel(QWidget):
    """The learned ε̂ against the exact ε*: controls and error curve, and layers on ``cloud``'s plot."""

    def __init__(self, lab: ExactLab, cloud: Points2DView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lab, self._cloud = lab, cloud
        self._fc: FieldComparison | None = None
        self._t: int | None = None
        self._marker_at: tuple[float, float] | None = None
        self._build()
        self._build_layers(cloud.plot_item())
        lab.changed.connect(self._on_lab)
        self._on_lab("model")

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.setFixedWidth(_PANEL_WIDTH)
        self._title = QLabel("<b>Exact denoiser</b>")
        # one-line labels (elided, the full text as tooltip): a word-wrapped label gives the column a
        # height-for-width, and the tab's scroll area then scrolls at 1280 × 720
        self._what = ElidedLabel("", min_chars=12)
        self._what.setStyleSheet("color: #b0b0b0;")
        self.fields = QComboBox()
        self.fields.addItems(list(FIELDS.values()))
        self.fields.setToolTip("The arrows: the network's −ε̂ (grey), the ideal −ε* of the data (orange), "
                               "or both on one scale")
        self.fields.currentIndexChanged.connect(lambda i: self.lab.set_fields(list(FIELDS)[i]))
        self.heat = QCheckBox("heat map of ‖ε̂ − ε*‖")
        self.heat.setToolTip("How far the network is from the ideal denoiser at each point, at the step shown")
        self.heat.toggled.connect(self.lab.set_heat)
        self._scale = QLabel("")
        self._scale.setStyleSheet("color: #b0b0b0;")
        self._ramp = QLabel("")
        self._ramp.setFixedHeight(8)
        self._ramp.setStyleSheet("background: qlineargradient(x1:0, y1:0, x2:1, y2:0, "
                                 + ", ".join(f"stop:{p} {_rgb(c)}" for p, c in zip((0, 0.5, 1), _HEAT)) + ");")
        self.samples = QCheckBox("sample the exact denoiser too")
        self.samples.setToolTip("Sample the ideal model with the same sampler, seed and noise; its points are "
                                "drawn (blue) with the network's at every step")
        self.samples.toggled.connect(self.lab.set_exact_samples)
        self._curve_title = ElidedLabel("", min_chars=12)
        self._curve_title.setStyleSheet("color: #c8c8c8;")
        self._plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        self._plot.setMinimumHeight(90)  # grows to 190 where there is room; 1280 × 720 must not scroll
        self._plot.setMaximumHeight(190)
        self._plot.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        item = self._plot.getPlotItem()
        item.setLogMode(y=True)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setLabel("bottom", "t")
        self._curve = pg.PlotDataItem(pen=pg.mkPen(200, 200, 200, width=1.5), symbol="o", symbolSize=4,
                                      symbolBrush=(200, 200, 200), symbolPen=None)
        self._marker = pg.PlotDataItem(pen=None, symbol="o", symbolSize=10, symbolBrush=(230, 200, 80),
                                       symbolPen=pg.mkPen(20, 20, 20))
        self._marker_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(230, 200, 80, 160, style=Qt.PenStyle.DashLine))
        self._marker_line.setVisible(False)
        self._marker.setZValue(10)  # over the dashed line through it
        for it in (self._curve, self._marker_line, self._marker):
            item.addItem(it)
        self._worst = ElidedLabel("", min_chars=12)
        self._worst.setStyleSheet("color: #b0b0b0;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self._title)
        layout.addWidget(self._what)
        arrows = QHBoxLayout()
        arrows.addWidget(QLabel("Arrows"))
        arrows.addWidget(self.fields, 1)
        layout.addLayout(arrows)
        layout.addWidget(self.heat)
        scale = QHBoxLayout()
        scale.addWidget(self._ramp, 1)
        scale.addWidget(self._scale)
        layout.addLayout(scale)
        for w in (self.samples, self._curve_title, self._plot, self._worst):
            layout.addWidget(w)
        layout.addStretch(1)

    def _build_layers(self, item: pg.PlotItem) -> None:
        self._heat_image = pg.ImageItem(axisOrder="row-major")
        self._heat_image.setColorMap(HEAT_COLORMAP)
        self._heat_image.setZValue(-9)
        self._heat_image.setVisible(False)
        item.addItem(self._heat_image)
        self._exact_arrows = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(*EXACT_ARROWS, 190, width=2.4),
                                             antialias=True)
        self._exact_arrows.setZValue(4)  # under the learned (thin, grey): where they agree, grey on orange
        item.addItem(self._exact_arrows)
        self._exact_points = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*EXACT_POINTS, 200), pxMode=True)
        self._exact_points.setZValue(12)
        self._trails = {who: pg.PlotDataItem(connect="finite", pen=pg.mkPen(*colour, 190, width=1.0), antialias=True)
                        for who, colour in (("learned", (235, 90, 235)), ("exact", EXACT_POINTS))}
        for trail in self._trails.values():
            trail.setZValue(9)
            item.addItem(trail)
        self._learned_pen = self._cloud.arrows_item().opts["pen"]  # the plot's own, when drawn alone
        item.addItem(self._exact_points)
        self._legend = getattr(item, "legend", None)

    # ------------------------------------------------------------------ the lab, rendered
    def _on_lab(self, what: str) -> None:
        lab = self.lab
        if what == "model":
            self._fc = None
            ok = lab.available
            for w in (self.fields, self.heat, self.samples):
                w.setEnabled(ok)
            self._what.setText(lab.describe() if ok else (lab.note or "no 2-D model"))
            self._curve_title.setText("error by t: mean ‖ε̂ − ε*‖² / 2" if ok else "")
            self._curve_title.setToolTip("Over x_t of the forward process of the data, 512 points per band: "
                                         "where in time the network is furthest from the ideal denoiser")
            self._plot.setVisible(ok)
            self._draw_curve()
            self.clear()
        elif what == "fields":
            self._set_index(self.fields, list(FIELDS).index(lab.fields))
            self._redraw()
        elif what == "heat":
            self._set_checked(self.heat, lab.heat)
            self._redraw()
        elif what == "exact_samples":
            self._set_checked(self.samples, lab.exact_samples)
            if not lab.exact_samples:
                self.set_exact_points(None)
            self._sync_legend()
        elif what == "curve":
            self._draw_curve()

    @staticmethod
    def _set_index(box: QComboBox, i: int) -> None:
        box.blockSignals(True)
        box.setCurrentIndex(i)
        box.blockSignals(False)

    @staticmethod
    def _set_checked(box: QCheckBox, on: bool) -> None:
        box.blockSignals(True)
        box.setChecked(on)
        box.blockSignals(False)

    # ------------------------------------------------------------------ the fields
    def show_fields(self, fc: FieldComparison | None) -> None:
        """Draw ``fc`` (both fields and the heat map at its t) as the lab says; None: clear them."""
        self._fc = fc
        self._redraw()

    def clear(self) -> None:
        """No fields, no heat map, no exact samples (a new model, or the final samples shown)."""
        self._fc = None
        self._redraw()
        self.set_exact_points(None)

    def _redraw(self) -> None:
        fc, lab = self._fc, self.lab
        empty = np.empty((0, 2))
        if fc is None:
            self._cloud.arrows_item().setPen(self._learned_pen)
            self._ramp.setVisible(False)
            self._exact_arrows.setData(np.empty(0), np.empty(0))
            self._heat_image.setVisible(False)
            self._scale.setText("")
            self._sync_legend()
            return
        spacing = (fc.extent[1] - fc.extent[0]) / (np.sqrt(len(fc.origins)) - 1)
        learned, exact = fc.arrows(spacing)
        self._cloud.set_arrows(*((fc.origins, learned) if lab.shows("learned") else (empty, empty)))
        overlaid = lab.shows("learned") and lab.shows("exact")  # thin bright grey over broad orange
        self._cloud.arrows_item().setPen(_LEARNED_OVER if overlaid else self._learned_pen)
        seg = arrow_segments(fc.origins, exact) if lab.shows("exact") else np.empty((0, 2))
        self._exact_arrows.setData(seg[:, 0], seg[:, 1])
        if lab.heat:
            top = max(float(np.percentile(fc.heat, 99)), 1e-6)  # a few far corners must not wash out the rest
            xmin, xmax, ymin, ymax = fc.extent
            self._heat_image.setImage(fc.heat.astype(np.float32), autoLevels=False, levels=(0.0, top))
            self._heat_image.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
            self._scale.setText(f"0 … {top:.2g}")
        else:
            self._scale.setText("")
        self._heat_image.setVisible(lab.heat)
        self._ramp.setVisible(lab.heat)
        self._sync_legend()

    def _sync_legend(self) -> None:
        """Name the arrows (and the exact samples) in the plot's legend while they are drawn."""
        if self._legend is None:
            return
        drawn = self._fc is not None
        entries = ((self._cloud.arrows_item(), "−ε̂ learned", drawn and self.lab.shows("learned") and self.lab.available),
                   (self._exact_arrows, "−ε* exact", drawn and self.lab.shows("exact")),
                   (self._exact_points, "exact denoiser's samples", self.exact_points_count() > 0))
        for it, _name, _on in entries:
            self._legend.removeItem(it)
        for it, name, on in entries:
            if on:
                self._legend.addItem(it, name)

    def heat_values(self) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
        """The heat map drawn, (n, n) row 0 at ymin, and its extent; None when it is not shown."""
        if self._fc is None or not self._heat_image.isVisible():
            return None
        return np.asarray(self._heat_image.image), self._fc.extent

    def exact_arrow_count(self) -> int:
        x, _ = self._exact_arrows.getData()
        return 0 if x is None else len(x) // 6

    # ------------------------------------------------------------------ exact samples
    def set_exact_points(self, points: np.ndarray | None) -> None:
        """Draw the exact denoiser's cloud at the step shown (None: none)."""
        p = np.empty((0, 2)) if points is None else np.asarray(points, np.float64)
        p = p[np.isfinite(p).all(axis=1)] if len(p) else p
        self._exact_points.setData(x=p[:, 0], y=p[:, 1])
        self._sync_legend()

    def set_trails(self, learned: np.ndarray | None, exact: np.ndarray | None) -> None:
        """Draw the paths (S, K, 2) of a few samples of each model up to the step shown (None: none)."""
        for who, paths in (("learned", learned), ("exact", exact)):
            self._trails[who].setData(*paths_xy(np.empty((0, 0, 2)) if paths is None else paths))

    def trail_points(self, who: str) -> int:
        """How many path points of ``"learned"`` or ``"exact"`` samples are drawn."""
        x, _ = self._trails[who].getData()
        return 0 if x is None else int(np.isfinite(x).sum())

    def exact_points_count(self) -> int:
        return len(self._exact_points.data)

    # ------------------------------------------------------------------ the error curve
    def _draw_curve(self) -> None:
        c: ErrorCurve | None = self.lab.curve
        if c is None:
            self._curve.setData([], [])
            self._worst.setText("computing the error by t…" if self.lab.available else "")
        else:
            self._curve.setData(c.centres, np.maximum(c.values, 1e-12))
            w = c.worst()
            self._worst.setText(f"worst at t {c.edges[w]}–{c.edges[w + 1] - 1}: {c.values[w]:.3g} "
                                f"(best {c.values.min():.2g})")
        self.set_timestep(self._t)

    def set_timestep(self, t: int | None) -> None:
        """Put the curve's marker on the band of ``t`` (None: the final samples, no marker)."""
        self._t = t
        c = self.lab.curve
        if c is None or t is None:
            self._marker.setData([], [])
            self._marker_line.setVisible(False)
            self._marker_at = None
            return
        b = c.band_of(t)
        self._marker_at = (float(t), float(c.values[b]))
        self._marker.setData([float(t)], [max(float(c.values[b]), 1e-12)])
        self._marker_line.setPos(float(t))
        self._marker_line.setVisible(True)

    def curve_values(self) -> np.ndarray:
        """The error per band drawn (empty before it is computed)."""
        return np.empty(0) if self.lab.curve is None else self.lab.curve.values.copy()

    def marker(self) -> tuple[float, float] | None:
        """(t, error of t's band) where the marker is drawn; None when hidden."""
        return self._marker_at
