"""A small latest-wins background renderer: one thread, one job per kind, stale results dropped.

Interactive views (the latent explorer's sliders, pad and scrubbers) ask for a picture many times a
second; only the newest request of each *kind* matters. :class:`RenderController` owns one
``QThread`` and its worker. ``submit(kind, fn)`` numbers the job and puts it in a mailbox that
holds at most one job per kind, so a newer request replaces a queued one before it runs. The
worker runs ``fn(progress)`` on its thread and sends the result back; the controller's ``@Slot``
passes it on as ``rendered(kind, seq, result)`` only when ``seq`` is still the newest request of
that kind, so a result that a newer request superseded never reaches the screen (as Orange's
``ConcurrentMixin`` drops a cancelled task's result).

Snapshots in, snapshots out: ``fn`` should close over copies (a numpy latent, a model that no
other thread trains) and return numpy arrays or plain Python values. A long job can call
``progress(fraction)``: that reports progress and raises :class:`JobSuperseded` once a newer job
of the same kind is waiting or the controller is shutting down, so it stops early.

The thread starts with the first job and stops in :meth:`RenderController.shutdown` (``quit``
then ``wait``; never ``terminate``); ``thread.finished`` deletes the worker and the thread.

Torch ops on the render thread use few intra-op threads (half the cores, at most 4, at least 1):
one picture is a small job, and on a busy machine a multi-threaded forward pass waits at every
OpenMP barrier for a descheduled team-mate (measured on 2 shared cores: a 64 px DCGAN forward
~7 ms on one thread, 20-400 ms on two).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

__all__ = ["RenderController", "JobSuperseded", "limit_torch_threads_here"]

#: ``fn(progress) -> result``; ``progress(fraction)`` may raise :class:`JobSuperseded`.
JobFn = Callable[[Callable[[float], None]], Any]


def limit_torch_threads_here(n: int) -> bool:
    """Let torch ops on the *calling* thread use at most ``n`` OpenMP threads; others keep theirs.

    ``torch.set_num_threads`` would also change the default that every thread not yet started
    inherits (a training thread started later would get ``n`` too). OpenMP's
    ``omp_set_num_threads`` acts on the calling thread only, so it is called on the libgomp that
    torch loaded, found in ``/proc/self/maps``. Linux only; elsewhere nothing changes (False).
    """
    import torch

    torch.get_num_threads()  # ATen's per-thread lazy set-up first, or it would undo ours later
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            path = next((line.split()[-1] for line in maps if "libgomp" in line), None)
        if path is None:
            return False
        ctypes.CDLL(path).omp_set_num_threads(int(n))
    except (OSError, AttributeError):
        return False
    return torch.get_num_threads() == int(n)


class JobSuperseded(Exception):
    """Raised inside a job by ``progress()`` when its result is no longer wanted."""


@dataclass(frozen=True)
class _Job:
    seq: int
    kind: str
    fn: JobFn


class _Mailbox:
    """Thread-safe: the newest job of each kind, and whether the worker has been woken."""

    def __init__(self, first: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._first = first  # kinds taken before all others (the picture under the pointer)
        self._awake = False
        self._closed = False

    def put(self, job: _Job) -> bool:
        """Store ``job`` (replacing a queued one of its kind); True if the worker must be woken."""
        with self._lock:
            if self._closed:
                return False
            self._jobs[job.kind] = job
            wake, self._awake = not self._awake, True
            return wake

    def take(self) -> _Job | None:
        """The next job to run, or None (and the worker counts as asleep) when there is none."""
        with self._lock:
            if not self._jobs or self._closed:
                self._awake = False
                return None
            kind = next((k for k in self._first if k in self._jobs), next(iter(self._jobs)))
            return self._jobs.pop(kind)

    def superseded(self, job: _Job) -> bool:
        """True when a newer job of ``job``'s kind waits or the mailbox is closed."""
        with self._lock:
            return self._closed or job.kind in self._jobs

    def discard(self, kind: str) -> None:
        with self._lock:
            self._jobs.pop(kind, None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._jobs.clear()


class _RenderWorker(QObject):
    """Lives on the render thread; runs jobs until the mailbox is empty."""

    resultReady = Signal(str, int, object)  # kind, seq, result
    failed = Signal(str, int, str)  # kind, seq, message
    progressed = Signal(str, int, float)  # kind, seq, fraction

    def __init__(self, mailbox: _Mailbox, torch_threads: int) -> None:
        super().__init__()
        self._mailbox = mailbox
        self._torch_threads = torch_threads

    @Slot()
    def setup(self) -> None:
        """First thing on the render thread."""
        if self._torch_threads > 0:
            limit_torch_threads_here(self._torch_threads)

    @Slot()
    def drain(self) -> None:
        while (job := self._mailbox.take()) is not None:

            def progress(fraction: float, job: _Job = job) -> None:
                if self._mailbox.superseded(job):
                    raise JobSuperseded
                self.progressed.emit(job.kind, job.seq, float(fraction))

            try:
                result = job.fn(progress)
            except JobSuperseded:
                continue  # a newer job of this kind is queued (or we are closing)
            except Exception as exc:  # shown to the person; the thread lives on
                self.failed.emit(job.kind, job.seq, f"{type(exc).__name__}: {exc}")
            else:
                self.resultReady.emit(job.kind, job.seq, result)


class RenderController(QObject):
    """Owns the render thread; the GUI side of the latest-wins renderer.

    Parameters
    ----------
    parent : QObject, optional
    first : tuple of str
        Kinds run before any other waiting job (default: ``("main",)``).
    torch_threads : int, optional
        Intra-op threads for torch on the render thread (default: half the cores, 1 to 4;
        0 leaves torch's default).

    Signals
    -------
    rendered(str, int, object)
        ``kind, seq, result`` for the newest request of ``kind`` only.
    failed(str, int, str)
        ``kind, seq, message`` when the newest request of ``kind`` raised.
    progress(str, float)
        ``kind, fraction`` from a job's ``progress()`` calls (newest request only).
    """

    rendered = Signal(str, int, object)
    failed = Signal(str, int, str)
    progress = Signal(str, float)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None, first: tuple[str, ...] = ("main",),
                 torch_threads: int | None = None) -> None:
        super().__init__(parent)
        if torch_threads is None:
            torch_threads = max(1, min(4, (os.cpu_count() or 1) // 2))
        self._torch_threads = torch_threads
        self._mailbox = _Mailbox(first)
        self._thread: QThread | None = None
        self._worker: _RenderWorker | None = None
        self._seq = 0
        self._requested: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._closed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # a safety net; owners call shutdown() first

    # ------------------------------------------------------------------ requests
    def submit(self, kind: str, fn: JobFn) -> int:
        """Queue ``fn`` as the newest job of ``kind`` (dropping a queued older one); its seq.

        After :meth:`shutdown` nothing is queued and 0 is returned.
        """
        if self._closed:
            return 0
        self._seq += 1
        self._requested[kind] = self._seq
        self._start()
        if self._mailbox.put(_Job(self._seq, kind, fn)):
            self._wake.emit()
        return self._seq

    def cancel(self, kind: str | None = None) -> None:
        """Forget the queued job of ``kind`` (of every kind if None) and ignore results on their way."""
        for k in [kind] if kind is not None else list(self._requested):
            self._mailbox.discard(k)
            if k in self._requested:
                self._seq += 1
                self._requested[k] = self._done[k] = self._seq

    def requested_seq(self, kind: str = "main") -> int:
        """Seq of the newest request of ``kind`` (0 if none)."""
        return self._requested.get(kind, 0)

    def rendered_seq(self, kind: str = "main") -> int:
        """Seq of the newest request of ``kind`` whose answer (result or error) has arrived."""
        return self._done.get(kind, 0)

    def idle(self) -> bool:
        """True when every kind's newest request has been answered (or cancelled)."""
        return all(self._done.get(k, 0) == s for k, s in self._requested.items())

    def torch_threads(self) -> int:
        """Intra-op threads torch uses on the render thread (0: torch's default)."""
        return self._torch_threads

    def is_running(self) -> bool:
        """True while the render thread exists."""
        return self._thread is not None

    # ------------------------------------------------------------------ lifetime
    def _start(self) -> None:
        if self._thread is not None:
            return
        thread = QThread()
        thread.setObjectName("genstudio-render")
        worker = _RenderWorker(self._mailbox, self._torch_threads)
        worker.moveToThread(thread)
        thread.started.connect(worker.setup)
        self._wake.connect(worker.drain)
        worker.resultReady.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        worker.progressed.connect(self._on_progress)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(thread.deleteLater)
        self._thread, self._worker = thread, worker
        thread.start()

    @Slot()
    def shutdown(self) -> None:
        """Drop waiting jobs, let the running one end, stop the thread and wait for it."""
        if self._closed:
            return
        self._closed = True
        self._mailbox.close()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.quit()
            thread.wait()
        self._worker = None
        app = QCoreApplication.instance()
        if app is not None:
            try:
                app.aboutToQuit.disconnect(self.shutdown)
            except (RuntimeError, TypeError):
                pass

    # ------------------------------------------------------------------ worker signals (queued)
    def _current(self, kind: str, seq: int) -> bool:
        return not self._closed and seq == self._requested.get(kind)

    @Slot(str, int, object)
    def _on_result(self, kind: str, seq: int, result: object) -> None:
        if self._current(kind, seq):
            self._done[kind] = seq
            self.rendered.emit(kind, seq, result)

    @Slot(str, int, str)
    def _on_failed(self, kind: str, seq: int, message: str) -> None:
        if self._current(kind, seq):
            self._done[kind] = seq
            self.failed.emit(kind, seq, message)

    @Slot(str, int, float)
    def _on_progress(self, kind: str, seq: int, fraction: float) -> None:
        if self._current(kind, seq):
            self.progress.emit(kind, fraction)
