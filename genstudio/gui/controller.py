"""``RunController``: the one object that owns the training thread and its worker.

It keeps strong references to the ``QThread`` and the :class:`~genstudio.gui.worker.TrainingWorker`
for the whole run, wires ``worker.done -> thread.quit`` and ``thread.finished -> deleteLater``,
and never calls ``terminate()``. Pause, resume, stop, "save now" and "snapshot please" set flags
on the run's :class:`~genstudio.training.RunControl`; the training generator honours them
between steps. What the run produces arrives in :attr:`RunController.mailbox`, which the main
window's ~30 Hz timer drains; the few discrete events are re-emitted as this object's signals.

Other views take the model being trained without disturbing the run::

    controller.snapshotReady.connect(view.on_snapshot)   # (tensors, meta), CPU copies
    controller.request_snapshot()                        # honoured between two steps

``tensors`` / ``meta`` have the checkpoint layout, so ``GanModel.from_checkpoint(tensors, meta,
device)`` (or ``DiffusionModel.from_checkpoint``) turns them into a model to sample from.

A fault pauses the run instead of ending it: on a diverged loss (NaN/inf, or runaway: see
:class:`~genstudio.faults.LossGuard`) the run has already gone back to its last good state when
``runHalted("diverged", step, message)`` arrives; on an out-of-memory
step it stays where it was. Whoever listens answers with ``resume(lr=…)`` / ``resume(batch=…)``
or :meth:`stop`.
"""

from __future__ import annotations

import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer, Signal, Slot

from genstudio.config import ConfigError, RunConfig
from genstudio.faults import with_live_changes
from genstudio.gui.mailbox import Mailbox
from genstudio.gui.worker import TrainingWorker
from genstudio.rundir import RunDir
from genstudio.training import RunControl

__all__ = ["RunController"]

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"


