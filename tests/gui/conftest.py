"""GUI fixtures: main windows with private settings, no modal dialogs, and cleanup that proves
the training thread ended (QThreads are not Python threads, so the shared fixture cannot see them)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QSettings  # noqa: E402

from genstudio.gui.gui_gc import collect_on_gui_thread  # noqa: E402
from genstudio.gui.main_window import MainWindow  # noqa: E402
from genstudio.gui.settings import AppSettings  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def gc_on_the_gui_thread(qapp):
    """What the app's start-up does (``app.make_application``): garbage collection on the GUI thread
    only, so a worker thread never runs the destructors of Qt objects in the garbage."""
    collect_on_gui_thread()


@pytest.fixture(autouse=True)
def runs_on_a_thread(monkeypatch):
    """GUI tests train on the worker thread (``RunController.mode`` "thread"), so a test may patch
    the run in this process (a trainer, a family registered for the test); the tests of the training
    process (``test_run_process.py``) set ``controller.mode = "process"`` themselves."""
    from genstudio.gui.controller import RunController

    monkeypatch.setattr(RunController, "default_mode", "thread")


@pytest.fixture(autouse=True)
def widgets_deleted_at_teardown(qtbot, monkeypatch):
    """Hold every widget given to ``qtbot.addWidget`` (which keeps only a weak reference) until the
    test ends, then delete its C++ side at once. Left to the garbage collector, a view caught in a
    reference cycle lost its pyqtgraph items' attributes while Qt still asked them for their size
    hints, which raised inside the event loop of whichever later test the collection fell in."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from pytestqt.qtbot import QtBot
    import shiboken6

    held = []
    add = QtBot.addWidget

    def add_widget(self, widget, *args, **kwargs):
        held.append(widget)
        return add(self, widget, *args, **kwargs)

    monkeypatch.setattr(QtBot, "addWidget", add_widget)
    yield
    for widget in held:
        if shiboken6.isValid(widget):
            widget.close()
            widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    held.clear()


@pytest.fixture
def reverse_scrubber(qtbot):
    """A shown ScrubberView on its Reverse tab; shut down (and its sampling thread ended) after the test."""
    from genstudio.gui.widgets.scrubber import ScrubberView

    v = ScrubberView()
    qtbot.addWidget(v)
    v.resize(1200, 850)
    v.show()
    v.tabs.setCurrentWidget(v.reverse)
    yield v
    v.shutdown()
    assert not v.reverse.sampler.is_busy()


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build MainWindows with test settings, no dialogs, and clean them up afterwards.

    Errors that would be dialogs are collected in ``window.errors`` as ``(title, message)``; a
    recovery dialog fails the test unless the test replaces ``window.ask_recovery``.
    """
    windows: list[MainWindow] = []

    def make(settings_name: str = "settings.ini") -> MainWindow:
        settings = AppSettings(QSettings(str(tmp_path / settings_name), QSettings.Format.IniFormat))
        w = MainWindow(settings)
        qtbot.addWidget(w)
        w.errors, w.halts = [], []
        w.confirm_close = lambda: True
        w.show_error = lambda title, message, details="": w.errors.append((title, message))
        w.show_diverged = lambda step, message: w.errors.append(("diverged", message))
        w.ask_recovery = lambda *args: pytest.fail(f"unexpected recovery dialog {args}")
        w.ask_resume_mismatch = lambda *args: pytest.fail(f"unexpected resume-mismatch dialog {args}")
        w.panel.set_runs_parent(tmp_path)
        windows.append(w)
        return w

    yield make
    for w in windows:
        if w.controller.is_running():
            w.controller.stop()
            assert w.controller.wait_finished(20), "training thread did not stop"
        assert w.controller.thread is None, "training thread still held"
        w.close()
