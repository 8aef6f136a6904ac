"""The Latent view's "Style" tab for a style-based generator: GANSpace directions in W, the per-layer
noise table (on / re-draw / freeze) and the layer view (a few feature maps of the chosen layer, their
mean and the mean's FFT magnitude), drawn from what :class:`~genstudio.views.style.StyleState` holds.

The widget edits the state through its setters; the view that owns both renders (a changed state asks
the view for a new picture, and the picture's render brings the new layer view back)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from genstudio.gui.widgets.latent_sliders import LatentSliders
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.views.style import LayerView, StyleState

__all__ = ["StylePanel"]


class StylePanel(QWidget):
    """Directions in W, noise per layer and the layer view, bound to ``state``."""

    def __init__(self, state: StyleState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        state.changed.connect(self._on_state)

        self.directions = LatentSliders(lockable=False, span=3.0)
        self.directions.valueChanged.connect(self._on_alpha)
        self.directions.setMinimumHeight(150)

        # --- layer view
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The conv layer whose feature maps are shown; they follow every slider")
        self.layer_box.currentIndexChanged.connect(self._on_layer)
        self.layer_image = SampleView(pad=1)
        self.layer_image.setMinimumHeight(90)
        self.layer_image.setToolTip("The most active channels of the layer, their mean over all channels, "
                                    "and the log magnitude of the mean's 2-D FFT (centred)")
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.layer_box, 1)

        # --- noise table
        self._noise_rows = QWidget()
        self._noise_grid = QGridLayout(self._noise_rows)
        self._noise_grid.setContentsMargins(0, 0, 0, 0)
        self._noise_grid.setVerticalSpacing(1)
        self._on_boxes: list[QCheckBox] = []
        self._freeze_boxes: list[QCheckBox] = []
        self.redraw_all = QPushButton("Re-draw all noise")
        self.redraw_all.setToolTip("A new per-pixel noise image for every layer not frozen: hair and texture "
                                   "change, the face stays")
        self.redraw_all.clicked.connect(lambda: self.state.redraw_noise(None))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._noise_rows)
        scroll.setMinimumHeight(120)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("<b>Directions in W</b> (GANSpace: principal axes of w = f(z))"))
        layout.addWidget(self.directions, 3)
        layout.addWidget(QLabel("<b>Layer view</b>"))
        layout.addLayout(top)
        layout.addWidget(self.layer_image, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Noise per layer</b>"))
        row.addStretch(1)
        row.addWidget(self.redraw_all)
        layout.addLayout(row)
        layout.addWidget(scroll, 2)

    # ------------------------------------------------------------------ state -> widgets
    def _on_state(self, what: str, index: int | None) -> None:
        if what == "model":
            self._build()
        elif what == "directions":
            s = self.state
            self.directions.set_rows([f"W-PC{i + 1}" for i in range(len(s.alpha))], s.alpha)
            self.directions.set_progress(None)
            self.directions.set_header(f"{len(s.alpha)} principal axes of w over 10,000 draws, most variance "
                                       "first. Slider units: σ of W along each axis.")
        elif what == "alpha" and self.directions.values()[index] != self.state.alpha[index]:
            self.directions.set_value(index, self.state.alpha[index])
        elif what == "noise":
            self._show_noise()

    def _build(self) -> None:
        s = self.state
        for box in self._on_boxes + self._freeze_boxes:
            box.deleteLater()
        while self._noise_grid.count():
            item = self._noise_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._on_boxes, self._freeze_boxes = [], []
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.directions.set_rows([], np.zeros(0), empty_text="no directions yet")
        if not s.active:
            self.layer_box.blockSignals(False)
            self.layer_image.clear()
            return
        self.directions.set_header("Finding the principal axes of W over 10,000 draws…")
        for i, r in enumerate(s.model.resolutions):
            self.layer_box.addItem(f"conv {i}: {r}×{r}")
            on, frozen = QCheckBox("on"), QCheckBox("freeze")
            on.setToolTip(f"Per-pixel noise into conv {i} ({r}×{r}); off: the layer gets none")
            frozen.setToolTip("Keep this layer's noise when all noise is re-drawn")
            on.toggled.connect(lambda v, i=i: self.state.set_noise_on(i, v))
            frozen.toggled.connect(lambda v, i=i: self.state.set_frozen(i, v))
            redraw = QPushButton("re-draw")
            redraw.setToolTip(f"A new noise image for conv {i} only")
            redraw.clicked.connect(lambda _=False, i=i: self.state.redraw_noise(i))
            self._noise_grid.addWidget(QLabel(f"conv {i}  {r}²"), i, 0)
            for col, w in enumerate((on, redraw, frozen), start=1):
                self._noise_grid.addWidget(w, i, col)
            self._on_boxes.append(on)
            self._freeze_boxes.append(frozen)
        self.layer_box.setCurrentIndex(s.layer)
        self.layer_box.blockSignals(False)
        self._show_noise()

    def _show_noise(self) -> None:
        for i, (on, frozen) in enumerate(zip(self._on_boxes, self._freeze_boxes)):
            for box, value in ((on, self.state.noise_on[i]), (frozen, self.state.frozen[i])):
                if box.isChecked() != value:
                    box.blockSignals(True)
                    box.setChecked(value)
                    box.blockSignals(False)

    def show_layer(self, view: LayerView) -> None:
        """Draw a layer view that a render brought back."""
        tiles = np.concatenate([view.channels, view.mean[None], view.fft[None]])  # (K + 2, H, W) in [0, 1]
        rgb = np.repeat(tiles[:, None] * 2 - 1, 3, axis=1)  # (K + 2, 3, H, W) in [-1, 1]
        from genstudio.imaging import make_grid

        self.layer_image.set_images(make_grid(rgb, nrow=len(tiles), pad=1),
                                    f"conv {view.layer} ({view.resolution}²): {len(view.channels)} channels · "
                                    "mean · |FFT| of the mean")

    # ------------------------------------------------------------------ widgets -> state
    @Slot(int, float)
    def _on_alpha(self, index: int, value: float) -> None:
        self.state.set_alpha(index, value)

    @Slot(int)
    def _on_layer(self, index: int) -> None:
        if index >= 0 and self.state.active:
            self.state.set_layer(index)

    def noise_boxes(self, layer: int) -> tuple[QCheckBox, QCheckBox]:
        """The (on, freeze) check boxes of ``layer`` (tests)."""
        return self._on_boxes[layer], self._freeze_boxes[layer]