class RunController(QObject):
    """Starts, pauses, resumes and stops one training run at a time.

    Signals
    -------
    runStarted(object)
        ``{"step", "total", "device", "run_dir", "config", "notice"}`` once the run is set up;
        ``notice`` is "" or a sentence for the user about the data (files of a folder skipped).
    runFinished(str, int, str, str)
        ``reason ("done" | "stopped" | "diverged" | "out of memory"), step, message, checkpoint``.
    runFailed(str, str, str)
        ``title, message, details``: the run could not start or raised.
    runHalted(str, int, str)
        ``reason ("diverged" | "out of memory"), step, message``: a fault paused the run (state
        "paused"); answer with :meth:`resume` (new ``lr`` / ``batch``) or :meth:`stop`.
    snapshotReady(object, object)
        ``(tensors, meta)`` answering :meth:`request_snapshot`.
    stateChanged(str)
        "idle", "running", "paused" or "stopping".
    threadFinished()
        The worker thread has ended (after ``runFinished`` / ``runFailed``).
    """

    runStarted = Signal(object)
    runFinished = Signal(str, int, str, str)
    runFailed = Signal(str, str, str)
    runHalted = Signal(str, int, str)
    snapshotReady = Signal(object, object)
    stateChanged = Signal(str)
    threadFinished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._control = RunControl()
        self._mailbox = Mailbox()
        self._state = IDLE
        # of the current (or last) run as it now trains: read back from the run's config.json
        self.config: RunConfig | None = None
        self.run_dir: Path | None = None
        self.last_result: tuple[str, int, str, str] | None = None  # the last runFinished arguments

    # ------------------------------------------------------------------ queries
    @property
    def mailbox(self) -> Mailbox:
        """Where the current run posts metrics, previews and status (a new one per run)."""
        return self._mailbox

    @property
    def state(self) -> str:
        """"idle", "running", "paused" or "stopping"."""
        return self._state

    @property
    def thread(self) -> QThread | None:
        """The running thread, or None once it has finished."""
        return self._thread

    def is_running(self) -> bool:
        """True from :meth:`start` until the worker thread has ended."""
        return self._thread is not None

    # ------------------------------------------------------------------ commands
    def start(self, config: RunConfig, run_dir: str | Path, *, resume: bool = False) -> None:
        """Start training ``config`` in ``run_dir`` on a new thread.

        Errors in setting up the run (bad folder, unknown data, a folder another process is
        writing: the message names it) arrive as ``runFailed``.

        Raises
        ------
        RuntimeError
            If a run is already going.
        """
        if self._thread is not None:
            raise RuntimeError("a run is already in progress")
        self.config, self.run_dir, self.last_result = config, Path(run_dir), None
        self._control = RunControl()
        self._mailbox = Mailbox()
        worker = TrainingWorker(config, run_dir, resume, self._control, self._mailbox)
        thread = QThread()
        thread.setObjectName("genstudio-training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.started.connect(self._on_started)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.halted.connect(self._on_halted)
        worker.snapshotReady.connect(self._on_snapshot)
        worker.done.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)  # first: drops our references
        thread.finished.connect(worker.deleteLater)
        self._thread, self._worker = thread, worker
        self._set_state(RUNNING)
        thread.start(QThread.Priority.LowPriority)  # the GUI thread stays responsive

    def pause(self) -> None:
        """Pause between two steps (no-op unless running)."""
        if self._state == RUNNING:
            self._control.pause()
            self._set_state(PAUSED)

    def resume(self, **changes: object) -> None:
        """Resume a paused run, optionally with a new ``lr`` and / or ``batch``.

        Raises
        ------
        ConfigError
            If a changed setting is impossible (the run stays paused).
        """
        if self._state != PAUSED:
            return
        if changes and self.config is None:
            raise ConfigError("the run has not started yet: nothing to change")
        config = with_live_changes(self.config, changes) if changes else self.config
        self._control.resume(**changes)
        self.config = config  # the run records the same in config.json before its next step
        self._set_state(RUNNING)

    def toggle_pause(self) -> None:
        """Pause a running run or resume a paused one."""
        if self._state == RUNNING:
            self.pause()
        elif self._state == PAUSED:
            self.resume()

    def stop(self) -> None:
        """Ask the run to stop: it finishes its step, writes a checkpoint and ends."""
        if self._thread is not None and self._state != STOPPING:
            self._control.request_stop()
            self._set_state(STOPPING)

    def request_save(self) -> None:
        """Write a checkpoint of the running model between the next two steps (works paused)."""
        if self._thread is not None:
            self._control.request_save()

    def request_snapshot(self) -> bool:
        """Ask for ``snapshotReady(tensors, meta)`` between the next two steps.

        Returns False (and nothing is emitted) when no run is going.
        """
        if self._thread is None or self._state == STOPPING:
            return False
        self._control.request_snapshot()
        return True

    def wait_finished(self, timeout_s: float = 10.0) -> bool:
        """Run a local event loop until the thread has ended or ``timeout_s`` passed.

        The GUI keeps painting meanwhile (no frozen ``QThread.wait()``). True if it ended.
        """
        if self._thread is None:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        self.threadFinished.connect(loop.quit)
        deadline = time.monotonic() + timeout_s
        try:
            while self._thread is not None and time.monotonic() < deadline:
                timer.start(max(1, int((deadline - time.monotonic()) * 1000)))
                loop.exec()
        finally:
            timer.stop()
            self.threadFinished.disconnect(loop.quit)
        return self._thread is None

    # ------------------------------------------------------------------ worker signals (queued)
    @Slot(object)
    def _on_started(self, info: dict) -> None:
        self.config = info["config"]  # a resumed run trains the saved model with the new settings
        self.runStarted.emit(info)

    @Slot(str, int, str)
    def _on_halted(self, reason: str, step: int, message: str) -> None:
        if self._state == STOPPING:  # a stop asked for meanwhile wins; the run ends on its own
            return
        self._read_back()
        self._set_state(PAUSED)
        self.runHalted.emit(reason, step, message)

    @Slot(str, int, str, str)
    def _on_finished(self, reason: str, step: int, message: str, checkpoint: str) -> None:
        self.last_result = (reason, step, message, checkpoint)
        self._read_back()
        self.runFinished.emit(reason, step, message, checkpoint)

    @Slot(str, str, str)
    def _on_failed(self, title: str, message: str, details: str) -> None:
        self.runFailed.emit(title, message, details)

    @Slot(object, object)
    def _on_snapshot(self, tensors: object, meta: object) -> None:
        self.snapshotReady.emit(tensors, meta)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is not None and shiboken6.isValid(thread):
            thread.wait(5000)  # finished() is emitted just before run() returns; let it return
            thread.deleteLater()
        self._thread = self._worker = None
        self._set_state(IDLE)
        self.threadFinished.emit()

    def _read_back(self) -> None:
        """Take the run's settings as the run recorded them in config.json (the one record of its
        live settings: a recovery dialog's lower rate is there); keep ours if it cannot be read."""
        if self.run_dir is None:
            return
        try:
            self.config = RunDir(self.run_dir).read_config()
        except (OSError, ValueError, TypeError):
            pass

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)
