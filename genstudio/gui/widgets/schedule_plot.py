"""The noise schedule over t, the model's error over t, and a cursor at the scrubbed timestep.

:class:`SchedulePlot` stacks two x-linked pyqtgraph plots:

* top: the signal weight √ᾱ_t and the noise weight √(1−ᾱ_t) of x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε
  (left axis, 0 … 1) and log SNR = log(ᾱ_t/(1−ᾱ_t)) (right axis, its own scale). In compare mode
  the model's own schedule is drawn dashed behind the one being tried;
* bottom: the model's error ‖ε − ε̂‖² (per element) at a subsample of t, filled in as it is computed.

Both carry a vertical cursor at the current t; dragging it asks for another t
(``timestepPicked``). Items are created once; updates only call ``setData`` / ``setValue``.
Cursor moves are throttled to ~30 Hz (the first at once, then the newest every 33 ms): redrawing the
plots under a moving cursor costs several milliseconds, more than the pictures above it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND, legend_above, show_grid
from genstudio.scrub import ScheduleCurves

__all__ = ["SchedulePlot"]

_SIGNAL, _NOISE, _SNR, _ERROR = "#57c965", "#ef5f5f", "#4c9bf5", "#f59b42"
_CURSOR_MS = 33  # at most ~30 cursor redraws a second


class SchedulePlot(QWidget):
    """Schedule curves (signal, noise, log SNR) and the model's error over t, with a t cursor.

    Signals
    -------
    timestepPicked(int)
        The person dragged a cursor to this t.
    """

    timestepPicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._curves: ScheduleCurves | None = None
        self._err_t = np.empty(0)
        self._err = np.empty(0)
        self._t = 0  # the cursor's t (drawn, or waiting for the throttle timer)
        self._drawn_t = -1
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(_CURSOR_MS)
        self._throttle.timeout.connect(self._on_throttle)

        self._top = pg.PlotWidget(background=PLOT_BACKGROUND)
        top = self._top.getPlotItem()
        top.setMenuEnabled(False)
        show_grid(top, 0.12)
        top.setLabel("left", "weight in x_t")
        top.setYRange(0.0, 1.02, padding=0)
        top.getViewBox().setMouseEnabled(x=False, y=False)
        legend = self._legend = legend_above(top, columns=4)  # a row above the curves, not over them
        self._ref_signal = top.plot(pen=pg.mkPen(_SIGNAL, width=1, style=Qt.PenStyle.DashLine))
        self._ref_noise = top.plot(pen=pg.mkPen(_NOISE, width=1, style=Qt.PenStyle.DashLine))
        self._signal = top.plot(pen=pg.mkPen(_SIGNAL, width=2), name="signal √ᾱ_t")
        self._noise = top.plot(pen=pg.mkPen(_NOISE, width=2), name="noise √(1−ᾱ_t)")
        # log SNR on its own right-hand axis (pyqtgraph's MultiplePlotAxes example)
        self._snr_box = pg.ViewBox()
        self._snr_box.setMouseEnabled(x=False, y=False)
        top.showAxis("right")
        top.scene().addItem(self._snr_box)
        top.getAxis("right").linkToView(self._snr_box)
        top.getAxis("right").setLabel("log SNR", color=_SNR)
        self._snr_box.setXLink(top)
        self._snr = pg.PlotCurveItem(pen=pg.mkPen(_SNR, width=2))
        self._snr_box.addItem(self._snr)
        legend.addItem(self._snr, "log SNR (right axis)")
        top.getViewBox().sigResized.connect(self._sync_snr_box)

        self._bottom = pg.PlotWidget(background=PLOT_BACKGROUND)
        bottom = self._bottom.getPlotItem()
        bottom.setMenuEnabled(False)
        show_grid(bottom, 0.12)
        bottom.setLabel("left", "‖ε − ε̂‖²")
        bottom.getAxis("left").enableAutoSIPrefix(False)
        bottom.setLabel("bottom", "timestep t")
        bottom.showAxis("right")
        bottom.getAxis("right").setStyle(showValues=False)
        bottom.getViewBox().setMouseEnabled(x=False, y=False)
        bottom.setXLink(top)
        self._error = bottom.plot(pen=pg.mkPen(_ERROR, width=2), symbol="o", symbolSize=3,
                                  symbolBrush=_ERROR, symbolPen=None)
        self._error_note = pg.TextItem("load a diffusion model to see its error over t", color="#8a8a8a",
                                       anchor=(0.5, 0.5))
        bottom.addItem(self._error_note)

        self._cursors = []
        for plot in (top, bottom):
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#e6e6e6", width=1),
                                   hoverPen=pg.mkPen("#ffffff", width=3))
            line.sigPositionChanged.connect(self._on_cursor_dragged)
            plot.addItem(line)
            self._cursors.append(line)

        self._readout = QLabel(" ")
        self._readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # long text: no wider window
        self._readout.setStyleSheet("color: #c8c8c8;")
        self._readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._top, 3)
        layout.addWidget(self._bottom, 2)
        layout.addWidget(self._readout)

    # ------------------------------------------------------------------ data
    def set_schedule(self, curves: ScheduleCurves, reference: ScheduleCurves | None = None) -> None:
        """Draw ``curves``; ``reference`` (the model's schedule in compare mode) dashed, or nothing."""
        self._curves = curves
        self._signal.setData(curves.t, curves.signal)
        self._noise.setData(curves.t, curves.noise)
        self._snr.setData(curves.t, curves.log_snr)
        finite = curves.log_snr[np.isfinite(curves.log_snr)]
        if finite.size:
            self._snr_box.setYRange(float(finite.min()), float(finite.max()), padding=0.04)
        self._legend.removeItem(self._ref_signal)
        if reference is None:
            self._ref_signal.setData([], [])
            self._ref_noise.setData([], [])
        else:
            self._ref_signal.setData(reference.t, reference.signal)
            self._ref_noise.setData(reference.t, reference.noise)
            self._legend.addItem(self._ref_signal, "the model's schedule (dashed)")
        top_t = max(len(curves.t), 0 if reference is None else len(reference.t)) - 1
        self._top.getPlotItem().setXRange(0, max(1, top_t), padding=0.01)
        self._sync_snr_box()
        self._update_readout()

    def clear_errors(self, note: str = "") -> None:
        """Forget the error curve; show ``note`` in its place."""
        self._err_t, self._err = np.empty(0), np.empty(0)
        self._error.setData([], [])
        self._error_note.setText(note)
        self._place_note()
        self._update_readout()

    def add_errors(self, ts: np.ndarray, errors: np.ndarray) -> None:
        """Append computed points (t ascending within the whole curve)."""
        self._err_t = np.concatenate([self._err_t, np.asarray(ts, np.float64)])
        self._err = np.concatenate([self._err, np.asarray(errors, np.float64)])
        self._error.setData(self._err_t, self._err)
        self._error_note.setText("")
        self._bottom.getPlotItem().enableAutoRange(axis="y")
        self._update_readout()

    def errors(self) -> tuple[np.ndarray, np.ndarray]:
        """The error points shown: (t, error) arrays."""
        return self._err_t.copy(), self._err.copy()

    # ------------------------------------------------------------------ cursor
    def set_cursor(self, t: int) -> None:
        """Move both cursors to ``t`` (no ``timestepPicked``): now if the last move is 33 ms old,
        else when the throttle timer fires (only the newest t is drawn)."""
        self._t = int(t)
        if not self._throttle.isActive():
            self._draw_cursor()
            self._throttle.start()

    def cursor(self) -> int:
        """The cursor's t (possibly not drawn yet; see :meth:`flush`)."""
        return self._t

    def flush(self) -> None:
        """Draw a cursor move that is waiting for the throttle timer now."""
        if self._drawn_t != self._t:
            self._draw_cursor()

    @Slot()
    def _on_throttle(self) -> None:
        if self._drawn_t != self._t:
            self._draw_cursor()
            self._throttle.start()  # keep the pace while the cursor keeps moving

    def _draw_cursor(self) -> None:
        if self._drawn_t == self._t:
            return
        self._drawn_t = self._t
        for line in self._cursors:
            line.blockSignals(True)
            line.setValue(self._t)
            line.blockSignals(False)
        self._update_readout()

    def readout(self) -> str:
        """The line of numbers at the drawn cursor."""
        return self._readout.text()

    # ------------------------------------------------------------------ internals
    @Slot(object)
    def _on_cursor_dragged(self, line) -> None:
        if self._curves is None:
            return
        t = int(np.clip(round(line.value()), 0, len(self._curves.t) - 1))
        if t != self._t:
            self.timestepPicked.emit(t)

    @Slot()
    def _sync_snr_box(self) -> None:
        vb = self._top.getPlotItem().getViewBox()
        self._snr_box.setGeometry(vb.sceneBoundingRect())
        self._snr_box.linkedViewChanged(vb, self._snr_box.XAxis)

    def _place_note(self) -> None:
        n = 0 if self._curves is None else len(self._curves.t)
        self._error_note.setPos(max(1, n - 1) / 2, 0.5)
        self._bottom.getPlotItem().setYRange(0, 1, padding=0)

    def _update_readout(self) -> None:
        c = self._curves
        if c is None or not 0 <= self._t < len(c.t):
            self._readout.setText(" ")
            return
        t = self._t
        text = (f"t = {t}:  √ᾱ_t = {c.signal[t]:.4f}   √(1−ᾱ_t) = {c.noise[t]:.4f}   "
                f"log SNR = {c.log_snr[t]:+.2f}")
        if self._err.size:
            i = int(np.argmin(np.abs(self._err_t - t)))
            text += f"   ‖ε − ε̂‖² ≈ {self._err[i]:.4f} (at t = {int(self._err_t[i])})"
        self._readout.setText(text)
