"""Is the sample shown new, or a training image? Its k nearest training images in a compact strip.

:class:`NeighbourStrip` shows, for one sample (the latent explorer's G(z), the scrubber's selected final
sample), the ``k`` nearest images of the model's training set — in pixels, or in a classifier's
features (a switch: the digits classifier's for gray images, the faces classifier's for RGB) — each with its distance, and the memorisation verdict of
:mod:`genstudio.memorisation`: "copy" when d₁ / d₂ < 1/3 (Carlini et al. 2023), "new" otherwise, with the
ratio and the threshold. The training set is loaded once per model (data set, size and seed from the
checkpoint's config) and searched on a :class:`~genstudio.gui.render_worker.RenderController` thread,
newest request wins: the strip follows a slider without blocking the window. Only numpy copies come back.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.memorisation import COPY_RATIO, SPACES, TrainingIndex, training_index, verdict

__all__ = ["NeighbourStrip", "NeighboursShown", "K_SHOWN"]

K_SHOWN = 4
_SPACE_LABELS = {"pixels": "pixels", "features": "features (a classifier's)"}


class NeighboursShown(NamedTuple):
    """What the strip shows: the sample it was asked about, the space, the nearest indices and distances
    (k,), d₁ / d₂ and whether that passes as a copy."""

    what: str
    space: str
    indices: np.ndarray
    distances: np.ndarray
    ratio: float
    copy: bool


class _IndexHolder:
    """The training set of one model, loaded on first use — on the render thread, the only one that
    touches it. The last one loaded is kept for the next model of the same run (successive snapshots)."""

    _last: tuple[tuple, TrainingIndex] | None = None

    def __init__(self, model: Any) -> None:
        self.model = model
        config = model.meta.get("config") if isinstance(getattr(model, "meta", None), dict) else None
        self.key = tuple(str(config.get(k)) for k in ("data", "size", "channels", "seed")) \
            if isinstance(config, dict) else None

    def get(self) -> TrainingIndex:
        last = _IndexHolder._last
        if last is not None and self.key and last[0] == self.key:
            return last[1]
        index = training_index(self.model)  # ValueError: a checkpoint that does not say its data
        _IndexHolder._last = (self.key, index)
        return index


class NeighbourStrip(QWidget):
    """The k nearest training images of one sample, their distances and the copy / new verdict."""

    def __init__(self, k: int = K_SHOWN, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._k = k
        self._render = RenderController(self, first=("neighbours",), torch_threads=1)
        self._render.rendered.connect(self._on_found)
        self._render.failed.connect(self._on_failed)
        self._holder: _IndexHolder | None = None
        self._sample: tuple[np.ndarray, str] | None = None
        self.shown: NeighboursShown | None = None
        self._verdict = QLabel("")
        self._verdict.setStyleSheet("font-weight: bold;")
        self._about = ElidedLabel("", min_chars=10)  # elided, not wrapped: never widens nor heightens its view
        self._about.setStyleSheet("color: #a0a0a0;")
        self.space = QComboBox()
        for space in SPACES:
            self.space.addItem(_SPACE_LABELS[space], space)
        self.space.setToolTip("Compare in pixels, or in a classifier's features: the digits classifier's for gray "
                              "images (the same digit drawn the same way is near), the faces attribute "
                              "classifier's for colour ones (the same hair, smile and skin is near)")
        self.space.currentIndexChanged.connect(self._request)
        tip = (f"Carlini et al. (2023): a sample is a copy when its nearest training image is nearer than "
               f"{COPY_RATIO:.2f}× the distance to the second nearest (d₁/d₂ < {COPY_RATIO:.2f}). "
               "Under each image: its index in the training set and its distance")
        for w in (self._verdict, self._about):
            w.setToolTip(tip)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self._verdict)
        head.addWidget(self._about, 1)
        head.addWidget(self.space)
        images = QHBoxLayout()
        images.setContentsMargins(0, 0, 0, 0)
        self.views = [SampleView() for _ in range(k)]
        for v in self.views:
            v.setMinimumSize(48, 64)  # a caption line and a picture of at least ~44 px
            images.addWidget(v, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(head)
        column.addLayout(images, 1)
        self.setMaximumHeight(120)
        self.set_model(None)

    # ------------------------------------------------------------------ requests
    def set_model(self, model: Any) -> None:
        """Search ``model``'s training images (None, or a 2-D model: the strip hides)."""
        self._render.cancel()
        self._holder = None if model is None or getattr(model, "is_points", False) else _IndexHolder(model)
        self._sample, self.shown = None, None
        featured = model is not None and not getattr(model, "is_points", False) and model.sample_shape[0] in (1, 3)
        self.space.model().item(SPACES.index("features")).setEnabled(featured)
        if not featured and self.space.currentData() != "pixels":
            self.space.blockSignals(True)
            self.space.setCurrentIndex(0)
            self.space.blockSignals(False)
        self._clear("")
        self.setVisible(self._holder is not None)

    def show_sample(self, sample: np.ndarray, what: str = "the sample") -> None:
        """Find the nearest training images of ``sample`` (C, H, W) in [−1, 1] off the GUI thread."""
        if self._holder is None:
            return
        self._sample = (np.clip(np.asarray(sample, np.float32), -1, 1).copy(), what)
        self._request()

    @Slot()
    def _request(self) -> None:
        if self._holder is None or self._sample is None:
            return
        holder, (x, what), space, k = self._holder, self._sample, self.space.currentData(), self._k

        def job(_progress):
            index = holder.get()
            nb = index.nearest(x[None], k=min(k, len(index)), space=space)
            found = index.images[nb.indices[0]].numpy().copy()  # (k, C, H, W)
            return (NeighboursShown(what, space, nb.indices[0].copy(), nb.distances[0].copy(),
                                    float(nb.ratios[0]), bool(nb.copies[0])), found, index.name)

        self._render.submit("neighbours", job)

    # ------------------------------------------------------------------ answers
    @Slot(str, int, object)
    def _on_found(self, _kind: str, _seq: int, result: object) -> None:
        shown, images, name = result
        self.shown = shown
        self._verdict.setText(("COPY " if shown.copy else "NEW ") + verdict(shown.ratio).split(" ", 1)[1])
        self._verdict.setStyleSheet(f"font-weight: bold; color: {'#ff7070' if shown.copy else '#7bd88f'};")
        self._about.setText(f"{shown.what}: nearest of {name}")
        self._about.setToolTip(self._about.text())
        for v, image, i, d in zip(self.views, images, shown.indices, shown.distances):
            v.set_images(image[None], f"#{i}  d {d:.1f}")

    @Slot(str, int, str)
    def _on_failed(self, _kind: str, _seq: int, message: str) -> None:
        self._clear(f"no nearest training images: {message.split(': ', 1)[-1]}")

    def _clear(self, text: str) -> None:
        self.shown = None
        self._verdict.setText("")
        self._about.setText(text)
        for v in self.views:
            v.clear()

    # ------------------------------------------------------------------ queries and lifetime
    def text(self) -> str:
        """The verdict and the line under it."""
        return f"{self._verdict.text()} — {self._about.text()}"

    def idle(self) -> bool:
        return self._render.idle()

    def shutdown(self) -> None:
        self._render.shutdown()
