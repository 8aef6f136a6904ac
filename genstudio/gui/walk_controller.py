"""``WalkController``: the one object that owns a prompt walk's thread.

It runs :func:`genstudio.text2image.walk.prompt_walk` on a
:class:`~genstudio.gui.generator_worker.GeneratorWorker` through :func:`walk_job`, which coalesces
the per-step progress to at most ~30 events a second (every network step stays a cancellation
point) and passes each finished frame (a numpy copy) and the result. Cancel is the worker's ``quit``:
nothing the cancelled job sends reaches the view.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.gui.sampling_controller import coalesced_progress
from genstudio.sampling import SampleSpec
from genstudio.text2image.walk import WalkFrame, WalkProgress, WalkResult, prompt_walk

__all__ = ["WalkController", "walk_job"]


def walk_job(model: Any, spec: SampleSpec, prompt_to: str, frames: int, method: str, index: int
             ) -> Iterator[WalkProgress | WalkFrame | WalkResult | None]:
    """``prompt_walk`` as the GUI gets it: progress ≤ 30 Hz, every frame, the result; None in between."""
    return coalesced_progress(prompt_walk(model, spec, prompt_to, frames, method=method, index=index), WalkProgress)


class WalkController(WorkerHost):
    """Runs one prompt walk at a time on its own thread, with progress and Cancel.

    Signals
    -------
    progress(int, int)
        ``done, total`` network steps of the whole walk (at most ~30 per second).
    frame(int, float, object)
        ``k, alpha, image``: frame k is drawn, (C, H, W) float32.
    finished(object)
        The :class:`~genstudio.text2image.walk.WalkResult`; not after Cancel.
    failed(str)
        The job raised: its one-line message.
    busyChanged(bool)
        True from :meth:`start` until the thread has ended.
    """

    progress = Signal(int, int)
    frame = Signal(int, float, object)
    finished = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancelled = False

    def start(self, model: Any, spec: SampleSpec, prompt_to: str, frames: int, method: str, index: int) -> None:
        """Walk on a new thread (``model`` must not be trained meanwhile: a checkpoint or a snapshot)."""
        if self._closed:
            raise RuntimeError("the walk controller has been shut down")
        if self._worker is not None:
            raise RuntimeError("a prompt walk is already running")
        self.cancelled = False
        self._run_job("genstudio-prompt-walk", QThread.Priority.LowPriority, walk_job,
                      model, spec, prompt_to, frames, method, index)
        self.busyChanged.emit(True)

    def cancel(self) -> None:
        """Stop between two network steps; the frames already shown stay."""
        if self._worker is not None:
            self._worker.quit()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, WalkProgress):
            self.progress.emit(event.done, event.total)
        elif isinstance(event, WalkFrame):
            self.frame.emit(event.k, event.alpha, event.image)
        elif isinstance(event, WalkResult):
            self.finished.emit(event)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        self.failed.emit(f"{type(error.error).__name__}: {error.error}")

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        self.cancelled = worker.is_quitting()
        self.busyChanged.emit(False)
