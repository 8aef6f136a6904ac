"""The Monitor's training time-lapse: the run folder's saved previews behind a slider, the chosen
step marked on the loss curves, played as an animation, exported as a GIF: a part of
:class:`~genstudio.gui.widgets.monitor.MonitorView`, mixed into it.

The frames are the files the run writes (``previews/step_N.png``, 2-D runs ``.npz`` with D's
field), listed by :func:`genstudio.runs.timelapse.preview_files` when the folder is set and whenever
a new preview reaches the Monitor (a followed folder's, or one a live run saved out of order), so a
live run, a followed remote folder and a finished run read from disk are one path. A live run's
newest preview is added as one frame without listing the folder, and is shown from memory, not read
back from its file: listing a long run's folder and decoding the file at every preview stalled the
GUI thread 5-10 ms each time (benchmarks/soak_app.py). The choice lives in a
:class:`~genstudio.views.timelapse.TimeLapseState`: it follows the newest preview until the person
picks another step.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from genstudio.gui.widgets.timelapse_bar import FPS
from genstudio.runs.folder import preview_picture
from genstudio.runs.timelapse import caption, export_gif, load_preview_file, preview_file, preview_files
from genstudio.trainer import Preview

__all__ = ["MonitorTimeLapse"]

_CACHE = 64  # previews kept decoded: a played-back run of 64 frames reads each file once


class MonitorTimeLapse:
    """Time-lapse part of the Monitor (uses its ``timelapse`` state, ``timelapse_bar``, plots,
    ``show_preview`` and ``message`` signal)."""

    def _init_timelapse(self) -> None:
        self._run_dir: Path | None = None
        self._listed = False  # the folder's previews were listed since it was set
        self._decoded: OrderedDict[Path, Any] = OrderedDict()
        self.timelapse.changed.connect(self._on_timelapse)
        self.timelapse_bar.exportRequested.connect(self._ask_gif)
        for plot in (self.gan_losses, self.gan_probs, self.diffusion_loss):
            plot.stepClicked.connect(self._on_curve_clicked)

    # ------------------------------------------------------------------ the folder
    def set_run_folder(self, path: str | Path | None) -> None:
        """The run folder whose previews the time-lapse shows (None: only the newest preview, as sent).

        They are listed at the next :meth:`apply`, after the curves it brings: a frame's caption
        and marker need the losses of its step.
        """
        self._run_dir = Path(path) if path is not None else None
        self._listed = False
        self._decoded.clear()

    def _clear_timelapse(self) -> None:
        """Forget the frames (a new run, or the followed run was resumed); the folder is listed
        again at the next drain."""
        self.timelapse.clear()
        self._listed = False
        self._decoded.clear()

    def run_folder(self) -> Path | None:
        return self._run_dir

    def rescan_previews(self) -> None:
        """List the folder's previews again (a new one arrived, or the folder was opened)."""
        if self._run_dir is not None:
            self._listed = True
            self.timelapse.set_frames(preview_files(self._run_dir))

    def _apply_timelapse(self, preview: tuple[int, Any] | None) -> None:
        """After a drain's metrics: list the folder's previews if a preview came (or the folder is
        new). With a folder the preview is one more frame (shown if the choice follows the newest);
        without one it is shown as it came."""
        # slow motion's one-step preview carries what no saved file holds (the force on each point)
        live_only = preview is not None and bool(getattr(preview[1], "extra", None)) and "forces" in preview[1].extra
        if self._run_dir is not None and self._listed and preview is not None and not live_only \
                and self._add_newest(*preview):
            return
        if self._run_dir is not None and (preview is not None or not self._listed):
            self.rescan_previews()
            if self.timelapse.step() is not None and not live_only:
                return
        if preview is not None:
            self.show_preview(*preview)

    def _add_newest(self, step: int, preview: Any) -> bool:
        """A live preview saved after the newest frame: one more frame, its picture the one in
        memory (shown if the choice follows the newest). False if it is not that (resumed, out of
        order, not saved): the caller lists the folder instead."""
        path = preview_file(self._run_dir, step)
        if path is None or (self.timelapse.steps and int(step) <= self.timelapse.steps[-1]):
            return False
        if getattr(preview, "kind", None) == "images":  # as its file reads back: one look for every frame
            preview = Preview("grid", preview_picture(preview))
        self._decoded[path] = preview
        while len(self._decoded) > _CACHE:
            self._decoded.popitem(last=False)
        self.timelapse.add_frame(int(step), path)
        return True

    # ------------------------------------------------------------------ showing the chosen frame
    def _on_timelapse(self, what: str) -> None:
        if what == "index":
            self._show_chosen()

    def _show_chosen(self) -> None:
        step, path = self.timelapse.step(), self.timelapse.path()
        if step is None or path is None:
            return
        preview = self._decoded.get(path)
        if preview is None:
            try:
                preview = load_preview_file(path)
            except (OSError, ValueError, KeyError) as exc:  # a file still being synced: the next poll retries
                self.message.emit(f"{path.name}: {exc}")
                return
            self._decoded[path] = preview
            while len(self._decoded) > _CACHE:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(path)
        self.show_preview(step, preview)

    def _mark_step(self, step: int) -> None:
        """Put the time-lapse marker on every loss plot at ``step``: with each plot's next redraw,
        paced, so that a new preview does not repaint the picture and every plot in one paint."""
        for plot in (self.gan_losses, self.gan_probs, self.diffusion_loss):
            plot.mark_later(step)
            if not plot.isHidden():  # a plot this family hides takes it at its next refresh
                self._pacer.request(plot, plot.refresh)

    def step_caption(self, step: int) -> str:
        """"step 1,200 · loss_D 0.61 · loss_G 1.93": the step and the first plot's losses there."""
        plots = self._family.plots()
        plot = self._plots.get(plots[0]) if plots else None
        values = plot.values_at(step) if hasattr(plot, "values_at") else {}
        return caption(step, values)

    @Slot(float)
    def _on_curve_clicked(self, step: float) -> None:
        self.timelapse.pause()
        self.timelapse.choose_step(step)

    # ------------------------------------------------------------------ GIF
    def export_timelapse_gif(self, path: str | Path) -> bool:
        """Write the folder's previews as a GIF (the step on each frame); say how it went in ``message``."""
        if self._run_dir is None:
            self.message.emit("No run folder: nothing to export")
            return False
        try:
            out, n = export_gif(self._run_dir, path, fps=FPS)
        except (OSError, ValueError) as exc:
            self.message.emit(f"GIF not written: {exc}")
            return False
        self.message.emit(f"Saved {out} ({n} frames)")
        return True

    @Slot()
    def _ask_gif(self) -> None:
        if self._run_dir is None:
            return
        default = str(Path.home() / f"{self._run_dir.name}.gif")
        path, _ = QFileDialog.getSaveFileName(self, "Export the time-lapse as a GIF", default, "GIF (*.gif)")
        if path:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.export_timelapse_gif(path)
            finally:
                QGuiApplication.restoreOverrideCursor()
