"""Guards the pinned Qt binding: a Signal.emit() must not leak or drop Python references.

PySide6 6.12.0 on Python 3.11 dropped a reference to ``True`` on every emit, so a live training
monitor aborted the interpreter after some thousands of redraws ("bool_dealloc").
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(int)


def test_emitting_signals_keeps_refcounts_of_builtins(qtbot):
    obj = _Emitter()
    got = []
    obj.fired.connect(got.append)
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for i in range(2000):
        obj.fired.emit(i)
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    assert len(got) == 2000
    assert [a - b for a, b in zip(after, before)] == [0, 0, 0]
