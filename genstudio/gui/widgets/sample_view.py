"""A grid of generated images, drawn pixel-crisp at the largest size that fits.

:class:`SampleView` takes a model's batch (float (N, C, H, W) in [-1, 1]), a uint8 batch
(N, H, W, C) or a ready-made uint8 grid (H, W, 3), tiles it with
:func:`genstudio.imaging.make_grid`, and paints it centred with nearest-neighbour scaling and
the aspect ratio kept. Scale factors are whole numbers whenever the grid fits at least once,
so every source pixel becomes an equal square block. Rows may carry labels
(:meth:`SampleView.set_row_labels`: a text-to-image preview's prompts), painted crisp at screen
resolution in a margin left of the grid, each beside its row.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.plot_style import PLOT_BACKGROUND
from genstudio.imaging import make_grid

__all__ = ["SampleView", "rgb_image"]

_BACKGROUND = QColor(PLOT_BACKGROUND)



def rgb_image(rgb: np.ndarray) -> QImage:
    """A QImage of a uint8 (H, W, 3) picture that owns its pixels (``.copy()`` detaches it from the
    numpy buffer it was built over)."""
    h, w = rgb.shape[:2]
    data = np.ascontiguousarray(rgb)
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()

class _PixelCanvas(QWidget):
    """Paints one RGB picture centred, aspect kept, nearest-neighbour scaled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._labels: list[str] = []  # one per row of the picture, painted left of it
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(64, 64)

    def set_rgb(self, rgb: np.ndarray | None) -> None:
        """Show a uint8 (H, W, 3) picture (kept alive by the QImage's own copy)."""
        if rgb is None:
            self._image = None
        else:
            self._image = rgb_image(rgb)
        self.update()

    def set_labels(self, labels: list[str]) -> None:
        """Label the picture's rows (top to bottom); [] for none."""
        self._labels = list(labels)
        self.update()

    def _margin(self) -> int:
        if not self._labels:
            return 0
        fm = self.fontMetrics()
        return min(max(fm.horizontalAdvance(t) for t in self._labels) + 10, self.width() // 2)

    def target_rect(self) -> QRectF:
        """Where the picture is drawn, in widget coordinates (empty when nothing is shown)."""
        if self._image is None:
            return QRectF()
        margin = self._margin()
        iw, ih = self._image.width(), self._image.height()
        scale = min((self.width() - margin) / iw, self.height() / ih)
        if scale >= 1.0:
            scale = float(int(scale))  # whole-number zoom: equal square pixel blocks
        w, h = iw * scale, ih * scale
        return QRectF(margin + (self.width() - margin - w) / 2.0, (self.height() - h) / 2.0, w, h)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            rect = self.target_rect()
            painter.drawImage(rect, self._image)
            if self._labels:
                painter.setPen(QColor("#d8d8d8"))
                row_h = rect.height() / len(self._labels)
                for i, text in enumerate(self._labels):
                    cell = QRectF(0, rect.top() + i * row_h, rect.left() - 6, row_h)
                    painter.drawText(cell, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                                     self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                                                   int(cell.width())))
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
        self._canvas.set_labels([])
        self._caption.setText(caption)

    def set_row_labels(self, labels: list[str]) -> None:
        """Label the rows of the grid shown (top to bottom), e.g. the prompt of each; cleared by the next
        :meth:`set_images`."""
        self._canvas.set_labels(labels)

    def row_labels(self) -> list[str]:
        """The labels of the rows shown ([] for none)."""
        return self._canvas._labels.copy()

    def clear(self) -> None:
        """Show nothing."""
        self._grid = None
        self._canvas.set_rgb(None)
        self._canvas.set_labels([])
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
