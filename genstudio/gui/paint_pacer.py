"""Spread the redraws of several plots over several window paints.

Qt paints every widget changed since the last paint in one go. When the loss plots, the D-output
plot and the 2-D preview all take new data in the same event-loop turn, the window's next paint
draws all of them: ~15-25 ms in which it answers no click (and more when an axis re-lays out).
:class:`PaintPacer` runs such redraws one at a time, ``gap_ms`` apart, so that each paint holds
one plot and the event loop gets a turn in between (benchmarks/b4_event_loop.py, soak_app.py).
"""

from __future__ import annotations

import time
from typing import Callable, Hashable

from PySide6.QtCore import QObject, QTimer, Slot

__all__ = ["PaintPacer", "PAINT_GAP_MS"]

#: Time left after a redraw for Qt to paint it and serve input before the next redraw runs.
PAINT_GAP_MS = 10


class PaintPacer(QObject):
    """Runs redraw jobs at most one per ``gap_ms``, oldest first; a job runs at once when none ran lately.

    A job requested again under the same key while it waits is replaced (its newer data win) and
    keeps its place in the queue.
    """

    def __init__(self, parent: QObject | None = None, gap_ms: int = PAINT_GAP_MS) -> None:
        super().__init__(parent)
        self._gap = gap_ms / 1e3
        self._jobs: dict[Hashable, Callable[[], None]] = {}  # insertion order = run order
        self._last = float("-inf")  # time.monotonic() of the last job run
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run_next)

    def request(self, key: Hashable, job: Callable[[], None]) -> None:
        """Run ``job`` now if nothing ran in the last gap and nothing waits; else queue it."""
        if key in self._jobs:
            self._jobs[key] = job
            return
        wait = self._gap - (time.monotonic() - self._last)
        if not self._jobs and wait <= 0:
            self._run(job)
            return
        self._jobs[key] = job
        if not self._timer.isActive():
            self._timer.start(max(0, int(wait * 1e3 + 0.999)))

    def pending(self) -> int:
        """How many jobs wait."""
        return len(self._jobs)

    def flush(self) -> None:
        """Run every waiting job now (oldest first)."""
        self._timer.stop()
        while self._jobs:
            self._run(self._jobs.pop(next(iter(self._jobs))))

    def clear(self) -> None:
        """Drop every waiting job."""
        self._timer.stop()
        self._jobs.clear()

    @Slot()
    def _run_next(self) -> None:
        if self._jobs:
            self._run(self._jobs.pop(next(iter(self._jobs))))
        if self._jobs:
            self._timer.start(int(self._gap * 1e3))

    def _run(self, job: Callable[[], None]) -> None:
        self._last = time.monotonic()  # a job requested by this one waits its turn, not runs inside it
        job()
        self._last = time.monotonic()
