"""Sends models to the views that can show them — the view each model family names in the registry
(:mod:`genstudio.families`: GANs to the latent explorer, diffusion models to the scrubber) — from a
checkpoint the person opened, a bundled model, or a snapshot of the run.

A view asks for a snapshot with its ``snapshotRequested`` signal; the router asks the
:class:`~genstudio.gui.controller.RunController`, remembers who asked, and turns the
``snapshotReady(tensors, meta)`` answer (CPU copies made between two steps) into a model.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QTabWidget, QWidget

from genstudio.checkpoint import CheckpointError
from genstudio.devices import resolve_device
from genstudio.families import get_family
from genstudio.gui.controller import RunController
from genstudio.loading import model_from_state

__all__ = ["ModelRouter", "VIEW_NAMES"]

#: What each of the family registry's view keys is called in a message.
VIEW_NAMES = {"latent": "the latent explorer", "scrubber": "the scrubber", "superres": "the super-resolution view",
              "autoencoder": "the autoencoder view"}


class ModelRouter(QObject):
    """Routes models between the controller and the ``latent`` and ``scrubber`` views.

    Parameters
    ----------
    latent, scrubber : callable () -> QWidget
        Return the two views (building them if need be).
    say : callable (str) -> None
        Shows a one-line note to the person (the status bar).
    """

    def __init__(self, controller: RunController, tabs: QTabWidget, latent: Callable[[], QWidget],
                 scrubber: Callable[[], QWidget], say: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.tabs = controller, tabs
        # the family registry's view keys -> getters (the views may be built on first use)
        self._views = {"latent": latent, "scrubber": scrubber}
        self._say = say
        self._asked: list[QWidget] = []
        controller.snapshotReady.connect(self._on_snapshot)

    def add_view(self, key: str, getter: Callable[[], QWidget]) -> None:
        """Route the models of the families whose view is ``key`` (a ``families.VIEWS`` entry) to ``getter()``."""
        self._views[key] = getter

    def attach(self, view: QWidget) -> None:
        """Take snapshot requests from ``view`` (once it exists)."""
        view.snapshotRequested.connect(lambda: self.request_snapshot(view))

    def view_for(self, model: Any) -> QWidget | None:
        """The view that shows ``model``: the one its family names (latent explorer, scrubber); None
        when the window has no such view."""
        getter = self._views.get(get_family(model.kind).view)
        return getter() if getter is not None else None

    def show_model(self, model: Any, *, focus: bool = True) -> QWidget | None:
        """Give ``model`` to its view (and bring that tab forward when ``focus``)."""
        view = self.view_for(model)
        if view is None:
            self._say(f"{get_family(model.kind).label} models have no view in the app yet: use "
                      "`genstudio upscale` and `genstudio score`.")
            return None
        view.set_model(model)
        if focus:
            self._focus(view)
        return view

    def request_snapshot(self, view: QWidget) -> bool:
        """Ask the run for a copy of its model, to be shown in ``view``; False without a run."""
        if not self.controller.request_snapshot():
            self._say("No run is training: start one (Run ▸ Start), then take a snapshot.")
            return False
        self._asked.append(view)
        self._say("Taking a snapshot of the model after the current step…")
        return True

    @Slot(object, object)
    def _on_snapshot(self, tensors: dict, meta: dict) -> None:
        views, self._asked = self._asked, []
        if not views:
            return
        step = meta.get("step", 0)
        try:
            model = model_from_state(tensors, meta, resolve_device("auto"), f"snapshot at step {step:,}")
        except CheckpointError as exc:
            self._say(f"The snapshot cannot be used: {exc}")
            return
        target = self.view_for(model)
        self.show_model(model)
        if target is None:
            return
        if target in views:
            self._say(f"Showing the model being trained, as of step {step:,}.")
        else:
            family = get_family(model.kind)
            self._say(f"This run trains a {family.noun} model: its snapshot at step {step:,} is in "
                      f"{VIEW_NAMES[family.view]}.")

    def _focus(self, view: QWidget) -> None:
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            if page is view or page.isAncestorOf(view):
                self.tabs.setCurrentIndex(i)
                return
