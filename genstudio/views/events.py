"""The one event mechanism of the view state: a list of callbacks, called in order with what changed.

napari's ``EventEmitter`` in a dozen lines: a state object owns ``changed = Event()`` and calls
``changed.emit("z")``; a widget does ``state.changed.connect(self._on_state)`` and redraws what the
name says. Callbacks run at once, on the emitting thread (the GUI thread: only widgets edit state).
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["Event"]


class Event:
    """Callbacks called with the emitted arguments, in the order they were connected."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every :meth:`emit`; returns it (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (no error if it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):  # a callback may disconnect itself
            callback(*args)
