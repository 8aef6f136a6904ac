"""Drag and drop onto the window: a checkpoint file, a run folder or a diffusers model folder (a
UNet2DModel or a Stable Diffusion pipeline) opens as File ▸ Open would — a part of
:class:`~genstudio.gui.main_window.MainWindow`, mixed into it.

The Forward and Reverse views take dropped *pictures* (to noise, to invert); they leave what
:func:`is_model_path` accepts to the window, so a folder dropped anywhere opens the model.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DropToOpen", "is_model_path"]


def is_model_path(path: str) -> bool:
    """True for what the window opens rather than a view: a folder, or a ``.safetensors`` checkpoint."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() == ".safetensors"


class DropToOpen:
    """``dragEnterEvent`` / ``dropEvent`` of the window: the first dropped model path is opened."""

    def _dropped_models(self, event) -> list[str]:
        data = event.mimeData()
        if not data.hasUrls():
            return []
        return [u.toLocalFile() for u in data.urls() if u.isLocalFile() and is_model_path(u.toLocalFile())]

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._dropped_models(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        paths = self._dropped_models(event)
        if not paths:
            return
        from genstudio.gui.app import open_path

        if open_path(self, paths[0]):
            event.acceptProposedAction()
