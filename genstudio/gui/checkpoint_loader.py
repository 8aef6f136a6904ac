"""``CheckpointLoader``: opens checkpoints the person picks on a thread, so the window never waits.

A file the person chose can be anything: a hostile header is refused in milliseconds, but reading
and checking a real checkpoint's weights and building its network takes time too. The loader runs
:func:`genstudio.checkpoint.read_header` (the cheap checks: a bad file stops here) and then
:func:`genstudio.loading.load_model` as :func:`load_job`, a generator run by a
:class:`~genstudio.gui.generator_worker.GeneratorWorker` (a ``yield`` between the two is the
cancellation point). A busy dialog with Cancel appears if a load takes longer than
:data:`SHOW_AFTER_MS`.

Latest wins: opening another file while one loads cancels the first (the worker drops what a
cancelled job sends, as Orange's ``ConcurrentMixin`` does, so a stale model never reaches a view)
and starts the new one when the old thread has ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.safe_text import safe_text

__all__ = ["CheckpointLoader", "load_job"]

SHOW_AFTER_MS = 400  # a load shorter than this never flashes a dialog


@dataclass(frozen=True)
class _Loaded:
    path: str
    model: Any


def load_job(path: str) -> Iterator[_Loaded | None]:
    """Check ``path``'s header, then (unless cancelled meanwhile) load its model (on the loading thread)."""
    from genstudio.checkpoint import read_header
    from genstudio.loading import load_model

    if not Path(path).is_dir():  # a folder is a diffusers model: load_model checks its files
        read_header(path)  # header, shapes, sample description: no weight is read
    yield None  # a cancellation point before the weights are read
    yield _Loaded(path, load_model(path, "auto"))


class CheckpointLoader(WorkerHost):
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
        super().__init__(parent_widget, quit_with_app=False)  # the window shuts it down on close
        self._path = ""
        self._queued: str | None = None
        self._dialog = QProgressDialog("", "Cancel", 0, 0, parent_widget)  # range 0..0: busy
        self._dialog.setWindowTitle("Opening checkpoint")
        self._dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self._dialog.setMinimumDuration(SHOW_AFTER_MS)
        self._dialog.setAutoReset(False)
        self._dialog.canceled.connect(self.cancel)
        self._dialog.reset()  # hidden until a load runs long

    def load(self, path: str | Path) -> None:
        """Open ``path`` on the loading thread; a load already running is cancelled first."""
        if self._closed:
            return
        path = str(path)
        self._dialog.setLabelText(f"Opening {safe_text(Path(path).name, 80)}…")
        if self._worker is not None:  # latest wins: drop the running load, start this one after it
            self._worker.quit()
            self._queued = path
            return
        self.busyChanged.emit(True)
        self._start(path)

    @Slot()
    def cancel(self) -> None:
        """Drop the running (and any queued) load; nothing it produces reaches the views."""
        self._queued = None
        if self._worker is not None:
            self._worker.quit()
        self._dialog.reset()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the thread has ended (for shutdown and tests); True if it has."""
        return self._worker is None or self._worker.wait(timeout_ms)

    # ------------------------------------------------------------------ internals
    def _start(self, path: str) -> None:
        self._path = path
        self._dialog.setValue(0)  # starts the dialog's "show after SHOW_AFTER_MS" timer
        self._run_job("genstudio-open-checkpoint", QThread.Priority.InheritPriority, load_job, path)

    def _before_shutdown(self) -> None:
        self.cancel()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, _Loaded):
            self._dialog.reset()
            self.loaded.emit(event.path, event.model)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        from genstudio.checkpoint import CheckpointError

        exc = error.error
        known = isinstance(exc, (CheckpointError, OSError, ValueError))  # else a bug: still a dialog
        self._dialog.reset()
        self.failed.emit(self._path, safe_text(str(exc) if known else f"{type(exc).__name__}: {exc}"))

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        queued, self._queued = self._queued, None
        if queued is not None:
            self._start(queued)
        else:
            self.busyChanged.emit(False)
