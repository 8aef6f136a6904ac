"""Garbage collection on the GUI thread only.

Python runs a collection in whichever thread allocates past its threshold. When that is a worker
thread and the garbage holds Qt objects made on the GUI thread (a dropped window or dialog caught
in a reference cycle), their C++ destructors run on the worker, take Qt's internal locks and then
wait for the interpreter lock, while the GUI thread holds the interpreter lock and waits for those
Qt locks: a deadlock. (Caught in the test suite: a window waiting for its run to stop, the run's
thread inside a collection started by a checkpoint save.) So the app turns automatic collection
off and collects from a GUI-thread timer with Python's own thresholds instead (the recipe of
pyqtgraph's ``GarbageCollector``).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QTimer

__all__ = ["collect_on_gui_thread", "CHECK_MS"]

#: How often the GUI thread checks whether a collection is due.
CHECK_MS = 250

_timer: QTimer | None = None


def collect_on_gui_thread() -> None:
    """Turn automatic collection off and collect from a timer instead; call on the GUI thread (once is enough)."""
    global _timer
    if _timer is not None:
        return
    thresholds = gc.get_threshold()
    gc.disable()
    _timer = QTimer()
    _timer.setInterval(CHECK_MS)
    _timer.timeout.connect(lambda: _collect_if_due(thresholds))
    _timer.start()


def _collect_if_due(thresholds: tuple[int, int, int]) -> None:
    young, middle, old = gc.get_count()
    if young <= thresholds[0]:
        return
    if middle <= thresholds[1]:
        gc.collect(0)
    elif old <= thresholds[2]:
        gc.collect(1)
    else:
        gc.collect(2)
