"""The perception–distortion plot of the Super-resolution view (Blau & Michaeli 2018).

Each super-resolution model the session has shown is a labelled point: x = PSNR on the held-out
images (distortion, right is better), y = sharpness (gradient energy of SR over HR; 1 is the
originals'), with bicubic as the reference. The scores come from
:func:`genstudio.superres.perception.pd_points`, run on a worker thread (:class:`PDJob`, a
:class:`~genstudio.gui.generator_worker.WorkerHost`) with a progress line; a newer request cancels
the running one, so the plot always shows the latest set of models.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
import torch
from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND, show_grid
from genstudio.safe_text import safe_text
from genstudio.superres.perception import PDPoint, PDProgress, pd_points

__all__ = ["PDJob", "PerceptionDistortionPlot"]

_COLOURS = {"bicubic": (150, 150, 150), "srresnet": (80, 160, 255), "srgan": (255, 110, 150)}


class PDJob(WorkerHost):
    """Scores models for the plot on a thread; ``point`` / ``progress`` arrive on the GUI thread."""

    point = Signal(object)  # PDPoint
    progress = Signal(object)  # PDProgress
    failed = Signal(str)
    ended = Signal(bool)  # the job ended (True: it ran to the end)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._queued: tuple[dict[str, Any], torch.Tensor] | None = None

    def compute(self, models: dict[str, Any], hr: torch.Tensor) -> None:
        """Score bicubic and ``models`` on ``hr``; a running job is cancelled first (latest wins)."""
        if self._closed:
            return
        if self._worker is not None:
            self._worker.quit()
            self._queued = (dict(models), hr)
            return
        self._run_job("genstudio-pd-plot", QThread.Priority.LowPriority, pd_points, dict(models), hr)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, PDPoint):
            self.point.emit(event)
        elif isinstance(event, PDProgress):
            self.progress.emit(event)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        self.failed.emit(safe_text(f"the perception–distortion plot failed: {error.error}"))

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        queued, self._queued = self._queued, None
        if queued is not None:
            self._run_job("genstudio-pd-plot", QThread.Priority.LowPriority, pd_points, *queued)
        else:
            self.ended.emit(not worker.is_quitting())


class WrapLabel(QLabel):
    """A word-wrapped label with room for ``lines`` lines that is *not* height-for-width.

    A wrapped QLabel is height-for-width, and so is every layout above it; the page's scroll area
    (``with_hint``) then sizes the page by its layout's *preferred* height (824 px in a 785 px page at
    1400 × 900 for the Super-resolution view: a scroll bar, the caption cut off) instead of its
    minimum. This label still wraps when drawn; it just reserves its lines.
    """

    def __init__(self, text: str = "", lines: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setMinimumHeight(lines * self.fontMetrics().lineSpacing() + 4)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return False


class PerceptionDistortionPlot(QWidget):
    """A scatter of PSNR (x) against sharpness (y), one labelled point per model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[PDPoint] = []
        self.job = PDJob(self)
        self.job.point.connect(self._on_point)
        self.job.progress.connect(self._on_progress)
        self.job.failed.connect(self._on_failed)
        self.job.ended.connect(self._on_ended)
        self.caption = WrapLabel("Perception–distortion: each model the session has shown, on the held-out images")
        self.bar = QProgressBar()
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        self.plot.setMinimumSize(220, 160)  # the pictures' strip below keeps its room
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "PSNR (dB) — less distortion →")
        item.setLabel("left", "sharpness (SR / HR gradient energy)")
        show_grid(item, 0.12)
        for side in ("left", "bottom"):
            item.getAxis(side).enableAutoSIPrefix(False)  # sharpness is a ratio near 1: no "(x0.001)"
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.scatter = pg.ScatterPlotItem(size=12, pxMode=True)
        item.addItem(self.scatter)
        self._labels: list[pg.TextItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.bar)
        layout.addWidget(self.plot, 1)

    def compute(self, models: dict[str, Any], hr: torch.Tensor) -> None:
        """Plot bicubic and ``models`` (label -> SRModel) scored on ``hr`` (N, C, H, W), off this thread."""
        self.points = []
        self._redraw()
        self.bar.setRange(0, len(models) + 1)
        self.bar.setValue(0)
        self.bar.show()
        self.caption.setText(f"Scoring {len(models) + 1} methods on {hr.shape[0]} held-out images…")
        self.job.compute(models, hr)

    def shutdown(self) -> None:
        self.job.shutdown()

    @Slot(object)
    def _on_progress(self, p: PDProgress) -> None:
        self.bar.setValue(p.done)
        self.caption.setText(f"Scoring {p.name} ({p.done + 1} of {p.total})…")

    @Slot(object)
    def _on_point(self, point: PDPoint) -> None:
        self.points.append(point)
        self._redraw()

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        self.bar.hide()
        self.caption.setText(text)

    @Slot(bool)
    def _on_ended(self, complete: bool) -> None:
        self.bar.hide()
        if complete:
            self.caption.setText(f"Perception–distortion (Blau & Michaeli 2018), {len(self.points)} methods: "
                                 "right = less distortion, up = sharper.")

    def _redraw(self) -> None:
        item = self.plot.getPlotItem()
        for label in self._labels:
            item.removeItem(label)
        self._labels = []
        spots = [{"pos": (p.psnr, p.sharpness), "brush": pg.mkBrush(*_COLOURS.get(p.kind, (200, 200, 200))),
                  "pen": pg.mkPen("#101010")} for p in self.points]
        self.scatter.setData(spots)
        if not self.points:
            return
        xs, ys = [p.psnr for p in self.points], [p.sharpness for p in self.points]
        dx, dy = max(0.5, max(xs) - min(xs)), max(0.1, max(ys) - min(ys))
        for p in self.points:
            # below its point when another point sits just above it (SRGAN over SRResNet), else above
            crowded = any(0 < q.sharpness - p.sharpness < 0.2 * dy and abs(q.psnr - p.psnr) < 0.4 * dx
                          for q in self.points)
            text = pg.TextItem(f"{p.name}\n{p.psnr:.2f} dB, {p.sharpness:.2f}",
                               color=_COLOURS.get(p.kind, (200, 200, 200)),
                               anchor=(0.5, -0.15) if crowded else (0.5, 1.15))
            text.setPos(p.psnr, p.sharpness)
            item.addItem(text)
            self._labels.append(text)
        # room around the points for the labels, centred above or below them
        item.setXRange(min(xs) - 0.3 * dx, max(xs) + 0.45 * dx, padding=0)
        item.setYRange(min(ys) - 0.35 * dy, max(ys) + 0.45 * dy, padding=0)
