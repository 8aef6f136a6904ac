"""``RunController``: the one object that owns the training run's thread (through a
:class:`~genstudio.gui.generator_worker.GeneratorWorker`) and its :class:`~genstudio.runs.control.RunControl`.

It runs :func:`~genstudio.gui.training_job.training_job` on the worker and never calls
``terminate()``. Pause, resume, stop, "save now" and "snapshot please" set flags on the run's
``RunControl``; the training generator honours them between steps (a stop writes the final
checkpoint, so it is the run's own flag, not the worker's ``quit``). What the run produces arrives
in :attr:`RunController.mailbox`, which the main window's ~30 Hz timer drains; the few discrete
events arrive as the frozen core events they are and are passed on as this object's signals.

Other views take the model being trained without disturbing the run::

    controller.snapshotReady.connect(view.on_snapshot)   # (tensors, meta), CPU copies
    controller.request_snapshot()                        # honoured between two steps

``tensors`` / ``meta`` have the checkpoint layout, so ``GanModel.from_checkpoint(tensors, meta,
device)`` (or ``DiffusionModel.from_checkpoint``) turns them into a model to sample from.

A fault pauses the run instead of ending it: on a diverged loss (NaN/inf, or runaway: see
:class:`~genstudio.runs.faults.LossGuard`) the run has already gone back to its last good state when
``runHalted(Paused)`` arrives; on an out-of-memory step it stays where it was. Whoever listens
answers with ``resume(lr=…)`` / ``resume(batch=…)`` or :meth:`stop`.

The run owns its live settings: a change made on resume is recorded by the run in its
``config.json`` (:func:`genstudio.runs.faults.apply_changes`), and :attr:`RunController.config` is read
back from there when the run halts or ends, so a later resume goes on with it.

**Where the run trains** (:attr:`RunController.mode`): "process" (the app's default) runs the
generator in a spawned child process (:class:`~genstudio.runs.remote.TrainingProcess`), whose
events the worker thread relays into the same mailbox (:func:`~genstudio.gui.process_job.process_job`);
the run then never holds the window's interpreter lock, and a crash of the child ends the run
with ``Finished(reason="crashed")``, the window alive. :meth:`prepare` starts a warm child in the
background so Start does not wait for its torch import. "thread" runs it on the worker thread
itself (``GENSTUDIO_RUN_IN=thread``; also the fallback when a process cannot be started); the test
suite uses it where a test patches the run in this process.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.config import ConfigError, RunConfig
from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.gui.mailbox import Mailbox
from genstudio.gui.process_job import process_job
from genstudio.gui.training_job import one_line, training_job
from genstudio.runs.control import RunControl
from genstudio.runs.events import Finished, Paused, Snapshot, Started
from genstudio.runs.faults import with_live_changes
from genstudio.runs.folder import RunDir
from genstudio.runs.remote import TrainingProcess

__all__ = ["RunController"]

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"
PROCESS, THREAD = "process", "thread"

_log = logging.getLogger("genstudio.gui.controller")


class RunController(WorkerHost):
    """Starts, pauses, resumes and stops one training run at a time.

    Signals
    -------
    runStarted(object)
        The run's :class:`~genstudio.runs.events.Started` once it is set up (``notice`` is "" or a
        sentence for the user about the data: files of a folder skipped).
    runFinished(object)
        The run's :class:`~genstudio.runs.events.Finished` (``reason``: "done" | "stopped" |
        "diverged" | "out of memory").
    runFailed(str, str, str)
        ``title, message, details``: the run could not start or raised.
    runHalted(object)
        A :class:`~genstudio.runs.events.Paused` with a ``reason`` ("diverged" | "out of memory"): a
        fault paused the run (state "paused"); answer with :meth:`resume` (new ``lr`` / ``batch``)
        or :meth:`stop`.
    snapshotReady(object, object)
        ``(tensors, meta)`` answering :meth:`request_snapshot`.
    stateChanged(str)
        "idle", "running", "paused" or "stopping".
    threadFinished()
        The worker thread has ended (after ``runFinished`` / ``runFailed``).
    """

    runStarted = Signal(object)
    runFinished = Signal(object)
    runFailed = Signal(str, str, str)
    runHalted = Signal(object)
    snapshotReady = Signal(object, object)
    stateChanged = Signal(str)
    threadFinished = Signal()

    #: Where new controllers train: "process" (a child process) or "thread" (the worker thread).
    default_mode = os.environ.get("GENSTUDIO_RUN_IN", PROCESS)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent, quit_with_app=False)  # the window stops the run (and waits) on close
        self.mode = self.default_mode if self.default_mode in (PROCESS, THREAD) else PROCESS
        self._started = False
        self._control: RunControl | TrainingProcess = RunControl()
        self._warm: TrainingProcess | None = None  # a child waiting for the next Start
        self._keep_warm = False
        self.detached_pid: int | None = None  # a run left training when the window closed
        self._mailbox = Mailbox()
        self._state = IDLE
        # of the current (or last) run as it now trains: read back from the run's config.json
        self.config: RunConfig | None = None
        self.run_dir: Path | None = None
        self.last_result: tuple[str, int, str, str] | None = None  # reason, step, message, checkpoint ("" if none)

    # ------------------------------------------------------------------ queries
    @property
    def mailbox(self) -> Mailbox:
        """Where the current run posts metrics, previews and status (a new one per run)."""
        return self._mailbox

    @property
    def state(self) -> str:
        """"idle", "running", "paused" or "stopping"."""
        return self._state

    def is_running(self) -> bool:
        """True from :meth:`start` until the worker thread has ended."""
        return self._worker is not None

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
        if self._worker is not None:
            raise RuntimeError("a run is already in progress")
        self.config, self.run_dir, self.last_result = config, Path(run_dir), None
        self._mailbox, self._started = Mailbox(), False
        child = self._take_child() if self.mode == PROCESS else None
        self._set_state(RUNNING)
        if child is not None:
            self._control = child
            self._run_job("genstudio-training-relay", QThread.Priority.NormalPriority,
                          process_job, child, config, self.run_dir, resume, self._mailbox)
        else:
            self._control = RunControl()
            self._run_job("genstudio-training", QThread.Priority.LowPriority,  # the GUI thread stays responsive
                          training_job, config, self.run_dir, resume, self._control, self._mailbox)

    def prepare(self) -> None:
        """Start a warm training process in the background (and a new one after each run), so
        Start does not wait for a child's torch import. No-op in thread mode or once closed."""
        self._keep_warm = True
        if self.mode != PROCESS or self._closed or (self._warm is not None and self._warm.is_alive()):
            return
        try:
            self._warm = TrainingProcess()
        except OSError as exc:  # no processes here (a sandbox): runs train on a thread
            _log.warning("cannot start a training process (%s): training runs on a thread", exc)
            self.mode, self._warm = THREAD, None

    def _take_child(self) -> TrainingProcess | None:
        child, self._warm = self._warm, None
        if child is not None and child.is_alive():
            return child
        if child is not None:
            child.close()
        try:
            return TrainingProcess()
        except OSError as exc:
            _log.warning("cannot start a training process (%s): this run trains on a thread", exc)
            return None

    def detach(self) -> int | None:
        """Leave the running run training on its own (process mode): it keeps writing its run folder
        after the window closes, and opening the folder follows it. Returns its pid (None: not
        possible, e.g. on a thread or when no run is going)."""
        child = self._control
        if not isinstance(child, TrainingProcess) or self._worker is None or not child.is_alive():
            return None
        child.detach()
        self.detached_pid = child.pid
        worker, self._worker = self._worker, None
        worker.shutdown()  # the relay ends; the child goes on
        worker.deleteLater()
        self._set_state(IDLE)
        self.threadFinished.emit()
        return self.detached_pid

    def close_processes(self) -> None:
        """End the warm child, if any (the window closes): no process is left behind."""
        self._keep_warm = False
        warm, self._warm = self._warm, None
        if warm is not None:
            warm.close()

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

    def step(self) -> bool:
        """Slow motion: run exactly one step of the paused run, which pauses again after it (the
        preview of that step shows what it did). False (nothing done) unless paused."""
        if self._state != PAUSED:
            return False
        self._control.step_once()
        return True

    def change(self, **changes: object) -> None:
        """Change live settings (``lr``, ``d_lr``, ``d_steps``, ``unrolled``, ``r1``, ``batch``) of
        the running or paused run: they take effect before its next step, are marked on the loss
        curves and recorded in the run folder (``config.json``, ``changes.jsonl``).

        Raises
        ------
        ConfigError
            If no run is going or a value is impossible (nothing changes).
        """
        if self._worker is None or self._state == STOPPING or self.config is None:
            raise ConfigError("no run is going: nothing to change")
        config = with_live_changes(self.config, changes)
        self._control.change(**changes)
        self.config = config  # the run records the same in config.json before its next step

    def toggle_pause(self) -> None:
        """Pause a running run or resume a paused one."""
        if self._state == RUNNING:
            self.pause()
        elif self._state == PAUSED:
            self.resume()

    def stop(self) -> None:
        """Ask the run to stop: it finishes its step, writes a checkpoint and ends."""
        if self._worker is not None and self._state != STOPPING:
            self._control.request_stop()
            self._set_state(STOPPING)

    def request_save(self) -> None:
        """Write a checkpoint of the running model between the next two steps (works paused)."""
        if self._worker is not None:
            self._control.request_save()

    def request_snapshot(self) -> bool:
        """Ask for ``snapshotReady(tensors, meta)`` between the next two steps.

        Returns False (and nothing is emitted) when no run is going.
        """
        if self._worker is None or self._state == STOPPING:
            return False
        self._control.request_snapshot()
        return True

    def wait_finished(self, timeout_s: float = 10.0) -> bool:
        """Run a local event loop until the thread has ended or ``timeout_s`` passed.

        The GUI keeps painting meanwhile (no frozen ``QThread.wait()``). True if it ended.
        """
        return self._worker is None or self._worker.wait_finished(timeout_s)

    # ------------------------------------------------------------------ the run's events (GUI thread)
    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, Started):
            self._started = True
            self.config = event.config  # a resumed run trains the saved model with the new settings
            self.runStarted.emit(event)
        elif isinstance(event, Paused):  # a fault paused the run
            if self._state == STOPPING:  # a stop asked for meanwhile wins; the run ends on its own
                return
            self._read_back()
            self._set_state(PAUSED)
            self.runHalted.emit(event)
        elif isinstance(event, Snapshot):
            self.snapshotReady.emit(event.tensors, event.meta)
        elif isinstance(event, Finished):
            self.last_result = (event.reason, event.step, event.message, event.checkpoint or "")
            self._read_back()
            self.runFinished.emit(event)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        title = "The run stopped with an error" if self._started else "Cannot start the run"
        self.runFailed.emit(title, one_line(error.error), error.details)

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        self._set_state(IDLE)
        self.threadFinished.emit()
        if self._keep_warm and not self._closed:
            self.prepare()  # the next Start finds a warm child too

    def _before_shutdown(self) -> None:
        self.close_processes()

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
