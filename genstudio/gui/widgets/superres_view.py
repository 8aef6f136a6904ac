"""The Super-resolution view: one image made low-resolution, then bicubic | SRResNet | SRGAN |
original side by side with PSNR / SSIM / sharpness, a wipe slider between any two, nearest-neighbour
zoom and |SR − HR| as an error map.

The pictures and scores come from :mod:`genstudio.superres.compare` (Qt-free); this widget only
lays them out. Each opened SRResNet or SRGAN model takes its own column, so opening one of each
compares the two stages. Images: a held-out image of the model's data set (never trained on), or
an image file (centre-cropped to at most 256 px, which is treated as the original).

Beside the pictures, a perception–distortion plot (:mod:`genstudio.gui.widgets.pd_plot`) puts every
model shown this session on PSNR against sharpness, scored on a worker thread; "Fine-tune as
SRGAN" asks the window to fill the run form for stage two from the shown SRResNet's file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QSlider, QSpinBox, QVBoxLayout, QWidget)

from genstudio.data import uint8_to_tensor
from genstudio.gui.widgets.pd_plot import PerceptionDistortionPlot, WrapLabel
from genstudio.gui.widgets.sample_view import rgb_image
from genstudio.superres.compare import ORIGINAL, Panel, compare, crop_for_scale, wipe, zoom
from genstudio.superres.perception import SeenModels

__all__ = ["SuperResView"]

ZOOMS = (1, 2, 4, 8)
THUMB = 128  # px of each side-by-side picture


def _pixmap(image: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_image(image))


class SuperResView(QWidget):
    """Compares the super-resolution models it is given (``set_model``) on one image."""

    snapshotRequested = Signal()  # the model router's "show the model being trained"
    fineTuneRequested = Signal(str, str, int)  # SRResNet checkpoint, its data, its size: SRGAN's stage two

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models: dict[str, Any] = {}  # "SRResNet" / "SRGAN" -> SRModel
        self.seen = SeenModels()  # every SR model shown this session: the perception–distortion plot's points
        self._pd_stale = False  # models came since the plot was last asked for
        self.panels: list[Panel] = []
        self._hr: torch.Tensor | None = None  # (C, H, W) in [-1, 1]
        self._held: torch.Tensor | None = None  # held-out images of the first model's data set

        self.index = QSpinBox()
        self.index.setPrefix("held-out image #")
        self.index.setRange(0, 0)
        self.index.valueChanged.connect(self._on_index)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._on_open)
        self.left, self.right = QComboBox(), QComboBox()
        self.wipe = QSlider(Qt.Orientation.Horizontal)
        self.wipe.setRange(0, 100)
        self.wipe.setValue(50)
        self.zoom = QComboBox()
        self.zoom.addItems([f"{z}×" for z in ZOOMS])
        self.zoom.setCurrentIndex(2)
        self.fine_tune = QPushButton("Fine-tune as SRGAN")
        self.fine_tune.setEnabled(False)
        self.fine_tune.setToolTip("open an SRResNet checkpoint first: SRGAN (stage two) starts from it")
        self.fine_tune.clicked.connect(self._on_fine_tune)
        self.errors = QCheckBox("|SR − HR|")
        self.errors.setToolTip("show the absolute error against the original (× 4) instead of the pictures")
        for w in (self.left, self.right, self.zoom):
            w.currentIndexChanged.connect(self._draw)
        self.wipe.valueChanged.connect(self._draw)
        self.errors.toggled.connect(self._draw)

        top = QHBoxLayout()
        for w in (self.index, self.open_button, QLabel("wipe"), self.left, self.wipe, self.right,
                  QLabel("zoom"), self.zoom, self.errors, self.fine_tune):
            top.addWidget(w)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        self.strip = QGridLayout()
        self.caption = WrapLabel("Open an SRResNet or SRGAN checkpoint (File ▸ Open) to compare it with bicubic.")
        self.pd_plot = PerceptionDistortionPlot()
        middle = QHBoxLayout()
        middle.addWidget(scroll, 3)
        middle.addWidget(self.pd_plot, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addLayout(self.strip)
        layout.addWidget(self.caption)

    # ------------------------------------------------------------------ models and images
    def set_model(self, model: Any) -> None:
        """Add (or replace) ``model``'s column: one SRResNet and one SRGAN at a time."""
        label = "SRGAN" if model.kind == "srgan" else "SRResNet"
        self.models[label] = model
        if label == "SRResNet":
            path = getattr(model, "path", None)
            self.fine_tune.setEnabled(path is not None)
            self.fine_tune.setToolTip(f"fill the run form to train SRGAN from {path.name}" if path is not None
                                      else "save this SRResNet (a checkpoint) to fine-tune it as SRGAN")
        self.seen.add(model)
        if self._hr is None or self._held is None:
            self._load_held_out(model)
        self._recompute(show=label)
        self._pd_stale = True
        if self.isVisible():  # else when shown: no scoring thread for a tab nobody looks at
            self.replot()

    def replot(self) -> None:
        """Score every model seen (and bicubic) on the held-out images, off the GUI thread, and plot them."""
        self._pd_stale = False
        if self._held is not None and len(self.seen):
            self.pd_plot.compute(self.seen.labelled(self._held.shape[1]), self._held)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._pd_stale:
            self.replot()

    def _load_held_out(self, model: Any) -> None:
        from genstudio.superres.score import held_out_images

        meta = model.meta
        try:
            self._held = held_out_images(meta.get("data", "faces"), int(meta.get("size", 64)), model.channels, 50)
        except Exception as exc:  # noqa: BLE001 - a folder that is gone, a data set this version lacks
            self.caption.setText(f"The model's data set cannot be loaded ({exc}); open an image instead.")
            return
        self.index.setRange(0, max(0, self._held.shape[0] - 1))
        self._hr = self._held[self.index.value()]

    def set_image(self, hr: torch.Tensor) -> None:
        """Compare on ``hr`` (C, H, W) in [-1, 1] (cut to at most 256 px, a multiple of 4)."""
        self._hr = crop_for_scale(hr)
        self._recompute()

    @Slot()
    def _on_fine_tune(self) -> None:
        model = self.models.get("SRResNet")
        if model is not None and getattr(model, "path", None) is not None:
            meta = model.meta
            self.fineTuneRequested.emit(str(model.path), str(meta.get("data", "")), int(meta.get("size", 0)))

    @Slot(int)
    def _on_index(self, i: int) -> None:
        if self._held is not None and 0 <= i < self._held.shape[0]:
            self._hr = self._held[i]
            self._recompute()

    @Slot()
    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.open_image(path)

    def open_image(self, path: str) -> None:
        """Compare on an image file (its centre, at most 256 px a side)."""
        from pathlib import Path

        from genstudio.superres.upscale import read_image

        try:
            img = read_image(Path(path))
        except ValueError as exc:
            self.caption.setText(str(exc))
            return
        c = next(iter(self.models.values())).channels if self.models else 3
        a = np.array(img.convert("L" if c == 1 else "RGB")).reshape(img.size[1], img.size[0], -1)
        self.set_image(uint8_to_tensor(a[None].copy())[0])  # (C, H, W) in [-1, 1]

    # ------------------------------------------------------------------ drawing
    def _recompute(self, show: str | None = None) -> None:
        """Score every model on the image; ``show`` (a model just added) goes on the wipe's right."""
        if self._hr is None:
            return
        self.panels = compare(self._hr, self.models)
        names = [p.name for p in self.panels]
        for combo, default in ((self.left, 0), (self.right, len(names) - 2 if len(names) > 2 else 0)):
            old = show if (show and combo is self.right) else combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(names.index(old) if old in names else default)
            combo.blockSignals(False)
        while self.strip.count():
            item = self.strip.takeAt(0)
            old_widget = item.widget()
            if old_widget is not None:  # out of sight now: deleteLater waits for the event loop
                old_widget.hide()
                old_widget.setParent(None)
                old_widget.deleteLater()
        for col, p in enumerate(self.panels):
            thumb = QLabel()
            factor = max(1, THUMB // p.image.shape[0])
            thumb.setPixmap(_pixmap(zoom(p.image, factor)))
            self.strip.addWidget(thumb, 0, col, Qt.AlignmentFlag.AlignCenter)
            text = QLabel(self._label(p))
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.strip.addWidget(text, 1, col)
        how = "; ".join(f"{k}: {m.describe()}" for k, m in self.models.items())
        self.caption.setText(f"×4 from {self._hr.shape[2] // 4} × {self._hr.shape[1] // 4} px. {how}")
        self._draw()

    def _label(self, p: Panel) -> str:
        if p.psnr is None:
            return ORIGINAL
        model = self.models.get(p.name)
        trained = f"\ncontent: {model.content}" if model is not None else ""
        return f"{p.name}{trained}\nPSNR {p.psnr:.2f} dB\nSSIM {p.ssim:.3f}\nsharpness {p.sharpness:.2f}"

    @Slot()
    def _draw(self) -> None:
        if not self.panels:
            return
        by = {p.name: p for p in self.panels}
        a, b = by.get(self.left.currentText()), by.get(self.right.currentText())
        if a is None or b is None:
            return
        pick = (lambda p: p.error) if self.errors.isChecked() else (lambda p: p.image)
        image = wipe(pick(a), pick(b), self.wipe.value() / 100)
        self.picture.setPixmap(_pixmap(zoom(image, ZOOMS[self.zoom.currentIndex()])))

    def shutdown(self) -> None:
        """Stop the perception–distortion plot's scoring thread (the window's close)."""
        self.pd_plot.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)
