"""The Autoencoder tab: held-out images through a KL autoencoder — input | reconstruction | error |
latent channels, with each row's PSNR (the numbers come from :mod:`genstudio.autoencoder.view`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from genstudio.gui.widgets.sample_view import rgb_image

__all__ = ["AutoencoderView"]

ZOOM = 2  # screen pixels per image pixel (64 px faces → 128 px tiles)


def _pixmap(image: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_image(image))


class AutoencoderView(QWidget):
    """Shows the autoencoder it is given (``set_model``) on a few held-out images of its data set."""

    snapshotRequested = Signal()  # the model router's "show the model being trained"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: Any = None
        self.panel = None  # the last ReconstructionPanel
        self.first = QSpinBox()
        self.first.setPrefix("held-out images from #")
        self.first.setRange(0, 400)
        self.first.setSingleStep(4)
        self.first.valueChanged.connect(self._recompute)
        self.rows = QSpinBox()
        self.rows.setRange(1, 8)
        self.rows.setValue(4)
        self.rows.setSuffix(" rows")
        self.rows.valueChanged.connect(self._recompute)
        self.snapshot = QPushButton("Snapshot of the run")
        self.snapshot.setToolTip("show the autoencoder being trained, as of its current step")
        self.snapshot.clicked.connect(self.snapshotRequested)
        top = QHBoxLayout()
        for w in (self.first, self.rows, self.snapshot):
            top.addWidget(w)
        top.addStretch(1)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        inner = QWidget()
        row = QHBoxLayout(inner)
        row.addWidget(self.picture)
        row.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        self.caption = QLabel("Open an autoencoder checkpoint (File ▸ Open) or train one "
                              "(genstudio train autoencoder --data faces --size 64).")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.caption)

    def shutdown(self) -> None:
        """Nothing runs off the GUI thread here: the window's close asks every view, so this view answers."""

    def set_model(self, model: Any) -> None:
        """Show ``model`` (an :class:`~genstudio.autoencoder.model.AutoencoderModel`)."""
        self.model = model
        self._recompute()

    @Slot()
    def _recompute(self) -> None:
        """Encode and decode the rows (a few 64 px images: milliseconds) and draw them."""
        if self.model is None:
            return
        from genstudio.autoencoder.view import held_out_examples, reconstruction_panel

        try:
            images = held_out_examples(self.model, self.rows.value(), self.first.value())
        except Exception as exc:  # noqa: BLE001 - a folder that is gone, a data set this version lacks
            self.caption.setText(f"The model's data set cannot be loaded ({exc}).")
            return
        self.panel = p = reconstruction_panel(self.model, images, zoom=ZOOM)
        self.picture.setPixmap(_pixmap(p.picture))
        c, h, w = p.latent_shape
        self.caption.setText(f"{self.model.describe()}. Mean PSNR of these rows {p.mean_psnr:.2f} dB; latents "
                             f"{c}×{h}×{w} (std {p.latent_std:.3f}; each channel shown on its own grey scale). "
                             "genstudio score prints the PSNR over 500 held-out images.")
