"""``SamplingController``: the one object that owns the scrubber's sampling thread.

A sampling job (draw N samples and record the trajectory, or branch from a recorded step) runs the
Qt-free generator :func:`genstudio.sampling.sampling_run` on a
:class:`~genstudio.gui.generator_worker.GeneratorWorker`: every sampler step is a ``yield``, so
Cancel (the worker's ``quit``) ends the thread within one network call, and a cancelled job's
results never reach the view (the worker drops what it sends after ``quit``, as Orange's
``ConcurrentMixin`` does).

Progress is coalesced on the sampling thread by :func:`sampling_job`: at most ~30 progress events a
second (and always the last step). While a job runs it also yields a :class:`SamplingPreview` of the
newest step (numpy copies of its x_t and x̂_0) at most ~10 times a second, the first one after the
first step: a 1000-step DDPM run shows its grid forming instead of nothing for a minute. Only numpy
copies come back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.sampling import SampleSpec, SamplingProgress, SamplingResult, sampling_run

__all__ = ["SamplingController", "SamplingPreview", "sampling_job"]

_PROGRESS_INTERVAL_S = 1.0 / 30.0
_PREVIEW_INTERVAL_S = 0.1  # ≤ 10 previews a second: each is a copy of the whole batch


@dataclass(frozen=True)
class SamplingPreview:
    """The newest step of a running job: timestep ``t`` and numpy float32 copies (N, ...)."""

    t: int
    x_t: np.ndarray = field(repr=False, compare=False)
    x0: np.ndarray = field(repr=False, compare=False)


def _numpy(tensor: Any) -> np.ndarray:
    """A float32 numpy copy of a (CPU or GPU) tensor, made on the sampling thread."""
    return tensor.detach().float().cpu().numpy().copy()


def sampling_job(model: Any, spec: SampleSpec, record: bool, start_x: np.ndarray | None,
                 start_index: int) -> Iterator[SamplingProgress | SamplingPreview | SamplingResult | None]:
    """``sampling_run`` as the GUI gets it: progress (≤ 30 Hz, tensors stripped), previews (≤ 10 Hz,
    numpy copies) and the result; None for the steps in between (still a cancellation point)."""
    last = last_preview = 0.0
    run = sampling_run(model, spec, record=record, start_x=start_x, start_index=start_index)
    try:
        for event in run:
            if isinstance(event, SamplingProgress):
                now = time.monotonic()
                if event.x_t is not None and event.done < event.total \
                        and now - last_preview >= _PREVIEW_INTERVAL_S:
                    last_preview = now  # the copies are made here, before the next step runs
                    preview = SamplingPreview(event.t, _numpy(event.x_t), _numpy(event.x0))
                else:
                    preview = None
                if now - last >= _PROGRESS_INTERVAL_S or event.done == event.total:
                    last = now
                    yield SamplingProgress(event.done, event.total, event.t)
                yield preview
            elif isinstance(event, SamplingResult):
                yield event
    finally:
        run.close()


def inversion_job(model: Any, image: np.ndarray, name: str, steps: int, prompt: str | None
                  ) -> Iterator[SamplingProgress | Any | None]:
    """:func:`genstudio.inverted.inversion_run` as the GUI gets it: progress (≤ 30 Hz) and the
    :class:`~genstudio.inverted.InvertedPicture`; None for the steps in between."""
    from genstudio.inverted import inversion_run

    yield from coalesced_progress(inversion_run(model, image, name, steps, prompt), SamplingProgress)


def coalesced_progress(run: Iterator[Any], progress: type) -> Iterator[Any]:
    """``run``'s events, its ``progress`` events (with ``done`` and ``total``) at most ~30 a second
    (the last always) and None in place of the others, so every step stays a cancellation point."""
    last = 0.0
    try:
        for event in run:
            if isinstance(event, progress):
                now = time.monotonic()
                if now - last >= _PROGRESS_INTERVAL_S or event.done == event.total:
                    last = now
                    yield event
                else:
                    yield None
            else:
                yield event
    finally:
        run.close()


class SamplingController(WorkerHost):
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
        :class:`~genstudio.scrub.SamplingResult` ("invert": an :class:`~genstudio.inverted.InvertedPicture`).
        Not emitted for a cancelled job.
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
        self._job = ""

    # ------------------------------------------------------------------ queries
    @property
    def job(self) -> str:
        """Name of the running (or last) job."""
        return self._job

    # ------------------------------------------------------------------ commands
    def start(self, job: str, model: Any, spec: SampleSpec, *, record: bool = True,
              start_x: np.ndarray | None = None, start_index: int = 0) -> None:
        """Run ``sampling_run(model, spec, ...)`` on a new thread.

        ``model`` must not be trained by anyone meanwhile (a loaded checkpoint or a snapshot);
        ``start_x`` is copied. Raises RuntimeError while another job runs or after shutdown.
        """
        if self._closed:
            raise RuntimeError("the sampling controller has been shut down")
        if self._worker is not None:
            raise RuntimeError("a sampling job is already running")
        self._job = job
        sx = None if start_x is None else np.array(start_x, dtype=np.float32, copy=True)
        self._run_job(f"genstudio-sampling-{job}", QThread.Priority.LowPriority, sampling_job,
                      model, spec, record, sx, start_index)
        self.busyChanged.emit(True)

    def start_inversion(self, model: Any, image: np.ndarray, name: str, steps: int = 50,
                        prompt: str | None = None) -> None:
        """Invert ``image`` (C, H, W) in [−1, 1] to x_T and regenerate it (job ``"invert"``): its
        :class:`~genstudio.inverted.InvertedPicture` arrives as ``finished("invert", picture)``."""
        if self._closed:
            raise RuntimeError("the sampling controller has been shut down")
        if self._worker is not None:
            raise RuntimeError("a sampling job is already running")
        self._job = "invert"
        self._run_job("genstudio-sampling-invert", QThread.Priority.LowPriority, inversion_job, model,
                      np.array(image, np.float32, copy=True), name, steps, prompt)
        self.busyChanged.emit(True)

    def cancel(self) -> None:
        """Ask the running job to stop between two steps; its result (if any) is dropped."""
        if self._worker is not None:
            self._worker.quit()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the thread has ended (for shutdown and tests); True if it has."""
        return self._worker is None or self._worker.wait(timeout_ms)

    # ------------------------------------------------------------------ the job's events (GUI thread)
    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, SamplingProgress):
            self.progress.emit(event.done, event.total)
        elif isinstance(event, SamplingPreview):
            self.preview.emit(self._job, event.t, event.x_t, event.x0)
        elif event is not None:  # a SamplingResult, or an inversion's InvertedPicture
            self.finished.emit(self._job, event)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        exc = error.error
        self.failed.emit(self._job, f"{type(exc).__name__}: {exc}", error.details)

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        if worker.is_quitting():
            self.cancelled.emit(self._job)
        self.busyChanged.emit(False)
