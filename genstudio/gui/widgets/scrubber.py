"""The diffusion timestep scrubber: the forward and the reverse process, side by side in one tab.

:class:`ScrubberView` is what the main window adds as the "Scrubber" tab. It holds a
:class:`~genstudio.gui.widgets.forward_view.ForwardView` (noise an image along t, see the model's
ε̂, x̂_0 and its error over t) and a :class:`~genstudio.gui.widgets.reverse_view.ReverseView`
(sample with a recorded trajectory, scrub it, branch, export). The main window hands it a model
with :meth:`ScrubberView.set_model` (a checkpoint opened, or a snapshot of the model being
trained, which the "Use model being trained" button asks for through ``snapshotRequested``).

:func:`shot_scrubber` grabs the two documentation screenshots.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.forward_view import ForwardView
from genstudio.gui.widgets.reverse_view import ReverseView

__all__ = ["ScrubberView", "shot_scrubber"]


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
    tabs : QTabWidget
        "Forward process" (index 0) and "Reverse process" (index 1).
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

        A GAN model is refused with a note (this view is for diffusion models).
        """
        if model is not None and getattr(model, "kind", "diffusion") != "diffusion":
            self._status.setText("the scrubber shows diffusion models; this is a GAN")
            return
        self._model = model
        self._what.setText(model.describe() if model is not None and hasattr(model, "describe")
                           else ("a diffusion model" if model is not None
                                 else "no model: the forward process with a schedule of your choice"))
        self._status.setText("")
        self.forward.set_model(model)
        self.reverse.set_model(model)

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

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    @Slot(object)
    def _noise_sample(self, image: object) -> None:
        self.set_image(np.asarray(image), f"sample #{self.reverse.selected()}")


# ---------------------------------------------------------------------------- screenshots
def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    QCoreApplication.processEvents()
    return predicate()


def shot_scrubber(window_or_view: QWidget, out_dir: str | Path, *, t: int = 300, at: float = 1 / 3,
                  timeout_s: float = 300.0) -> list[Path]:
    """Save ``scrubber_forward.png`` (t ≈ ``t``) and, with a model, ``scrubber_reverse.png``.

    ``window_or_view`` is a :class:`ScrubberView` or a window holding one (e.g. the main window,
    after ``add_view("Scrubber", view)`` and ``view.set_model(model)``). The reverse shot samples
    DDIM 50 (η = 0) unless a recording is already there, and shows the step ``at`` of the way
    in (a third by default). Returns the paths written.
    """
    view = window_or_view if isinstance(window_or_view, ScrubberView) else window_or_view.findChild(ScrubberView)
    if view is None:
        raise ValueError("no ScrubberView in this window")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grab = window_or_view
    show_view = getattr(window_or_view, "show_view", None)
    if callable(show_view):
        show_view("Scrubber")  # the main window's tab
    view.tabs.setCurrentWidget(view.forward)
    _wait(lambda: view.forward.process() is not None, timeout_s)
    view.forward.set_timestep(t)
    _wait(view.forward.predictions_idle, timeout_s)
    paths = [out / "scrubber_forward.png"]
    grab.grab().save(str(paths[0]))
    if view.model() is not None:
        view.tabs.setCurrentWidget(view.reverse)
        if view.reverse.result() is None:
            from genstudio.sampling import SampleSpec

            n = 1000 if view.model().is_points else 16
            view.reverse.sample(SampleSpec(n, 0, "ddim", steps=50))
            _wait(lambda: not view.reverse.is_busy(), timeout_s)
        traj = view.reverse.trajectory()
        if traj is not None:
            view.reverse.bar.set_timestep(int(traj.timesteps[int(len(traj) * at)]))
            _wait(view.reverse.idle, timeout_s)
        paths.append(out / "scrubber_reverse.png")
        grab.grab().save(str(paths[-1]))
    return paths
