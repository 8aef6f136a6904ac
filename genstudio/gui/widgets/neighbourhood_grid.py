"""The latent explorer's neighbourhood grid: rows are principal directions, columns −3σ … +3σ along
each, from the current z (GANSpace's figure), rendered on the explorer's render thread once the
sliders rest."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.imaging import make_grid
from genstudio.latent import neighbourhood

__all__ = ["NeighbourhoodGrid", "SIGMAS"]

SIGMAS = np.linspace(-3.0, 3.0, 7)  # neighbourhood columns, in prior standard deviations


class NeighbourhoodGrid(QWidget):
    """The grid of G(z + σ·v_k) with a row chooser (the top five directions, or one).

    Parameters
    ----------
    renderer : RenderController
        The explorer's render thread; the grid is its job kind "grid" (the explorer hands the
        result back to :meth:`show_result`).
    current_z : callable () -> ndarray
        The explorer's current z, float32 (nz,).
    shown : callable () -> bool
        Whether the grid's tab is the one shown: a hidden grid is not rendered.
    pictures : callable () -> (callable (..., nz) -> (..., C, H, W))
        How latents become pictures right now (read when a grid is requested, run on the render thread):
        the explorer's G(z), or its style settings (ψ, W directions, noise) for a style-based G.
    """

    def __init__(self, renderer: RenderController, current_z: Callable[[], np.ndarray],
                 shown: Callable[[], bool], pictures: Callable[[], Callable[[np.ndarray], np.ndarray]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._renderer = renderer
        self._current_z = current_z
        self._shown = shown
        self._pictures = pictures
        self._model: Any = None
        self._directions: np.ndarray | None = None  # (K, nz) unit rows
        self._rows = QComboBox()
        self._rows.currentIndexChanged.connect(self.schedule)
        self._view = SampleView(pad=1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Rows:"))
        row.addWidget(self._rows)
        row.addWidget(QLabel("columns: −3σ … +3σ along each direction, from the current z"), 1)
        layout.addLayout(row)
        layout.addWidget(self._view, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)  # 35 images: render once the slider rests
        self._timer.timeout.connect(self._request)

    def set_model(self, model: Any) -> None:
        """Forget the old model's directions and picture (directions come with :meth:`set_directions`)."""
        self._model, self._directions = model, None
        self._rows.clear()
        self._view.clear()

    def set_directions(self, directions: np.ndarray) -> None:
        """Offer ``directions`` (K, nz) as rows, and render if shown."""
        self._directions = directions
        self._rows.blockSignals(True)
        self._rows.addItem("top 5 directions", -1)
        for i in range(directions.shape[0]):
            self._rows.addItem(f"PC{i + 1}", i)
        self._rows.blockSignals(False)
        self.schedule()

    @Slot()
    def schedule(self, *_: object) -> None:
        """Render once the sliders rest (if the grid is shown and there is something to render)."""
        if self._shown() and self._directions is not None and not self._model.is_points:
            self._timer.start()

    @Slot()
    def _request(self) -> None:
        if self._directions is None or self._model is None:
            return
        choice = self._rows.currentData()
        picked = range(min(5, len(self._directions))) if choice is None or choice < 0 else [choice]
        names = [f"PC{i + 1}" for i in picked]
        rows = self._directions[list(picked)]  # (R, nz)
        pictures, zs = self._pictures(), neighbourhood(self._current_z(), rows, SIGMAS)  # (R * 7, nz)
        self._renderer.submit("grid", lambda progress: (make_grid(pictures(zs), nrow=len(SIGMAS), pad=1), names))

    def show_result(self, result: tuple[np.ndarray, list[str]]) -> None:
        """Show a rendered ``(grid, row names)``."""
        grid, names = result
        self._view.set_images(grid, f"rows, top to bottom: {', '.join(names)}")

    def image(self) -> np.ndarray | None:
        """The uint8 grid shown, if any."""
        return self._view.current_grid()

    def waiting(self) -> bool:
        """True while a render waits for the sliders to rest."""
        return self._timer.isActive()

    def stop(self) -> None:
        """Render nothing more (the explorer shuts down)."""
        self._timer.stop()
