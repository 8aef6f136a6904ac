"""``CheckpointLoader``: opens checkpoints the person picks on a thread, so the window never waits.

A file the person chose can be anything: a hostile header is refused in milliseconds, but reading
and checking a real checkpoint's weights and building its network takes time too. The loader runs
:func:`genstudio.checkpoint.read_header` (the cheap checks: a bad file stops here) and then
:func:`genstudio.loading.load_model` on a ``QThread``, checking a cancel flag between the two. A
busy dialog with Cancel appears if a load takes longer than :data:`SHOW_AFTER_MS`.

Latest wins: opening another file while one loads cancels the first (its result signals are
disconnected, as in Orange's ``ConcurrentMixin``, so a stale model never reaches a view) and starts
the new one when the old thread has ended. One controller owns the thread; ``finished -> quit ->
deleteLater``; never ``terminate()``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from genstudio.safe_text import safe_text

__all__ = ["CheckpointLoader"]

SHOW_AFTER_MS = 400  # a load shorter than this never flashes a dialog


class _LoadWorker(QObject):
    """Lives on the loading thread; loads one file, then emits ``done``."""

    loaded = Signal(str, object)  # path, model
    failed = Signal(str, str)  # path, one-line message
    done = Signal()

    def __init__(self, path: str, cancel: threading.Event) -> None:
        super().__init__()
        self._path, self._cancel = path, cancel

    @Slot()
    def run(self) -> None:
        from genstudio.checkpoint import CheckpointError, read_header
        from genstudio.loading import load_model

        try:
            read_header(self._path)  # header, shapes, sample description: no weight is read
            if not self._cancel.is_set():
                model = load_model(self._path, "auto")
                if not self._cancel.is_set():
                    self.loaded.emit(self._path, model)
        except (CheckpointError, OSError, ValueError) as exc:
            self.failed.emit(self._path, safe_text(str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bug: still a dialog, and the thread ends cleanly
            self.failed.emit(self._path, safe_text(f"{type(exc).__name__}: {exc}"))
        finally:
            self.done.emit()


class CheckpointLoader(QObject):
    """Loads one checkpoint at a time off the GUI thread; the newest request wins.

    Signals
    -------
    loaded(str, object)
        ``path, model`` of a load that finished and was not superseded or cancelled.
    failed(str, str)
        ``path, message``: why the file cannot be opened, one line, safe to show.
    busyChanged(bool)
        True from :meth:`load` until no load is running or queued.
    """

    loaded = Signal(str, object)
    failed = Signal(str, str)
    busyChanged = Signal(bool)

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__(parent_widget)
        self._thread: QThread | None = None
        self._worker: _LoadWorker | None = None
        self._cancel = threading.Event()
        self._queued: str | None = None
        self._closed = False
        self._dialog = QProgressDialog("", "Cancel", 0, 0, parent_widget)  # range 0..0: busy
        self._dialog.setWindowTitle("Opening checkpoint")
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(SHOW_AFTER_MS)
        self._dialog.setAutoReset(False)
        self._dialog.canceled.connect(self.cancel)
        self._dialog.reset()  # hidden until a load runs long

    def is_busy(self) -> bool:
        """True while a load runs or waits for the previous one to end."""
        return self._thread is not None

    def load(self, path: str | Path) -> None:
        """Open ``path`` on the loading thread; a load already running is cancelled first."""
        if self._closed:
            return
        path = str(path)
        self._dialog.setLabelText(f"Opening {safe_text(Path(path).name, 80)}…")
        if self._thread is not None:  # latest wins: drop the running load, start this one after it
            self._drop_running()
            self._queued = path
            return
        self.busyChanged.emit(True)
        self._start(path)

    @Slot()
    def cancel(self) -> None:
        """Drop the running (and any queued) load; nothing it produces reaches the views."""
        self._queued = None
        if self._thread is not None:
            self._drop_running()
        self._dialog.reset()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the thread has ended (for shutdown and tests); True if it has."""
        thread = self._thread
        return thread is None or not shiboken6.isValid(thread) or thread.wait(timeout_ms)

    def shutdown(self) -> None:
        """Cancel, wait for the thread and refuse new loads (the window is closing)."""
        self._closed = True
        self.cancel()
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.quit()
            thread.wait()
            thread.deleteLater()
        self._thread = self._worker = None

    # ------------------------------------------------------------------ internals
    def _start(self, path: str) -> None:
        self._cancel = threading.Event()
        worker = _LoadWorker(path, self._cancel)
        thread = QThread()
        thread.setObjectName("genstudio-open-checkpoint")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.loaded.connect(self._on_loaded)
        worker.failed.connect(self._on_failed)
        worker.done.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        thread.finished.connect(worker.deleteLater)
        self._thread, self._worker = thread, worker
        self._dialog.setValue(0)  # starts the dialog's "show after SHOW_AFTER_MS" timer
        thread.start()

    def _drop_running(self) -> None:
        self._cancel.set()
        worker = self._worker
        if worker is not None and shiboken6.isValid(worker):
            for signal, slot in ((worker.loaded, self._on_loaded), (worker.failed, self._on_failed)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass

    @Slot(str, object)
    def _on_loaded(self, path: str, model: Any) -> None:
        if not self._cancel.is_set():
            self._dialog.reset()
            self.loaded.emit(path, model)

    @Slot(str, str)
    def _on_failed(self, path: str, message: str) -> None:
        if not self._cancel.is_set():
            self._dialog.reset()
            self.failed.emit(path, message)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._closed:
            return
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.wait(5000)  # finished() comes just before run() returns; let it return
            thread.deleteLater()
        self._thread = self._worker = None
        queued, self._queued = self._queued, None
        if queued is not None:
            self._start(queued)
        else:
            self.busyChanged.emit(False)
