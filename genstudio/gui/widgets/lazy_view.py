"""A tab page that builds its view the first time the view is needed.

The Latent and Scrubber views hold eleven pyqtgraph plots between them; building them, and
giving them their bundled models, was about a third of a second of the app's start-up while the
window opens on the Monitor (benchmarks/b8_startup.py). A :class:`LazyView` stands in their tab
and builds the view when the tab is first shown, or when code first asks for it (a checkpoint
opened, a snapshot routed, a test).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

__all__ = ["LazyView"]


class LazyView(QWidget):
    """Holds ``factory()``'s view once built; :meth:`view` builds it on first call.

    Parameters
    ----------
    factory : callable () -> QWidget
        Builds the view (called at most once).
    """

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._view: QWidget | None = None
        self._on_built: list[Callable[[QWidget], None]] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def view(self) -> QWidget:
        """The view, built now if it was not yet (then the :meth:`when_built` callbacks run)."""
        if self._view is None:
            self._view = self._factory()
            self._layout.addWidget(self._view)
            callbacks, self._on_built = self._on_built, []
            for callback in callbacks:
                callback(self._view)
        return self._view

    def is_built(self) -> bool:
        """Whether the view exists yet."""
        return self._view is not None

    def when_built(self, callback: Callable[[QWidget], None]) -> None:
        """Call ``callback(view)`` once the view exists: now if it does, else right after it is built."""
        if self._view is not None:
            callback(self._view)
        else:
            self._on_built.append(callback)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        self.view()
        super().showEvent(event)
