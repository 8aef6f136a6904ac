"""A thread-safe hand-off point between a training worker and the GUI timer.

The worker posts as fast as it trains; the GUI drains at ~30 Hz and draws once per drain.
Metrics accumulate (every step is plotted), a preview is replaced by a newer one (only the
newest picture is worth drawing) and status updates (:class:`~genstudio.gui.status_update.RunStatusUpdate`)
merge (newest value per field wins).
Nothing here imports Qt, so a test can drive it from plain threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from genstudio.gui.status_update import RunStatusUpdate

__all__ = ["Drained", "Mailbox"]


@dataclass(frozen=True)
class Drained:
    """Everything that was pending at one :meth:`Mailbox.drain`.

    Attributes
    ----------
    metrics : list of (int, dict)
        ``(step, {name: value})`` in the order they were posted.
    preview : (int, Any) or None
        The newest ``(step, payload)`` preview, if one was posted since the last drain.
    status : RunStatusUpdate
        The status updates posted since the last drain, merged: newest value per field.
    """

    metrics: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    preview: tuple[int, Any] | None = None
    status: RunStatusUpdate = RunStatusUpdate()

    def __bool__(self) -> bool:
        return bool(self.metrics) or self.preview is not None or bool(self.status)


class Mailbox:
    """Pending metrics, the newest preview and merged status, guarded by one lock.

    Any thread may post; one consumer drains. Posting never blocks for longer than a list
    append or a dict update, and no new container is made while the lock is held (making one can
    start a garbage collection, which runs arbitrary finalizers). The drain never waits at all:
    the GUI thread must not hang on a worker, so a drain that finds the lock taken returns nothing
    and the next one (a tick later) takes it all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metrics: list[tuple[int, dict[str, float]]] = []
        self._preview: tuple[int, Any] | None = None
        self._status: list[RunStatusUpdate] = []

    def post_metrics(self, step: int, metrics: dict[str, float]) -> None:
        """Queue one step's metrics (the dict is copied)."""
        item = (int(step), dict(metrics))
        with self._lock:
            self._metrics.append(item)  # a list resize allocates no tracked object

    def post_preview(self, step: int, payload: Any) -> None:
        """Offer a preview; it replaces any preview not yet drained."""
        item = (int(step), payload)
        with self._lock:
            item, self._preview = self._preview, item  # the replaced one is freed outside the lock

    def post_status(self, update: RunStatusUpdate) -> None:
        """Add a status update; a field posted again replaces its pending value at the drain."""
        with self._lock:
            self._status.append(update)  # merged by the drain, on the consumer's thread

    def drain(self) -> Drained:
        """Atomically take everything pending, leaving the mailbox empty; never waits for a poster.

        Returns
        -------
        Drained
            Falsy when nothing was pending, or when a poster held the lock at that instant (what
            it posts is taken by the next drain).
        """
        fresh_metrics: list[tuple[int, dict[str, float]]] = []
        fresh_status: list[RunStatusUpdate] = []
        if not self._lock.acquire(blocking=False):
            return Drained()
        try:
            metrics, self._metrics = self._metrics, fresh_metrics
            preview, self._preview = self._preview, None
            status, self._status = self._status, fresh_status
        finally:
            self._lock.release()
        return Drained(metrics=metrics, preview=preview, status=RunStatusUpdate.merge_all(status))
