"""The diffusion timestep scrubber: the forward and the reverse process, side by side in one tab.

:class:`ScrubberView` is what the main window adds as the "Scrubber" tab. It holds a
:class:`~genstudio.gui.widgets.forward_view.ForwardView` (noise an image along t, see the model's
ε̂, x̂_0 and its error over t) and a :class:`~genstudio.gui.widgets.reverse_view.ReverseView`
(sample with a recorded trajectory, scrub it, branch, export). The main window hands it a model
with :meth:`ScrubberView.set_model` (a checkpoint opened, or a snapshot of the model being
trained, which the "Use model being trained" button asks for through ``snapshotRequested``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from genstudio.families import FAMILIES
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.forward_view import ForwardView
from genstudio.gui.widgets.guidance_sweep import GuidanceSweepView
from genstudio.gui.widgets.prompt_walk import PromptWalkView
from genstudio.gui.widgets.reverse_view import ReverseView
from genstudio.latent_images import is_latent_model

__all__ = ["ScrubberView"]


class ScrubberView(QWidget):
    """Forward and reverse diffusion, scrubbed over t.

    Parameters
    ----------
    parent : QWidget, optional

    Signals
    -------
    snapshotRequested()
        The person wants the model being trained; answer with :meth:`set_model`.

    Attributes
    ----------
    forward : ForwardView
    reverse : ReverseView
    sweep : GuidanceSweepView
        The guidance sweep of the reverse view's prompt (its tab shows for a text-to-image model only).
    walk : PromptWalkView
        The walk from the reverse view's prompt to another (its tab shows for a text-to-image model only).
    tabs : QTabWidget
        "Forward process" (index 0), "Reverse process" (index 1), "Guidance sweep" (index 2) and
        "Prompt walk" (index 3).
    """

    snapshotRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = None
        self._closed = False
        self._what = ElidedLabel(min_chars=20)  # elided labels: the top row never widens the tab
        self._what.setStyleSheet("color: #c8c8c8;")
        self.use_trained = QPushButton("Use model being trained")
        self.use_trained.setToolTip("Take a snapshot of the diffusion model now in training")
        self.use_trained.clicked.connect(self.snapshotRequested)
        self._status = ElidedLabel("", min_chars=20)
        self._status.setStyleSheet("color: #e6c84f;")
        self.forward = ForwardView()
        self.reverse = ReverseView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.forward, "Forward process (noising)")
        self.tabs.addTab(self.reverse, "Reverse process (sampling)")
        self.sweep = GuidanceSweepView(self.reverse.state)  # a tab for a text-to-image model only
        self.tabs.addTab(self.sweep, "Guidance sweep")
        self.sweep.message.connect(self._status.setText)
        self.walk = PromptWalkView(self.reverse.state)  # a tab for a text-to-image model only
        self.tabs.addTab(self.walk, "Prompt walk")
        self.walk.message.connect(self._status.setText)
        self.reverse.prompt.walkRequested.connect(self._show_walk)
        self.forward.message.connect(self._status.setText)
        self.reverse.message.connect(self._status.setText)
        self.reverse.imageChosen.connect(self._noise_sample)
        top = QHBoxLayout()
        top.addWidget(self._what, 1)
        top.addWidget(self._status, 1)
        top.addWidget(self.use_trained)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.set_model(None)

    # ------------------------------------------------------------------ public API
    def set_model(self, model) -> None:
        """Scrub ``model`` (a :class:`~genstudio.diffusion.model.DiffusionModel`), or nothing (None).

        A model of a family whose view is not the scrubber (a GAN) is refused with a note; a
        text-to-image model is a diffusion model with a prompt (the reverse view shows its text fields).
        """
        if model is not None and (family := FAMILIES.get(getattr(model, "kind", "diffusion"))) is not None and family.view != "scrubber":
            self._status.setText(f"the scrubber shows diffusion models; this is a {family.label}")
            return
        self._model = model
        self._what.setText(model.describe() if model is not None and hasattr(model, "describe")
                           else ("a diffusion model" if model is not None
                                 else "no model: the forward process with a schedule of your choice"))
        self._status.setText("")
        latent = is_latent_model(model)  # its states are latents: the forward view noises pictures, not them
        self.forward.set_model(None if latent else model)
        if self.sweep.is_busy():
            self.sweep.cancel()
        if self.walk.is_busy():
            self.walk.cancel()
        self.reverse.set_model(model)
        for tab in (self.sweep, self.walk):
            self.tabs.setTabVisible(self.tabs.indexOf(tab), self.reverse.state.takes_text()
                                    and not (latent and tab is self.walk))  # walks: GenStudio's own models
        self.reverse.prompt.walk.setVisible(not latent)
        if latent:
            self.tabs.setCurrentWidget(self.reverse)

    def model(self):
        return self._model

    def set_image(self, image: np.ndarray, source: str = "image") -> None:
        """Noise ``image`` (C, H, W) in [−1, 1] in the forward view (and show that tab)."""
        self.forward.set_image(image, source)
        self.tabs.setCurrentWidget(self.forward)

    def status(self) -> str:
        """The last note shown to the person."""
        return self._status.text()

    @Slot()
    def shutdown(self) -> None:
        """Stop sampling and the background threads, and wait for them."""
        if self._closed:
            return
        self._closed = True
        self.forward.shutdown()
        self.reverse.shutdown()
        self.sweep.shutdown()
        self.walk.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _show_walk(self) -> None:
        self.tabs.setCurrentWidget(self.walk)
        self.walk.to.setFocus()

    @Slot(object)
    def _noise_sample(self, image: object) -> None:
        self.set_image(np.asarray(image), f"sample #{self.reverse.state.selected}")
