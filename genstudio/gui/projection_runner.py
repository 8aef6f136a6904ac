"""Projects an image into a GAN's latent space off the GUI thread, with a progress dialog and Cancel.

The latent explorer's "Project an image…" uses it: the found z lands in the explorer, where the
sliders then edit the person's own image. The job works on its own copy of G, so the view keeps
rendering with the model it shows while the projection runs.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

import numpy as np
from PySide6.QtCore import QThread, Qt, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.safe_text import safe_text

__all__ = ["ProjectionRunner"]


def projection_job(model: Any, image: np.ndarray, steps: int) -> Iterator[Any]:
    """:func:`~genstudio.gan.projection.projection_run` on a copy of ``model``'s generator."""
    from genstudio.gan.projection import projection_run

    mine = copy.copy(model)
    mine.G = copy.deepcopy(model.G)  # requires_grad is switched off on its weights while it runs
    yield from projection_run(mine, image, steps=steps)


class ProjectionRunner(WorkerHost):
    """One projection at a time.

    Signals
    -------
    done(object)
        The :class:`~genstudio.gan.projection.Projection` of a run that was not cancelled.
    failed(str)
        Why it could not run, one line, safe to show.
    """

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__(parent_widget)
        self._dialog = QProgressDialog("", "Cancel", 0, 1, parent_widget)
        self._dialog.setWindowTitle("Projecting an image")
        # not modal: a modal dialog's setValue runs a nested event loop on every step's progress
        self._dialog.setWindowModality(Qt.WindowModality.NonModal)
        self._dialog.setMinimumDuration(300)
        self._dialog.setAutoReset(False)
        self._dialog.canceled.connect(self.cancel)
        self._dialog.reset()

    def start(self, model: Any, image: np.ndarray, name: str, steps: int = 300) -> bool:
        """Project ``image`` (C, H, W) in [−1, 1]; False (nothing started) while one runs."""
        if self._closed or self._worker is not None:
            return False
        self._dialog.setRange(0, steps)
        self._dialog.setLabelText(f"Finding the z whose image matches {safe_text(name, 60)}…")
        self._dialog.setValue(0)
        self._run_job("genstudio-projection", QThread.Priority.LowPriority, projection_job, model, image, steps)
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop the running projection; nothing it found reaches the view."""
        if self._worker is not None:
            self._worker.quit()
        self._dialog.reset()

    def _before_shutdown(self) -> None:
        self.cancel()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        from genstudio.gan.projection import Projection, ProjectionProgress

        if isinstance(event, ProjectionProgress):
            self._dialog.setValue(event.done)
            self._dialog.setLabelText(f"Step {event.done} of {event.total}: pixel error {event.loss:.4f}")
        elif isinstance(event, Projection):
            self._dialog.reset()
            self.done.emit(event)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        exc = error.error
        self._dialog.reset()
        known = isinstance(exc, (ValueError, OSError))
        self.failed.emit(safe_text(str(exc) if known else f"{type(exc).__name__}: {exc}"))

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        self._dialog.reset()
