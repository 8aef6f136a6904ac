"""Interpolation between two latents A and B: a strip of frames, a scrubber, GIF export.

:class:`InterpolationPanel` shows the walk the explorer's
:class:`~genstudio.views.latent.LatentState` holds (A and B are set from the current z through
``endpointRequested``; the method, strip frames and t are the state's too), walks between them linearly or along the great circle
(:func:`genstudio.latent.slerp`), renders a strip of frames and the frame under the scrubber on
the shared :class:`~genstudio.gui.render_worker.RenderController`, and writes the walk as an
animated GIF there too. For a 2-D point GAN it renders the walk as paths instead, emitted as
``pathChanged(z_path, x_path)`` for the latent pad to draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.export_size import ExportSizeButton
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.imaging import DEFAULT_EXPORT_SIZE, make_grid, resize_long_side, save_gif, to_uint8
from genstudio.latent import map_latents
from genstudio.views.latent import LatentState

__all__ = ["InterpolationPanel"]

_STEPS = 1000  # scrubber positions from A to B


def _gif_frames(pictures: Callable[[np.ndarray], np.ndarray], zs: np.ndarray, size: int | None = DEFAULT_EXPORT_SIZE,
                smooth: bool = False) -> list[np.ndarray]:
    """The picture of each latent as uint8 (H', W', 3) frames, the long side ``size`` (None: native)."""
    frames = to_uint8(pictures(zs))  # (T, H, W, C)
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    return [resize_long_side(np.ascontiguousarray(f[..., :3]), size, smooth) for f in frames]


class InterpolationPanel(QWidget):
    """A/B walk: endpoints, method, strip, scrubber and export.

    Parameters
    ----------
    renderer : RenderController
        Where frames are rendered (kinds "interp_strip", "interp_frame", "interp_gif").
    state : LatentState
        The explorer's state: the panel shows its walk and writes edits back to it.
    pictures : callable () -> (callable (..., nz) -> (..., C, H, W))
        How image latents become pictures right now (read when frames are requested): the explorer's
        G(z), or its style settings (ψ, W directions, noise) for a style-based G.
    parent : QWidget, optional

    Signals
    -------
    endpointRequested(str)
        "A" or "B": the person wants that end set to the current z (answer with :meth:`set_endpoint`).
    pathChanged(object, object)
        2-D models: the walk in latent space and in data space, (T, 2) each, or (None, None).
    message(str)
        A line for the explorer's status bar (export done or failed).
    """

    endpointRequested = Signal(str)
    pathChanged = Signal(object, object)
    message = Signal(str)

    def __init__(self, renderer: RenderController, state: LatentState,
                 pictures: Callable[[], Callable[[np.ndarray], np.ndarray]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._renderer = renderer
        self._model: Any = None
        self._pictures = pictures
        self.state = state
        state.changed.connect(self._on_state)
        renderer.rendered.connect(self._on_rendered)
        renderer.failed.connect(self._on_failed)

        self._set_a = QPushButton("A ← current")
        self._set_b = QPushButton("B ← current")
        self._set_a.setToolTip("Make the current latent the start of the walk")
        self._set_b.setToolTip("Make the current latent the end of the walk")
        self._set_a.clicked.connect(self._want_a)
        self._set_b.clicked.connect(self._want_b)
        self._method = QComboBox()
        self._method.addItem("linear", "linear")
        self._method.addItem("spherical (slerp)", "slerp")
        self._method.setToolTip("Spherical keeps |z| typical of the prior along the way")
        self._method.currentIndexChanged.connect(self._on_method)
        self._frames = QSpinBox()
        self._frames.setRange(2, 16)
        self._frames.setValue(state.frames)
        self._frames.setPrefix("strip ")
        self._frames.valueChanged.connect(state.set_frames)
        self._gif_frames = QSpinBox()
        self._gif_frames.setRange(2, 240)
        self._gif_frames.setValue(32)
        self._gif_frames.setSuffix(" frames")
        self._export = QPushButton("Export GIF…")
        self._export.clicked.connect(self._ask_export)
        self.export_size = ExportSizeButton()  # also the latent view's "Save image" size
        self._scrub = QSlider(Qt.Orientation.Horizontal)
        self._scrub.setRange(0, _STEPS)
        self._scrub.valueChanged.connect(self._on_scrub)  # -> state.t -> _show_t
        self._t_label = QLabel("t 0.00")
        self._t_label.setMinimumWidth(48)
        self._preview = SampleView(pad=0)
        self._preview.setMinimumSize(120, 120)
        self._strip = SampleView(pad=1)
        self._hint = QLabel("The walk from A to B is drawn on the pad (green), in latent and in data space.")
        self._hint.setStyleSheet("color: #a0a0a0;")

        row = QHBoxLayout()
        for w in (self._set_a, self._set_b, self._method, self._frames):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self._gif_frames)
        row.addWidget(self.export_size)
        row.addWidget(self._export)
        self._scrub_row = QWidget()
        scrub = QHBoxLayout(self._scrub_row)
        scrub.setContentsMargins(0, 0, 0, 0)
        scrub.addWidget(QLabel("A"))
        scrub.addWidget(self._scrub, 1)
        scrub.addWidget(QLabel("B"))
        scrub.addWidget(self._t_label)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.addLayout(row, 0, 0, 1, 2)
        grid.addWidget(self._hint, 3, 0, 1, 2)
        grid.addWidget(self._preview, 1, 0, 2, 1)
        grid.addWidget(self._strip, 1, 1)
        grid.addWidget(self._scrub_row, 2, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(1, 1)
        self.set_model(None)

    # ------------------------------------------------------------------ API
    def set_model(self, model: Any) -> None:
        """Use ``model``'s G (None: nothing to show); the walk's ends are the state's (it keeps them
        for a model with the same latent size)."""
        self._model = model
        points = model is not None and model.is_points
        self._preview.setVisible(not points)
        self._strip.setVisible(not points)
        self._scrub_row.setVisible(not points)
        self._hint.setVisible(points)
        for w in (self._set_a, self._set_b, self._method, self._frames, self._scrub):
            w.setEnabled(model is not None)
        for w in (self._frames, self._gif_frames, self._export):
            w.setVisible(not points)  # 2-D: the walk is a path on the pad, no frames
        self._preview.clear()
        self._strip.clear()
        self._refresh()

    def _on_state(self, what: str, _index: int | None) -> None:
        """Follow the state's walk: the method, frames and t shown, and a re-render."""
        if what == "walk":
            self._method.blockSignals(True)
            self._method.setCurrentIndex(self._method.findData(self.state.method))
            self._method.blockSignals(False)
            self._frames.blockSignals(True)
            self._frames.setValue(self.state.frames)
            self._frames.blockSignals(False)
            self._refresh()
        elif what == "t":
            position = int(round(self.state.t * _STEPS))
            if self._scrub.value() != position:
                self._scrub.blockSignals(True)
                self._scrub.setValue(position)
                self._scrub.blockSignals(False)
            self._show_t()

    def preview_image(self) -> np.ndarray | None:
        """The uint8 (H, W, 3) frame shown for the scrubber's t."""
        return self._preview.current_grid()

    def strip_image(self) -> np.ndarray | None:
        """The uint8 strip shown."""
        return self._strip.current_grid()

    def export_gif(self, path: str | Path, n_frames: int | None = None, fps: float = 12.0) -> int:
        """Write the walk as an animated GIF on the render thread; returns the job's seq.

        ``message`` reports the result ("Saved …" or the error).
        """
        if not self._ready() or self._model.is_points:
            self.message.emit("Set A and B on an image model first.")
            return 0
        zs, pictures, path = self.state.walk(int(n_frames or self._gif_frames.value())), self._pictures(), Path(path)
        size, smooth = self.export_size.long_side(), self.export_size.smooth()  # read here, not on the thread

        def job(progress):
            frames = _gif_frames(pictures, zs, size, smooth)
            save_gif(path, frames, fps=fps)
            return path, len(frames)

        return self._renderer.submit("interp_gif", job)

    # ------------------------------------------------------------------ rendering
    def _ready(self) -> bool:
        return self._model is not None and self.state.walk_ready()

    @Slot()
    def _refresh(self, *_: object) -> None:
        ready = self._ready()
        self._export.setEnabled(ready and self._model is not None and not self._model.is_points)
        if not ready:
            if self._model is not None and self._model.is_points:
                self.pathChanged.emit(None, None)
            return
        model = self._model
        zs = self.state.walk(65 if model.is_points else self.state.frames)  # (T, nz); a smooth path in 2-D
        if model.is_points:
            self._renderer.submit("interp_strip", lambda progress: (zs, map_latents(model, zs)))
        else:
            n, pictures = zs.shape[0], self._pictures()
            self._renderer.submit("interp_strip", lambda progress: make_grid(pictures(zs), nrow=n, pad=1))
        self._show_t()

    def refresh(self) -> None:
        """Render the strip and the frame again (the pictures changed, not the walk)."""
        self._refresh()

    @Slot(int)
    def _on_method(self, _index: int) -> None:
        self.state.set_method(str(self._method.currentData()))

    @Slot(int)
    def _on_scrub(self, position: int) -> None:
        self.state.set_t(position / _STEPS)

    def _show_t(self) -> None:
        self._t_label.setText(f"t {self.state.t:.2f}")
        if not self._ready() or self._model.is_points:
            return
        z, pictures = self.state.walk_at(), self._pictures()  # (1, nz); exactly A / B at the ends
        self._renderer.submit("interp_frame", lambda progress: pictures(z))

    @Slot(str, int, object)
    def _on_rendered(self, kind: str, seq: int, result: object) -> None:
        if kind == "interp_strip":
            if self._model is not None and self._model.is_points:
                zs, xs = result
                self.pathChanged.emit(zs, xs)
            else:
                self._strip.set_images(result, f"{self.state.frames} frames, A → B ({self.state.method})")
        elif kind == "interp_frame":
            self._preview.set_images(result, f"t = {self.state.t:.2f}")
        elif kind == "interp_gif":
            path, n = result
            self.message.emit(f"Saved {path.name} ({n} frames).")

    @Slot(str, int, str)
    def _on_failed(self, kind: str, seq: int, text: str) -> None:
        if kind.startswith("interp"):
            self.message.emit(f"Interpolation failed: {text}")

    @Slot()
    def _want_a(self) -> None:
        self.endpointRequested.emit("A")

    @Slot()
    def _want_b(self) -> None:
        self.endpointRequested.emit("B")

    @Slot()
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the walk as GIF", "walk.gif", "GIF (*.gif)")
        if path:
            self.export_gif(path)

