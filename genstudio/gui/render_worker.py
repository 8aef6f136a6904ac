"""A small latest-wins background renderer: one thread, one job per kind, stale results dropped.

Interactive views (the latent explorer's sliders, pad and scrubbers) ask for a picture many times a
second; only the newest request of each *kind* matters. :class:`RenderController` owns one
:class:`~genstudio.gui.generator_worker.GeneratorWorker`, whose thread runs :func:`render_loop`.
``submit(kind, fn)`` numbers the job and puts it in a mailbox that holds at most one job per kind,
so a newer request replaces a queued one before it runs. The loop waits for a job, runs
``fn(progress)`` and yields a frozen :class:`Rendered` (or :class:`RenderFailed`); the controller
passes it on as ``rendered(kind, seq, result)`` only when ``seq`` is still the newest request of
that kind, so a result that a newer request superseded never reaches the screen (as Orange's
``ConcurrentMixin`` drops a cancelled task's result).

Snapshots in, snapshots out: ``fn`` should close over copies (a numpy latent, a model that no
other thread trains) and return numpy arrays or plain Python values. A long job can call
``progress(fraction)``: that reports progress and raises :class:`JobSuperseded` once a newer job
of the same kind is waiting or the controller is shutting down, so it stops early.

The thread starts with the first job and stops in :meth:`RenderController.shutdown` (the mailbox
closes, the loop ends, the worker waits for its thread; never ``terminate``).

Torch ops on the render thread use few intra-op threads (half the cores, at most 4, at least 1):
one picture is a small job, and on a busy machine a multi-threaded forward pass waits at every
OpenMP barrier for a descheduled team-mate (measured on 2 shared cores: a 64 px DCGAN forward
~7 ms on one thread, 20-400 ms on two).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.gui.generator_worker import WorkerHost

__all__ = ["RenderController", "JobSuperseded", "Rendered", "RenderFailed", "RenderProgress",
           "limit_torch_threads_here", "render_loop"]

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


@dataclass(frozen=True)
class Rendered:
    """The answer to job ``seq`` of ``kind``."""

    kind: str
    seq: int
    result: Any


@dataclass(frozen=True)
class RenderFailed:
    """Job ``seq`` of ``kind`` raised; ``message`` says what, in one line."""

    kind: str
    seq: int
    message: str


@dataclass(frozen=True)
class RenderProgress:
    """Job ``seq`` of ``kind`` is ``fraction`` done."""

    kind: str
    seq: int
    fraction: float


class _Mailbox:
    """Thread-safe: the newest job of each kind; the render loop waits on it for the next one."""

    def __init__(self, first: tuple[str, ...]) -> None:
        self._ready = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._first = first  # kinds taken before all others (the picture under the pointer)
        self._closed = False

    def put(self, job: _Job) -> None:
        """Store ``job``, replacing a queued one of its kind."""
        with self._ready:
            if not self._closed:
                self._jobs[job.kind] = job
                self._ready.notify()

    def wait_take(self) -> _Job | None:
        """The next job to run, waiting for one; None once the mailbox is closed."""
        with self._ready:
            while not self._jobs and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            kind = next((k for k in self._first if k in self._jobs), next(iter(self._jobs)))
            return self._jobs.pop(kind)

    def superseded(self, job: _Job) -> bool:
        """True when a newer job of ``job``'s kind waits or the mailbox is closed."""
        with self._ready:
            return self._closed or job.kind in self._jobs

    def discard(self, kind: str) -> None:
        with self._ready:
            self._jobs.pop(kind, None)

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._jobs.clear()
            self._ready.notify_all()


def render_loop(mailbox: _Mailbox, torch_threads: int,
                send: Callable[[object], None]) -> Iterator[Rendered | RenderFailed | None]:
    """Run the mailbox's jobs, newest per kind, until it closes (on the render thread).

    ``send`` passes a job's :class:`RenderProgress` on from inside the job (its ``progress()``).
    """
    if torch_threads > 0:
        limit_torch_threads_here(torch_threads)
    while (job := mailbox.wait_take()) is not None:

        def progress(fraction: float, job: _Job = job) -> None:
            if mailbox.superseded(job):
                raise JobSuperseded
            send(RenderProgress(job.kind, job.seq, float(fraction)))

        try:
            result = job.fn(progress)
        except JobSuperseded:
            yield None  # a newer job of this kind is queued (or we are closing)
        except Exception as exc:  # shown to the person; the thread lives on
            yield RenderFailed(job.kind, job.seq, f"{type(exc).__name__}: {exc}")
        else:
            yield Rendered(job.kind, job.seq, result)


class RenderController(WorkerHost):
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

    def __init__(self, parent: QObject | None = None, first: tuple[str, ...] = ("main",),
                 torch_threads: int | None = None) -> None:
        super().__init__(parent)
        if torch_threads is None:
            torch_threads = max(1, min(4, (os.cpu_count() or 1) // 2))
        self._torch_threads = torch_threads
        self._mailbox = _Mailbox(first)
        self._seq = 0
        self._requested: dict[str, int] = {}
        self._done: dict[str, int] = {}

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
        self._mailbox.put(_Job(self._seq, kind, fn))
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
        return self._worker is not None

    # ------------------------------------------------------------------ lifetime
    def _start(self) -> None:
        if self._worker is None:
            self._run_job("genstudio-render", QThread.Priority.InheritPriority, render_loop, self._mailbox,
                          self._torch_threads, send=True)

    def _before_shutdown(self) -> None:
        self._mailbox.close()  # the loop ends after the running job (whose progress() now raises)

    # ------------------------------------------------------------------ the loop's events (GUI thread)
    def _current(self, kind: str, seq: int) -> bool:
        return not self._closed and seq == self._requested.get(kind)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if not isinstance(event, (Rendered, RenderFailed, RenderProgress)) or not self._current(event.kind, event.seq):
            return  # superseded by a newer request of its kind
        if isinstance(event, RenderProgress):
            self.progress.emit(event.kind, event.fraction)
            return
        self._done[event.kind] = event.seq
        if isinstance(event, Rendered):
            self.rendered.emit(event.kind, event.seq, event.result)
        else:
            self.failed.emit(event.kind, event.seq, event.message)
