"""The Monitor tab: live loss curves on the left, the newest samples on the right.

Each metric goes to the plot its model family declares (:mod:`genstudio.families`: a metric's
``plot`` key): GANs show ``loss_D`` / ``loss_G`` on one plot and ``D(x)`` / ``D(G(z))`` on a second
(the four numbers of the DCGAN reference); diffusion shows ``loss`` and a heat map of the loss per
timestep band. A number no family declares (learning rate, timings) is not plotted. Image data show the fixed preview batch as a grid; 2-D point data show real and
generated points over the discriminator's probability field. After a single step (the Step button,
slow motion) a GAN's 2-D view shows the force on each of G's points as an arrow; above the pictures,
:class:`~genstudio.gui.widgets.draw_tool.DrawTool` lets the person draw a 2-D data set to train on.
Under the picture, the time-lapse (:mod:`~genstudio.gui.widgets.monitor_timelapse`): a slider over
the run folder's saved previews.
Over the samples, the collapse alarm (:class:`CollapseBadge`: modes or digit classes covered by
the newest preview); under the curves, a GAN run's live settings (:class:`LiveSettings`), whose
changes are marked on the curves.

The view is fed only through :meth:`MonitorView.apply` with what the main window's ~30 Hz timer
drained from a mailbox (a live run or a followed run folder). Data are stored at once; the plots
redraw through a :class:`~genstudio.gui.paint_pacer.PaintPacer`, one plot per window paint.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QSplitter, QStackedWidget, QVBoxLayout, QWidget

from genstudio.families import get_family
from genstudio.gui.mailbox import Drained
from genstudio.gui.paint_pacer import PaintPacer
from genstudio.gui.widgets.arena_view import ArenaView
from genstudio.gui.widgets.band_heatmap import BandHeatmap
from genstudio.gui.widgets.collapse_badge import CollapseBadge
from genstudio.gui.widgets.draw_tool import DrawTool
from genstudio.gui.widgets.live_settings import LiveSettings
from genstudio.gui.widgets.loss_plot import LossPlot
from genstudio.gui.widgets.monitor_timelapse import MonitorTimeLapse
from genstudio.gui.widgets.points2d import Points2DView
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.gui.widgets.timelapse_bar import TimeLapseBar
from genstudio.imaging import make_grid
from genstudio.views.timelapse import TimeLapseState

__all__ = ["MonitorView", "GAN_LOSSES", "GAN_PROBS", "DIFFUSION_LOSSES"]

GAN_LOSSES = ("loss_D", "loss_G")
GAN_PROBS = ("D(x)", "D(G(z))")
DIFFUSION_LOSSES = ("loss",)
#: The curves redraw at most this often (ms). Each redraw moves the axes, and repainting their text
#: was most of the GUI thread's work during a fast run (benchmarks/b2_app_throughput.py); points are
#: appended at once, so nothing is lost, and 10 redraws a second still look continuous.
CURVES_MS = 100
#: Slow motion's longest arrows (the 95th percentile of the forces) as a share of the field's width:
#: the forces' size changes by orders of magnitude over a run, their directions are what one reads.
ARROW_SHARE = 0.08


class MonitorView(MonitorTimeLapse, QWidget):
    """Loss plots and a sample view (or the 2-D view) for one run at a time.

    Signals
    -------
    message(str)
        A line for the status bar (a GIF written, a preview that cannot be read).
    """

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MonitorView")
        self._kind = "gan"
        self._points = False
        self._preview_step: int | None = None
        self._band_steps = 0
        self._curves_drawn = -1.0  # time.monotonic() of the last curve redraw
        self._curves_timer = QTimer(self)  # a redraw that was due while the last one was too recent
        self._curves_timer.setSingleShot(True)
        self._curves_timer.timeout.connect(self._refresh_curves)
        self._pacer = PaintPacer(self)  # one plot redrawn per window paint

        self.gan_losses = LossPlot("Losses", list(GAN_LOSSES))
        self.gan_probs = LossPlot("Discriminator outputs", list(GAN_PROBS))
        self.diffusion_loss = LossPlot("Loss (ε-prediction MSE)", list(DIFFUSION_LOSSES))
        self.bands = BandHeatmap()
        self._curves = QStackedWidget()
        self._curves.addWidget(_vsplit(self.gan_losses, self.gan_probs))
        self._curves.addWidget(_vsplit(self.diffusion_loss, self.bands))
        self.arena = ArenaView()  # page 2: GAN against diffusion, live (show_arena)
        self._curves.addWidget(self.arena)
        # the family registry's plot keys (genstudio.families.PLOTS) -> the plots, and their page
        self._plots = {"losses": self.gan_losses, "discriminator": self.gan_probs,
                       "eps_loss": self.diffusion_loss, "bands": self.bands}
        self._page = {"losses": 0, "discriminator": 0, "eps_loss": 1, "bands": 1}
        self._family = get_family("gan")

        self.samples = SampleView()
        self.points = Points2DView()
        self._pictures = QStackedWidget()
        self._pictures.addWidget(self.samples)
        self._pictures.addWidget(self.points)
        self.timelapse = TimeLapseState()
        self.timelapse_bar = TimeLapseBar(self.timelapse)
        # the collapse alarm over the samples, the live settings under the curves (GAN runs)
        self.collapse = CollapseBadge()
        self.live = LiveSettings()
        self.live.setVisible(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.tool = DrawTool(self.points)  # Step, and drawing a data set on the 2-D view
        self.tool.activeChanged.connect(self._on_drawing)
        # above the pictures: Step and drawing, the collapse alarm; under them: the time-lapse
        pictures = _stack(self.tool, self.collapse, self._pictures, self.timelapse_bar, stretch=2)
        split.addWidget(_stack(self._curves, self.live))
        split.addWidget(pictures)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 460])  # the sample grid gets room for a 3× (digits) or 2× (32 px) scale
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split)
        self._init_timelapse()

    # ------------------------------------------------------------------ set-up
    def begin(self, kind: str, points: bool, title: str = "") -> None:
        """Forget the previous run and lay the view out for ``kind`` (a registered family: "gan", …)."""
        self._kind, self._points = kind, points
        self._family = get_family(kind)
        self._preview_step = None
        self._band_steps = 0
        self._pacer.clear()
        for plot in (self.gan_losses, self.gan_probs, self.diffusion_loss):
            plot.clear()
        self.bands.clear()
        self.points.set_fake(np.zeros((0, 2), np.float32))
        self.points.set_generated_name("fake" if "discriminator" in self._family.plots() else "samples")
        self.points.clear_heatmap()
        self.points.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
        self.samples.clear()
        self._clear_timelapse()
        self.collapse.clear()
        self.live.setVisible(kind == "gan")
        self.live.setEnabled(False)
        plots = self._family.plots()
        self._curves.setCurrentIndex(self._page[plots[0]] if plots else 0)
        # a family without a discriminator (SRResNet) gets the losses alone, not an empty D plot
        self.gan_probs.setVisible("discriminator" in plots or "losses" not in plots)
        self._pictures.setCurrentIndex(1 if points else 0)
        waiting = f"{title + ' · ' if title else ''}waiting for the first preview"
        self.points.set_caption(waiting)

    # ------------------------------------------------------------------ data in
    def apply(self, drained: Drained) -> None:
        """Draw what one mailbox drain brought: metrics, the newest preview, real points."""
        if drained.metrics:
            self.add_metrics(drained.metrics)
        if drained.status.collapse is not None:
            self.collapse.show_report(drained.status.collapse)
        if drained.status.settings_change is not None:
            self.mark_change(*drained.status.settings_change)
        real = drained.status.real_points
        if real is not None:
            self._pacer.request("real points", lambda: self.points.set_real(real))
        self._apply_timelapse(drained.preview)

    def add_metrics(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        """Append ``(step, metrics)`` records to the plots and redraw them (at most every ``CURVES_MS``)."""
        columns: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        for step, metrics in records:
            for name, value in metrics.items():
                if self._family.plot_of(name) == "bands" and isinstance(value, (list, tuple)):
                    self.bands.append(step, [_float(v) for v in value])
                    self._band_steps += 1
                elif isinstance(value, (int, float, str)) and name not in ("step", "time"):
                    xs, ys = columns[name]
                    xs.append(step)
                    ys.append(_float(value))
        for name, (xs, ys) in columns.items():
            plot = self._plot_for(name)
            if plot is not None:
                plot.append(name, np.asarray(xs, np.float64), np.asarray(ys, np.float64))
        if self._curves_timer.isActive():
            return  # the redraw already scheduled will show these points too
        wait_ms = CURVES_MS - (time.monotonic() - self._curves_drawn) * 1e3
        if wait_ms > 0:
            self._curves_timer.start(int(wait_ms) + 1)
        else:
            self._refresh_curves()

    @Slot()
    def _refresh_curves(self) -> None:
        """Have the plots and the band heat map redrawn with every point appended so far."""
        self._curves_drawn = time.monotonic()
        for plot in (self.gan_losses, self.gan_probs, self.diffusion_loss, self.bands):
            if plot.has_undrawn():
                self._pacer.request(plot, plot.refresh)

    def show_preview(self, step: int, preview: Any) -> None:
        """Show a ``Preview`` (``kind`` "images", "grid" or "points") taken at ``step``, in turn with the plots."""
        self._pacer.request("preview", lambda: self._draw_preview(step, preview))

    def _draw_preview(self, step: int, preview: Any) -> None:
        self._preview_step = int(step)
        self._mark_step(step)
        text = self.step_caption(step)
        if preview.kind == "points":
            self._pictures.setCurrentIndex(1)
            self.points.set_fake(preview.data)
            heat = preview.extra.get("heatmap") if preview.extra else None
            if heat is not None:
                self.points.set_heatmap(np.asarray(heat), tuple(preview.extra["extent"]))
            else:
                self.points.clear_heatmap()
            field = " · background: D's probability of \"real\"" if heat is not None else ""
            forces = preview.extra.get("forces") if preview.extra else None
            if forces is not None:  # slow motion: one step, and where it pushes each of G's points
                span = float(np.ptp(np.asarray(preview.extra["extent"])[:2])) if heat is not None else 4.0
                self.points.set_arrows(preview.data, arrow_vectors(np.asarray(forces), span))
                self.points.set_caption(f"{text}, one step · arrows: −∂L_G/∂x, the push on "
                                        f"each of G's {len(preview.data):,} points")
                return
            self.points.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
            self.points.set_caption(f"{text} · {len(preview.data):,} generated points{field}")
            return
        self._pictures.setCurrentIndex(0)
        # "images": (N, C, H, W) float in [-1, 1]; "grid": a saved PNG grid (H, W, 3) uint8
        prompts = preview.extra.get("prompts") if preview.kind == "images" and preview.extra else None
        if prompts:  # text to image: one row per fixed prompt, labelled with it
            self.samples.set_images(make_grid(preview.data, nrow=int(preview.extra["columns"]), pad=1),
                                    f"{text} · one prompt a row (guidance s = 3), one noise a column")
            self.samples.set_row_labels(list(prompts))
            return
        self.samples.set_images(preview.data, text)

    def show_arena(self, data: str, budget: float, real: np.ndarray, modes: bool) -> None:
        """Lay the view out for an arena on ``data``: its curves on the left, ``real`` points (N, 2) on
        the right (:meth:`begin` goes back to a run's layout)."""
        self._pacer.clear()
        self.arena.begin(data, budget, modes)
        self._curves.setCurrentIndex(2)
        self._pictures.setCurrentIndex(1)
        self._points = True
        self.points.set_real(real)
        self.points.set_fake(np.zeros((0, 2), np.float32))
        self.points.clear_heatmap()
        self.points.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
        self.points.set_caption(f"the arena's data: {data}")

    def shows_arena(self) -> bool:
        """True while the arena's curves are shown."""
        return self._curves.currentIndex() == 2

    @Slot(bool)
    def _on_drawing(self, active: bool) -> None:
        """Drawing takes the 2-D view over: an empty canvas (a run's points and field would mislead)."""
        if active:
            self._pacer.clear()
            self._pictures.setCurrentIndex(1)
            for clear in (self.points.set_real, self.points.set_fake):
                clear(np.zeros((0, 2), np.float32))
            self.points.clear_heatmap()
            self.points.set_arrows(np.empty((0, 2)), np.empty((0, 2)))

    def mark_change(self, step: int, label: str) -> None:
        """Mark a setting changed at ``step`` (in effect from the next) on the loss curves."""
        for plot in (self.gan_losses, self.gan_probs, self.diffusion_loss):
            plot.mark(step, label)

    def caption(self) -> str:
        """The caption above the samples or the 2-D view, whichever is shown."""
        return self.points.caption() if self._pictures.currentIndex() == 1 else self.samples.caption()

    # ------------------------------------------------------------------ queries (tests, other views)
    def kind(self) -> str:
        """"gan" or "diffusion": the layout in use."""
        return self._kind

    def is_points(self) -> bool:
        """True when the run's data are 2-D points (the 2-D view is shown)."""
        return self._points

    def preview_step(self) -> int | None:
        """The step of the preview on screen, None before the first."""
        return self._preview_step

    def band_steps(self) -> int:
        """How many steps of per-band losses the heat map holds."""
        return self._band_steps

    def plot_for(self, name: str) -> LossPlot | None:
        """The plot showing metric ``name`` (None for the bands)."""
        return self._plot_for(name)

    def _plot_for(self, name: str) -> LossPlot | None:
        key = self._family.plot_of(name)  # None: a number the family does not plot (lr, timings)
        plot = self._plots.get(key) if key is not None else None
        return plot if isinstance(plot, LossPlot) else None


def arrow_vectors(forces: np.ndarray, span: float) -> np.ndarray:
    """Slow motion's arrows: ``forces`` (K, 2) scaled so the 95th percentile of their lengths is
    ``ARROW_SHARE`` of ``span`` (directions and relative sizes kept; all zero stays zero)."""
    f = np.asarray(forces, np.float64).reshape(-1, 2)
    lengths = np.hypot(f[:, 0], f[:, 1])
    finite = lengths[np.isfinite(lengths)]
    ref = float(np.percentile(finite, 95)) if finite.size else 0.0
    return f * (ARROW_SHARE * span / ref) if ref > 0 else np.zeros_like(f)


def _stack(*widgets: QWidget, stretch: int = 0) -> QWidget:
    """``widgets`` one above the other; the first (or the one at index ``stretch``) takes the room."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    for i, widget in enumerate(widgets):
        column.addWidget(widget, 1 if i == stretch else 0)
    return box


def _vsplit(top: QWidget, bottom: QWidget) -> QSplitter:
    split = QSplitter(Qt.Orientation.Vertical)
    split.setChildrenCollapsible(False)
    split.addWidget(top)
    split.addWidget(bottom)
    split.setSizes([1, 1])
    return split


def _float(value: Any) -> float:
    """Metric values are floats, or "nan"/"inf" strings in metrics.jsonl."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
