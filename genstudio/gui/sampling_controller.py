"""``SamplingController``: the one object that owns the scrubber's sampling thread.

A sampling job (draw N samples and record the trajectory, or branch from a recorded step) runs the
Qt-free generator :func:`genstudio.scrub.sampling_run` on a ``QThread``. The worker checks a cancel
flag between two sampler steps (every ``yield`` is a cancellation point, as in superqt's
``GeneratorWorker``), so Cancel ends the thread within one network call. The controller keeps
strong references to the thread and the worker, wires ``worker.done -> thread.quit`` and
``thread.finished -> deleteLater``, and never calls ``terminate()``.

Progress is coalesced: the worker emits at most ~30 progress signals a second (and always the last
step). While a job runs the worker also posts a *preview* of the newest step (numpy copies of its
x_t and x̂_0) at most ~10 times a second, the first one after the first step: a 1000-step DDPM
run shows its grid forming instead of nothing for a minute. When a job is cancelled its result signals are disconnected first (Orange's
``ConcurrentMixin``), so a stale result never reaches the view. Only numpy copies come back.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from genstudio.sampling import SampleSpec, SamplingProgress, SamplingResult, sampling_run

__all__ = ["SamplingController"]

_PROGRESS_INTERVAL_S = 1.0 / 30.0
_PREVIEW_INTERVAL_S = 0.1  # ≤ 10 previews a second: each is a copy of the whole batch


def _numpy(tensor: Any) -> np.ndarray:
    """A float32 numpy copy of a (CPU or GPU) tensor, made on the sampling thread."""
    return tensor.detach().float().cpu().numpy().copy()


class _SamplingWorker(QObject):
    """Lives on the sampling thread; runs one job, then emits ``done``."""

    progressed = Signal(int, int)  # done, total
    previewed = Signal(int, object, object)  # t, x_t, x̂_0: numpy copies (N, ...)
    resultReady = Signal(object)  # SamplingResult
    failed = Signal(str, str)  # message, details
    done = Signal()

    def __init__(self, model: Any, spec: SampleSpec, record: bool, start_x: np.ndarray | None,
                 start_index: int, cancel: threading.Event) -> None:
        super().__init__()
        self._model, self._spec, self._record = model, spec, record
        self._start_x, self._start_index, self._cancel = start_x, start_index, cancel

    @Slot()
    def run(self) -> None:
        last = last_preview = 0.0
        run = sampling_run(self._model, self._spec, record=self._record, start_x=self._start_x,
                           start_index=self._start_index)
        try:
            for event in run:
                if self._cancel.is_set():
                    break
                if isinstance(event, SamplingProgress):
                    now = time.monotonic()
                    if now - last >= _PROGRESS_INTERVAL_S or event.done == event.total:
                        last = now
                        self.progressed.emit(event.done, event.total)
                    if event.x_t is not None and event.done < event.total \
                            and now - last_preview >= _PREVIEW_INTERVAL_S:
                        last_preview = now  # the copies are made here, before the next step runs
                        self.previewed.emit(event.t, _numpy(event.x_t), _numpy(event.x0))
                elif isinstance(event, SamplingResult):
                    self.resultReady.emit(event)
        except Exception as exc:  # shown to the person; the thread still ends cleanly
            self.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        finally:
            run.close()
            self._model = None  # drop the model reference on this thread
            self.done.emit()


class SamplingController(QObject):
    """Runs one sampling job at a time on its own thread, with progress and Cancel.

    Signals
    -------
    progress(int, int)
        ``done, total`` sampler steps (at most ~30 per second).
    preview(str, int, object, object)
        ``job, t, x_t, x0``: the newest step's x_t and x̂_0 (numpy float32 copies, (N, ...)) while
        the job runs, at most ~10 per second; not after Cancel.
    finished(str, object)
        ``job, result``: the job's name ("sample", "branch", …) and its
        :class:`~genstudio.scrub.SamplingResult`. Not emitted for a cancelled job.
    failed(str, str, str)
        ``job, message, details`` when the job raised.
    cancelled(str)
        ``job``: Cancel was honoured (emitted when the thread has ended).
    busyChanged(bool)
        True from :meth:`start` until the thread has ended.
    """

    progress = Signal(int, int)
    preview = Signal(str, int, object, object)
    finished = Signal(str, object)
    failed = Signal(str, str, str)
    cancelled = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _SamplingWorker | None = None
        self._cancel = threading.Event()
        self._job = ""
        self._closed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # a safety net; owners call shutdown() first

    # ------------------------------------------------------------------ queries
    def is_busy(self) -> bool:
        """True while a job's thread exists."""
        return self._thread is not None

    def is_closed(self) -> bool:
        """True after :meth:`shutdown`: no new jobs."""
        return self._closed

    @property
    def job(self) -> str:
        """Name of the running (or last) job."""
        return self._job

    @property
    def thread(self) -> QThread | None:
        return self._thread

    # ------------------------------------------------------------------ commands
    def start(self, job: str, model: Any, spec: SampleSpec, *, record: bool = True,
              start_x: np.ndarray | None = None, start_index: int = 0) -> None:
        """Run ``sampling_run(model, spec, ...)`` on a new thread.

        ``model`` must not be trained by anyone meanwhile (a loaded checkpoint or a snapshot);
        ``start_x`` is copied. Raises RuntimeError while another job runs or after shutdown.
        """
        if self._closed:
            raise RuntimeError("the sampling controller has been shut down")
        if self._thread is not None:
            raise RuntimeError("a sampling job is already running")
        self._job = job
        self._cancel = threading.Event()
        sx = None if start_x is None else np.array(start_x, dtype=np.float32, copy=True)
        worker = _SamplingWorker(model, spec, record, sx, start_index, self._cancel)
        thread = QThread()
        thread.setObjectName(f"genstudio-sampling-{job}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progressed.connect(self._on_progress)
        worker.previewed.connect(self._on_preview)
        worker.resultReady.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        worker.done.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)  # first: drops our references
        thread.finished.connect(worker.deleteLater)
        self._thread, self._worker = thread, worker
        self.busyChanged.emit(True)
        thread.start(QThread.Priority.LowPriority)

    def cancel(self) -> None:
        """Ask the running job to stop between two steps; its result (if any) is dropped."""
        if self._thread is None or self._cancel.is_set():
            return
        self._cancel.set()
        worker = self._worker
        if worker is not None and shiboken6.isValid(worker):
            for signal, slot in ((worker.progressed, self._on_progress), (worker.previewed, self._on_preview),
                                 (worker.resultReady, self._on_result),
                                 (worker.failed, self._on_failed)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the thread has ended (for shutdown and tests); True if it has."""
        thread = self._thread
        if thread is None or not shiboken6.isValid(thread):
            return True
        return thread.wait(timeout_ms)

    @Slot()
    def shutdown(self) -> None:
        """Cancel any job, wait for its thread and refuse new ones."""
        if self._closed:
            return
        self._closed = True
        self.cancel()
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.quit()  # the worker's done -> quit may already be queued; both are harmless
            thread.wait()
            thread.deleteLater()
        self._thread = self._worker = None
        app = QCoreApplication.instance()
        if app is not None:
            try:
                app.aboutToQuit.disconnect(self.shutdown)
            except (RuntimeError, TypeError):
                pass

    # ------------------------------------------------------------------ worker signals (queued)
    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if not self._cancel.is_set():
            self.progress.emit(done, total)

    @Slot(int, object, object)
    def _on_preview(self, t: int, x_t: object, x0: object) -> None:
        if not self._cancel.is_set():
            self.preview.emit(self._job, t, x_t, x0)

    @Slot(object)
    def _on_result(self, result: object) -> None:
        if not self._cancel.is_set():
            self.finished.emit(self._job, result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        if not self._cancel.is_set():
            self.failed.emit(self._job, message, details)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._closed:
            return  # shutdown() has cleaned up already; the view may be closing
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.wait(5000)  # finished() is emitted just before run() returns; let it return
            thread.deleteLater()
        self._thread = self._worker = None
        if self._cancel.is_set():
            self.cancelled.emit(self._job)
        self.busyChanged.emit(False)
