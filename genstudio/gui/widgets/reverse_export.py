"""The reverse view's exports: the recorded reverse process as a GIF or one PNG per step, at the
export size: a part of :class:`~genstudio.gui.widgets.reverse_view.ReverseView`, mixed into it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from genstudio.latent_images import picture_trajectory
from genstudio.scrub import export_frames, export_gif

__all__ = ["ReverseExport"]


class ReverseExport:
    """GIF and frame export of the recording (a :class:`~genstudio.gui.widgets.reverse_view.ReverseView`
    part: it uses the view's trajectory, grid choice, export size, extent and real data)."""

    def _export_options(self) -> dict:
        """What the exports share: x_t or x̂_0, the size and scaling chosen, a 2-D model's extent and data."""
        return {"what": "x0" if self.state.grid_x0 else "x_t", "extent": self._extent,
                "size": self.export_size.long_side(), "smooth": self.export_size.smooth(), "real": self._real}

    def export_gif(self, path: str, fps: float = 15.0) -> bool:
        """Write the reverse process (the grid, or a 2-D model's scatter plot) as a GIF at the export size."""
        traj = None if self.state.result is None else self.state.result.trajectory
        if traj is None:
            return False
        export_gif(path, picture_trajectory(self._model, traj), fps=fps, **self._export_options())
        self.message.emit(f"saved {path}")
        return True

    def export_frames(self, folder: str) -> bool:
        """Write one PNG per step (and final.png) at the export size."""
        traj = None if self.state.result is None else self.state.result.trajectory
        if traj is None:
            return False
        paths = export_frames(folder, picture_trajectory(self._model, traj), **self._export_options())
        self.message.emit(f"saved {len(paths)} frames in {folder}")
        return True

    @Slot()
    def _ask_gif(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the reverse process as a GIF", "reverse.gif", "GIF (*.gif)")
        if path:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.export_gif(path)
            finally:
                QGuiApplication.restoreOverrideCursor()

    @Slot()
    def _ask_frames(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the frames (PNG)")
        if folder:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.export_frames(folder)
            finally:
                QGuiApplication.restoreOverrideCursor()
