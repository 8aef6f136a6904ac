"""Live training curves: raw values faint, their EMA bold, a readout under the cursor.

:class:`LossPlot` holds any number of named curves ("loss_D", "loss_G"; "D(x)", "D(G(z))";
"loss"). Data arrive with :meth:`LossPlot.append`, which only stores them; the GUI timer calls
:meth:`LossPlot.refresh` at ~30 Hz to redraw what changed.

A refresh costs the new points, not the history: the EMA state is carried between refreshes,
and each curve keeps a :class:`~genstudio.series.MinMaxPyramid`, so pyqtgraph is handed about
one bucket per pixel of the visible x range (raw points once zoomed in far enough) instead of a
million points to clip and downsample on every frame. Raw values are drawn as their min/max
envelope (no spike hidden); the smoothed line as bucket means (a clean trend). Non-finite
values are dropped on arrival and counted; the readout says how many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND, blend, legend_above, settle_range, show_grid
from genstudio.series import EmaState, MinMaxPyramid, Series

__all__ = ["LossPlot", "CURVE_COLOURS"]

#: One colour per curve, in the order names are first seen (readable on a dark background).
CURVE_COLOURS = ("#4c9bf5", "#f59b42", "#57c965", "#ef5f5f", "#b38cf2", "#e6c84f", "#4fd6d6")
_SLIDER_STEPS = 999  # slider position p <-> smoothing p / 1000, so 0 ... 0.999


@dataclass
class _Curve:
    """Stored data and plot items of one named curve."""

    colour: str
    raw_item: pg.PlotDataItem
    smooth_item: pg.PlotDataItem
    raw: Series = field(default_factory=Series)
    smooth: Series = field(default_factory=Series)  # same x as raw, filled lazily by refresh
    raw_lod: MinMaxPyramid = field(default_factory=MinMaxPyramid)
    smooth_lod: MinMaxPyramid = field(default_factory=MinMaxPyramid)
    ema: EmaState | None = None
    skipped: int = 0  # non-finite values dropped on append
    dirty: bool = False


class LossPlot(QWidget):
    """A plot of named training curves with smoothing, log scale and a cursor readout.

    Parameters
    ----------
    title : str
        Shown above the plot.
    names : list of str
        Curves created up front (in this legend order); unknown names passed to
        :meth:`append` are added on the fly.
    parent : QWidget, optional

    Signals
    -------
    stepClicked(float)
        A left click inside the plot, at this step (the Monitor's time-lapse picks the nearest preview).
    """

    stepClicked = Signal(float)

    def __init__(self, title: str, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._alpha = 0.6
        self._curves: dict[str, _Curve] = {}
        self._marks: list[tuple[int, str, pg.InfiniteLine]] = []  # settings changed mid-run

        self._plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        item = self._plot.getPlotItem()
        item.setTitle(title, color="#d0d0d0", size="10pt")
        show_grid(item, 0.15)
        item.setLabel("bottom", "step")
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        self._legend = legend_above(item)  # in a row above the curves, not over them
        self._fed_full = True  # curves hold the whole x range (x auto-range was on)
        view = item.getViewBox()
        view.sigXRangeChanged.connect(self._on_x_range_changed)
        view.sigResized.connect(self._on_view_resized)
        view.sigStateChanged.connect(self._on_view_state_changed)
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", width=1))
        self._cursor.setVisible(False)
        item.addItem(self._cursor, ignoreBounds=True)
        # the step of the preview the Monitor shows (its time-lapse), a dashed yellow line
        self._marker = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen("#e6c84f", width=1, style=Qt.PenStyle.DashLine))
        self._marker.setZValue(5)
        self._marker.setVisible(False)
        item.addItem(self._marker, ignoreBounds=True)
        self._marker_due, self._marker_due_step = False, None  # mark_later's step, for the next refresh
        self._plot.scene().sigMouseClicked.connect(self._on_clicked)
        self._proxy = pg.SignalProxy(
            self._plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )

        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, _SLIDER_STEPS)
        self._slider.setFixedWidth(120)
        self._slider.setToolTip("Exponential moving average weight (0 = raw values)")
        self._spin = QDoubleSpinBox()
        self._spin.setRange(0.0, 0.999)
        self._spin.setDecimals(3)
        self._spin.setSingleStep(0.05)
        self._spin.setToolTip(self._slider.toolTip())
        self._log = QCheckBox("log y")
        self._readout = QLabel(" ")
        self._readout_plain = ""
        self._readout.setTextFormat(Qt.TextFormat.RichText)
        self._readout.setStyleSheet("color: #c8c8c8;")

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.addWidget(QLabel("smoothing"))
        bar.addWidget(self._slider)
        bar.addWidget(self._spin)
        bar.addSpacing(12)
        bar.addWidget(self._log)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self._plot, 1)
        layout.addWidget(self._readout)

        self._sync_controls()
        self._slider.valueChanged.connect(self._on_slider)
        self._spin.valueChanged.connect(self._on_spin)
        self._log.toggled.connect(self.set_log_y)
        for name in names:
            self._curve(name)

    # ------------------------------------------------------------------ data in
    def append(self, name: str, steps: np.ndarray, values: np.ndarray) -> None:
        """Store new points of one curve; nothing is drawn until :meth:`refresh`.

        Parameters
        ----------
        name : str
            Curve name; a new name adds a curve.
        steps, values : array_like
            Shape (k,) each (scalars allowed). Steps should increase along a curve.
            Pairs whose value or step is NaN or infinite are dropped and counted.
        """
        steps = np.asarray(steps, dtype=np.float64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if steps.shape != values.shape:
            raise ValueError(f"{name}: {steps.shape[0]} steps but {values.shape[0]} values")
        curve = self._curve(name)
        finite = np.isfinite(values) & np.isfinite(steps)
        if not finite.all():
            curve.skipped += int(finite.size - np.count_nonzero(finite))
            steps, values = steps[finite], values[finite]
        if steps.size:
            curve.raw.extend(steps, values)
            curve.dirty = True

    def clear(self) -> None:
        """Forget all points of every curve (the curves and their colours stay)."""
        for curve in self._curves.values():
            curve.raw.clear()
            curve.smooth.clear()
            curve.raw_lod.clear()
            curve.smooth_lod.clear()
            curve.ema = None
            curve.skipped = 0
            curve.dirty = True
        for _, _, line in self._marks:
            self._plot.getPlotItem().removeItem(line)
        self._marks.clear()
        self._cursor.setVisible(False)
        self._marker.setVisible(False)
        self._readout.setText(" ")
        self._readout_plain = ""
        self.refresh()

    def mark(self, step: int, label: str) -> None:
        """A vertical line at ``step`` labelled ``label``: a setting changed there."""
        line = pg.InfiniteLine(pos=step, angle=90, movable=False, label=label,
                               pen=pg.mkPen("#e6c84f", width=2),  # a 1 px line is not drawn here (pyqtgraph 0.14)
                               labelOpts={"position": 0.92, "color": "#e6c84f", "anchors": [(0, 0), (0, 0)]})
        self._plot.getPlotItem().addItem(line, ignoreBounds=True)
        self._marks.append((int(step), label, line))

    def marks(self) -> list[tuple[int, str]]:
        """``(step, label)`` of every mark, oldest first."""
        return [(step, label) for step, label, _ in self._marks]

    # ------------------------------------------------------------------ drawing
    @Slot()
    def refresh(self) -> None:
        """Redraw the curves that changed since the last refresh (and move the marker to the step
        :meth:`mark_later` asked for)."""
        if self._marker_due:
            self._marker_due = False
            self.set_marker(self._marker_due_step)
        window = self._window()
        changed = False
        for curve in self._curves.values():
            if not curve.dirty:
                continue
            changed = True
            curve.dirty = False
            raw = curve.raw
            curve.raw_lod.update(raw.x, raw.y)
            if self._alpha > 0.0:
                if curve.ema is None:
                    curve.ema = EmaState(self._alpha)
                    curve.smooth.clear()
                    curve.smooth_lod.clear()
                done = len(curve.smooth)
                if done < len(raw):
                    curve.smooth.extend(raw.x[done:], curve.ema.update(raw.y[done:]))
                curve.smooth_lod.update(curve.smooth.x, curve.smooth.y)
            self._draw(curve, window)
        if changed:
            settle_range(self._plot.getPlotItem())

    def _window(self) -> tuple[float, float, int]:
        """The x interval to hand to pyqtgraph and the plot width in device pixels."""
        view = self._plot.getPlotItem().getViewBox()
        pixels = max(int(view.width() * self.devicePixelRatioF()), 200)
        self._fed_full = bool(view.autoRangeEnabled()[0])
        if self._fed_full:
            return -np.inf, np.inf, pixels
        x0, x1 = view.viewRange()[0]
        return x0, x1, pixels

    def _draw(self, curve: _Curve, window: tuple[float, float, int]) -> None:
        raw = curve.raw
        if self._alpha == 0.0:
            curve.raw_item.setData(np.empty(0), np.empty(0))
            curve.smooth_item.setData(*curve.raw_lod.view(raw.x, raw.y, *window))
            return
        smooth = curve.smooth
        curve.raw_item.setData(*curve.raw_lod.view(raw.x, raw.y, *window))
        curve.smooth_item.setData(*curve.smooth_lod.view(smooth.x, smooth.y, *window, mode="mean"))

    def _redraw_all(self) -> None:
        window = self._window()
        for curve in self._curves.values():
            if not curve.dirty:
                self._draw(curve, window)

    @Slot()
    def _on_x_range_changed(self) -> None:
        """Re-slice the curves after a zoom or pan (a no-op while following all data)."""
        if self._fed_full and self._plot.getPlotItem().getViewBox().autoRangeEnabled()[0]:
            return
        self._redraw_all()

    @Slot(object)
    def _on_view_state_changed(self, view: pg.ViewBox) -> None:
        """Hand the curves their whole x range again once x auto-range is switched back on."""
        if not self._fed_full and view.autoRangeEnabled()[0]:
            self._redraw_all()

    @Slot()
    def _on_view_resized(self) -> None:
        self._redraw_all()

    def set_smoothing(self, alpha: float) -> None:
        """Set the EMA weight (0 shows raw values only; at most 0.999) and redraw."""
        alpha = float(min(max(alpha, 0.0), 0.999))
        if alpha == self._alpha:
            return
        self._alpha = alpha
        for curve in self._curves.values():
            curve.ema = None
            curve.smooth.clear()
            curve.smooth_lod.clear()
            curve.dirty = True
        self._sync_controls()
        self.refresh()

    def smoothing(self) -> float:
        """The EMA weight in use."""
        return self._alpha

    @Slot(bool)
    def set_log_y(self, on: bool) -> None:
        """Show the y axis on a log10 scale (values <= 0 are then not drawn)."""
        on = bool(on)
        self._plot.getPlotItem().setLogMode(x=False, y=on)
        if self._log.isChecked() != on:
            self._log.setChecked(on)

    def is_log_y(self) -> bool:
        """Whether the y axis is on a log scale."""
        return bool(self._plot.getPlotItem().getAxis("left").logMode)

    # ------------------------------------------------------------------ the time-lapse marker
    def set_marker(self, step: float | None) -> None:
        """Mark ``step`` with a vertical line (None hides it)."""
        if step is None:
            self._marker.setVisible(False)
            return
        self._marker.setPos(float(step))
        self._marker.setVisible(True)

    def mark_later(self, step: float | None) -> None:
        """Mark ``step`` at the next :meth:`refresh` (as :meth:`set_marker` does): a caller that paces
        the plots' redraws moves the marker in the same paint as the curves, not in one of its own."""
        self._marker_due, self._marker_due_step = True, step

    def marker_step(self) -> float | None:
        """The marked step, None when no marker shows."""
        return float(self._marker.value()) if self._marker.isVisible() else None

    def values_at(self, step: float) -> dict[str, float]:
        """Each curve's raw value at its newest point at or before ``step`` (curves without one are left out)."""
        out = {}
        for name, curve in self._curves.items():
            i = int(np.searchsorted(curve.raw.x, step, side="right")) - 1
            if i >= 0:
                out[name] = float(curve.raw.y[i])
        return out

    @Slot(object)
    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        view = self._plot.getPlotItem().getViewBox()
        pos = event.scenePos()
        if view.sceneBoundingRect().contains(pos):
            self.stepClicked.emit(float(view.mapSceneToView(pos).x()))

    # ------------------------------------------------------------------ queries
    def has_undrawn(self) -> bool:
        """Whether points were appended since the last :meth:`refresh`."""
        return any(curve.dirty for curve in self._curves.values())

    def names(self) -> list[str]:
        """Curve names in legend order."""
        return list(self._curves)

    def point_count(self, name: str) -> int:
        """Number of stored (finite) points of a curve; 0 for an unknown name."""
        curve = self._curves.get(name)
        return len(curve.raw) if curve else 0

    def skipped_count(self, name: str) -> int:
        """Number of non-finite values dropped from a curve."""
        curve = self._curves.get(name)
        return curve.skipped if curve else 0

    def last_value(self, name: str) -> float | None:
        """The newest stored raw value of a curve, or None if it has none."""
        curve = self._curves.get(name)
        if curve is None or len(curve.raw) == 0:
            return None
        return float(curve.raw.y[-1])

    def smoothed_values(self, name: str) -> np.ndarray:
        """The smoothed values drawn for a curve at the last refresh (a copy)."""
        curve = self._curves[name]
        if self._alpha == 0.0:
            return curve.raw.y.copy()
        return curve.smooth.y.copy()

    def readout_text(self) -> str:
        """The cursor readout as plain text ("" before the mouse has been over the plot)."""
        return self._readout_plain

    def plot_item(self) -> pg.PlotItem:
        """The underlying pyqtgraph PlotItem (for tests and further decoration)."""
        return self._plot.getPlotItem()

    # ------------------------------------------------------------------ internals
    def _curve(self, name: str) -> _Curve:
        curve = self._curves.get(name)
        if curve is not None:
            return curve
        colour = CURVE_COLOURS[len(self._curves) % len(CURVE_COLOURS)]
        item = self._plot.getPlotItem()
        # Opaque pens without antialiasing on purpose: Qt strokes a translucent or antialiased
        # zig-zag of ~10k downsampled points one to two orders of magnitude slower.
        faint = blend(colour, PLOT_BACKGROUND, 0.3)
        raw_item = pg.PlotDataItem(pen=pg.mkPen(faint, width=1))
        smooth_item = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), name=name)
        raw_item.setZValue(0)  # every envelope under every trend line
        smooth_item.setZValue(1)
        item.addItem(raw_item)
        item.addItem(smooth_item)
        curve = _Curve(colour=colour, raw_item=raw_item, smooth_item=smooth_item)
        self._curves[name] = curve
        return curve

    def _sync_controls(self) -> None:
        for widget in (self._slider, self._spin):
            widget.blockSignals(True)
        self._slider.setValue(int(round(self._alpha * 1000)))
        self._spin.setValue(self._alpha)
        for widget in (self._slider, self._spin):
            widget.blockSignals(False)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.set_smoothing(value / 1000.0)

    @Slot(float)
    def _on_spin(self, value: float) -> None:
        self.set_smoothing(value)

    @Slot(object)
    def _on_mouse_moved(self, args: tuple) -> None:
        """Update the readout for a (rate-limited) scene mouse position."""
        pos = args[0]
        view = self._plot.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(pos):
            return
        self.show_readout_at(view.mapSceneToView(pos).x())

    def show_readout_at(self, x: float) -> None:
        """Show the step nearest to ``x`` and each curve's value there."""
        best_step, parts, plain = None, [], []
        for name, curve in self._curves.items():
            xs = curve.raw.x
            if xs.size == 0:
                continue
            i = int(np.searchsorted(xs, x))
            if i == xs.size or (i > 0 and x - xs[i - 1] <= xs[i] - x):
                i -= 1
            step = xs[i]
            if best_step is None or abs(step - x) < abs(best_step - x):
                best_step = step
            raw = curve.raw.y[i]
            text = f"{raw:.4g}"
            if self._alpha > 0.0 and i < len(curve.smooth):
                text = f"{curve.smooth.y[i]:.4g} <span style='color:#888'>(raw {raw:.4g})</span>"
            if curve.skipped:
                text += f" <span style='color:#e07070'>[{curve.skipped} non-finite]</span>"
            plain.append(f"{name} {_strip_tags(text)}")
            parts.append(f"<span style='color:{curve.colour}'>{name}</span> {text}")
        if best_step is None:
            return
        self._cursor.setPos(best_step)
        self._cursor.setVisible(True)
        head = f"<b>step {int(round(best_step)):,}</b>"
        self._readout.setText("&nbsp;&nbsp;&nbsp;".join([head, *parts]))
        self._readout_plain = "   ".join([f"step {int(round(best_step)):,}", *plain])


def _strip_tags(html: str) -> str:
    """Plain text of the small HTML fragments built by the readout."""
    return re.sub(r"<[^>]+>", "", html)
