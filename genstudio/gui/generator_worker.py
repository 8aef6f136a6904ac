"""``GeneratorWorker``: runs one generator on a ``QThread`` it owns (superqt's ``thread_worker`` shape).

Training, scrubber sampling and latent rendering are all long work written as generators (see
``../shared/STYLE.md``). This is the one piece of Qt that runs them: ``start(fn, *args)`` calls
``fn(*args)`` on a new thread and iterates the generator it returns. Every ``yield`` is a
progress point and a cancellation point:

- a yielded value other than None crosses to the GUI thread *as the object it is* (one queued
  ``yielded(object)`` signal: frozen events, numpy copies; never re-encoded into dicts or tuples);
  ``yield None`` is a cancellation / pause point that sends nothing (for steps the GUI learns of
  some other way, e.g. through a mailbox drained by a timer);
- :meth:`pause` / :meth:`resume` / :meth:`quit` set flags that the thread checks between two
  yields; :meth:`quit` closes the generator there (its ``finally`` blocks run on the worker thread)
  and, as Orange's ``ConcurrentMixin`` does for a cancelled task, drops everything the job sends
  after it, so a stale result never reaches the view. ``terminate()`` is never called.

An exception from the generator ends the job with ``errored(JobError)`` (the traceback formatted on
the worker thread). The thread's life is wired once, here: ``done -> thread.quit``,
``thread.finished -> deleteLater`` (runner and thread), and ``finished()`` is emitted last on the
GUI thread once the references are dropped. :meth:`shutdown` quits and waits (for a window or
view that closes); no signal is emitted after it.

:class:`WorkerHost` is the base of the controllers that own one worker at a time
(``controller.RunController``, ``sampling_controller.SamplingController``,
``render_worker.RenderController``, ``checkpoint_loader.CheckpointLoader``): it keeps the strong reference, starts jobs, hands their events
to the controller's ``_on_event`` / ``_on_error`` on the GUI thread, drops the reference when the
thread ends and shuts the worker down (with ``QApplication.aboutToQuit`` as a safety net).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, QTimer, Signal, Slot

__all__ = ["GeneratorWorker", "JobError", "WorkerHost"]


@dataclass(frozen=True)
class JobError:
    """What ended a job with an exception: the exception (without its traceback, so no frame of the
    worker thread is kept alive) and the formatted traceback, made on the worker thread."""

    error: BaseException
    details: str


class _Runner(QObject):
    """Lives on the worker thread: its one slot runs the job, then ``done`` quits the thread."""

    done = Signal()

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work: Callable[[], None] | None = work

    @Slot()
    def run(self) -> None:
        try:
            if self._work is not None:
                self._work()
        finally:
            self._work = None
            self.done.emit()


class GeneratorWorker(QObject):
    """Runs ``fn(*args)`` (a generator function) on a thread of its own; one job per worker.

    Parameters
    ----------
    name : str
        The thread's name (shown by debuggers and ``top -H``).
    priority : QThread.Priority
        The thread's priority (training runs low, so the GUI thread stays responsive).
    parent : QObject, optional

    Signals
    -------
    yielded(object)
        Each value the generator yields, except None, in order (not after :meth:`quit`).
    errored(object)
        A :class:`JobError` when the generator raised (not after :meth:`quit`).
    finished()
        The thread has ended and this worker holds no reference to it (always last; not after
        :meth:`shutdown`).
    """

    yielded = Signal(object)
    errored = Signal(object)
    finished = Signal()
    _sent = Signal(object)  # emitted on the worker thread, received (queued) on this object's thread
    _failed = Signal(object)

    def __init__(self, name: str = "genstudio-worker",
                 priority: QThread.Priority = QThread.Priority.InheritPriority,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name, self._priority = name, priority
        self._thread: QThread | None = None
        self._runner: _Runner | None = None
        self._job: tuple[Callable[..., Iterator[Any]], tuple[Any, ...]] | None = None
        self._quit = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._closed = False
        self._sent.connect(self._on_sent)
        self._failed.connect(self._on_failed)

    # ------------------------------------------------------------------ queries
    @property
    def thread(self) -> QThread | None:
        """The job's thread, or None before :meth:`start` and once it has ended."""
        return self._thread

    def is_running(self) -> bool:
        """True from :meth:`start` until the thread has ended."""
        return self._thread is not None

    def is_quitting(self) -> bool:
        """True once :meth:`quit` was asked: nothing the job sends arrives any more."""
        return self._quit.is_set()

    def is_paused(self) -> bool:
        return not self._running.is_set()

    # ------------------------------------------------------------------ commands (GUI thread)
    def start(self, fn: Callable[..., Iterator[Any]], *args: Any) -> None:
        """Run ``fn(*args)`` on a new thread (``fn`` is called there, not here).

        Raises
        ------
        RuntimeError
            If this worker already ran a job or was shut down.
        """
        if self._closed or self._job is not None:
            raise RuntimeError("a GeneratorWorker runs one job")
        self._job = (fn, args)
        runner = _Runner(self._work)
        thread = QThread()
        thread.setObjectName(self._name)
        runner.moveToThread(thread)
        thread.started.connect(runner.run)
        runner.done.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)  # first: drops our references
        thread.finished.connect(runner.deleteLater)
        self._thread, self._runner = thread, runner
        thread.start(self._priority)

    def pause(self) -> None:
        """Hold the job at its next yield until :meth:`resume` (or :meth:`quit`)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def quit(self) -> None:
        """Close the generator at its next yield; drop whatever it sends from now on."""
        self._quit.set()
        self._running.set()  # a paused job wakes to quit

    def send(self, value: object) -> None:
        """Send ``value`` to the GUI thread as if yielded, from inside a long step of the job (a
        callback's progress); thread-safe; dropped after :meth:`quit`."""
        if value is not None and not self._quit.is_set():
            self._sent.emit(value)

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the thread has ended (for shutdown and tests); True if it has."""
        thread = self._thread
        if thread is None or not shiboken6.isValid(thread):
            return True
        return thread.wait(timeout_ms)

    def wait_finished(self, timeout_s: float = 10.0) -> bool:
        """Run a local event loop until :attr:`finished` or ``timeout_s`` passed; True if it ended.

        Unlike :meth:`wait`, the GUI keeps painting meanwhile and queued results are delivered.
        """
        if self._thread is None:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        self.finished.connect(loop.quit)
        deadline = time.monotonic() + timeout_s
        try:
            while self._thread is not None and time.monotonic() < deadline:
                timer.start(max(1, int((deadline - time.monotonic()) * 1000)))
                loop.exec()
        finally:
            timer.stop()
            self.finished.disconnect(loop.quit)
        return self._thread is None

    @Slot()
    def shutdown(self) -> None:
        """Quit the job, wait for its thread and clean up; nothing is emitted after this."""
        if self._closed:
            return
        self._closed = True
        self.quit()
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.quit()
            thread.wait()
        self._release()

    # ------------------------------------------------------------------ the worker thread
    def _work(self) -> None:
        fn, args = self._job or (None, ())
        self._job = (fn, ())  # the arguments (a model, a config) are the generator's from now on
        gen = None
        try:
            gen = fn(*args)
            while not self._quit.is_set():
                if not self._running.is_set():
                    self._running.wait()
                    continue  # woken: by resume, or by quit (checked again above)
                try:
                    value = next(gen)
                except StopIteration:
                    break
                if value is not None and not self._quit.is_set():
                    self._sent.emit(value)
        except Exception as exc:  # shown to the person by the controller; the thread ends cleanly
            details = traceback.format_exc()  # before the traceback is dropped from exc
            if not self._quit.is_set():
                self._failed.emit(JobError(exc.with_traceback(None), details))
        finally:
            if gen is not None:
                gen.close()  # its finally blocks run here, on the worker thread
            gen = None
            self._job = (None, ())

    # ------------------------------------------------------------------ queued, on the GUI thread
    @Slot(object)
    def _on_sent(self, value: object) -> None:
        if not (self._quit.is_set() or self._closed):
            self.yielded.emit(value)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        if not (self._quit.is_set() or self._closed):
            self.errored.emit(error)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._closed:
            return  # shutdown() has cleaned up already; the owner may be closing
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.wait(5000)  # finished() is emitted just before run() returns; let it return
        self._release()
        self.finished.emit()

    def _release(self) -> None:
        thread, self._thread, self._runner = self._thread, None, None
        if thread is not None and shiboken6.isValid(thread):
            thread.deleteLater()


class WorkerHost(QObject):
    """Owns at most one :class:`GeneratorWorker` at a time (the base of the thread-owning controllers).

    Subclasses start jobs with :meth:`_run_job` and override the GUI-thread hooks
    :meth:`_on_event` (each yielded object), :meth:`_on_error` (a :class:`JobError`) and
    :meth:`_on_job_ended` (the thread has ended; the reference is dropped).
    """

    def __init__(self, parent: QObject | None = None, *, quit_with_app: bool = True) -> None:
        super().__init__(parent)
        self._worker: GeneratorWorker | None = None
        self._closed = False
        self._quit_with_app = quit_with_app and QCoreApplication.instance() is not None
        if self._quit_with_app:
            QCoreApplication.instance().aboutToQuit.connect(self.shutdown)  # owners shut down first

    @property
    def thread(self) -> QThread | None:
        """The running job's thread, or None once it has ended."""
        return self._worker.thread if self._worker is not None else None

    def is_busy(self) -> bool:
        """True while a job's thread exists."""
        return self._worker is not None

    def is_closed(self) -> bool:
        """True after :meth:`shutdown`: no new jobs."""
        return self._closed

    def _run_job(self, name: str, priority: QThread.Priority, fn: Callable[..., Iterator[Any]],
                 *args: Any, send: bool = False) -> GeneratorWorker:
        """Start ``fn(*args)`` (then ``worker.send`` as a last argument if ``send``) on a new worker."""
        worker = GeneratorWorker(name, priority, self)
        worker.yielded.connect(self._on_event)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        worker.start(fn, *args, *((worker.send,) if send else ()))
        return worker

    @Slot()
    def shutdown(self) -> None:
        """Quit any job, wait for its thread and refuse new ones (nothing is emitted after it)."""
        if self._closed:
            return
        self._closed = True
        self._before_shutdown()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown()
            worker.deleteLater()
        if self._quit_with_app:
            try:
                QCoreApplication.instance().aboutToQuit.disconnect(self.shutdown)
            except (RuntimeError, TypeError, AttributeError):
                pass

    @Slot()
    def _on_worker_finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.deleteLater()
            self._on_job_ended(worker)

    # ------------------------------------------------------------------ hooks
    def _before_shutdown(self) -> None:
        """Called first by :meth:`shutdown` (e.g. close a queue the job waits on)."""

    def _on_event(self, event: object) -> None:
        """A yielded object, on the GUI thread."""

    def _on_error(self, error: JobError) -> None:
        """The job raised, on the GUI thread."""

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        """The job's thread has ended (``worker.is_quitting()``: it was cancelled)."""
