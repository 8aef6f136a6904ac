"""A grid of generated images, drawn pixel-crisp at the largest size that fits.

:class:`SampleView` takes a model's batch (float (N, C, H, W) in [-1, 1]), a uint8 batch
(N, H, W, C) or a ready-made uint8 grid (H, W, 3), tiles it with
:func:`genstudio.imaging.make_grid`, and paints it centred with nearest-neighbour scaling and
the aspect ratio kept. Scale factors are whole numbers whenever the grid fits at least once,
so every source pixel becomes an equal square block.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND
from genstudio.imaging import make_grid

__all__ = ["SampleView"]

_BACKGROUND = QColor(PLOT_BACKGROUND)


class _PixelCanvas(QWidget):
    """Paints one RGB picture centred, aspect kept, nearest-neighbour scaled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(64, 64)

    def set_rgb(self, rgb: np.ndarray | None) -> None:
        """Show a uint8 (H, W, 3) picture (kept alive by the QImage's own copy)."""
        if rgb is None:
            self._image = None
        else:
            h, w, _ = rgb.shape
            data = np.ascontiguousarray(rgb)
            # .copy() detaches the QImage from the numpy buffer it was built over
            self._image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.update()

    def target_rect(self) -> QRectF:
        """Where the picture is drawn, in widget coordinates (empty when nothing is shown)."""
        if self._image is None:
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        if scale >= 1.0:
            scale = float(int(scale))  # whole-number zoom: equal square pixel blocks
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2.0, (self.height() - h) / 2.0, w, h)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(self.target_rect(), self._image)
        painter.end()


class SampleView(QWidget):
    """Generated samples as one crisp grid, with a caption above (e.g. "step 1,200").

    Parameters
    ----------
    parent : QWidget, optional
    pad : int
        Pixels between the images of a grid.
    """

    def __init__(self, parent: QWidget | None = None, pad: int = 1) -> None:
        super().__init__(parent)
        self._pad = int(pad)
        self._grid: np.ndarray | None = None
        # elided: a long caption ("x_t = √ᾱ_t·x_0 + …") must not set the width of a row of views
        self._caption = ElidedLabel("no samples yet", min_chars=6)
        self._caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption.setStyleSheet("color: #c8c8c8;")
        self._canvas = _PixelCanvas()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._caption)
        layout.addWidget(self._canvas, 1)

    def set_images(self, images: np.ndarray, caption: str = "") -> None:
        """Show a batch of images (or a ready-made grid).

        Parameters
        ----------
        images : np.ndarray
            float (N, C, H, W) in [-1, 1]; uint8 (N, H, W, C) with C in {1, 3}; or a ready
            uint8 grid (H, W, 3).
        caption : str
            Text above the grid.
        """
        a = np.asarray(images)
        if a.dtype == np.uint8 and a.ndim == 3 and a.shape[-1] == 3:
            grid = np.ascontiguousarray(a)  # already a grid (H, W, 3)
        else:
            grid = make_grid(a, pad=self._pad)
        self._grid = grid
        self._canvas.set_rgb(grid)
        self._caption.setText(caption)

    def clear(self) -> None:
        """Show nothing."""
        self._grid = None
        self._canvas.set_rgb(None)
        self._caption.setText("no samples yet")

    def current_grid(self) -> np.ndarray | None:
        """The uint8 (H, W, 3) grid shown (a copy), or None."""
        return None if self._grid is None else self._grid.copy()

    def caption(self) -> str:
        """The caption text."""
        return self._caption.text()

    def image_rect(self) -> QRectF:
        """Where the grid is painted inside the canvas (for tests of the aspect ratio)."""
        return self._canvas.target_rect()
