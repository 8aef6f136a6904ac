"""The training worker: drives the Qt-free ``train()`` generator inside a ``QThread``.

The worker is moved to its thread by :class:`~genstudio.gui.controller.RunController`, which
owns both. It never touches a widget: per-step numbers, metrics and the newest preview go into a
:class:`~genstudio.gui.mailbox.Mailbox` that one GUI timer drains at ~30 Hz. Only rare events
(started, finished, failed, halted, a requested snapshot) travel as queued signals. Pause,
resume, stop, save and snapshot requests reach the generator through its
:class:`~genstudio.training.RunControl` flags, checked between steps.

The app runs the generator with ``on_fault="pause"``: a NaN/inf loss rolls the run back to its
last good state and pauses it, an out-of-memory step pauses it, and ``halted`` tells the GUI so
it can ask the person how to go on (a lower learning rate, a smaller batch, or stop).
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from genstudio.config import RunConfig
from genstudio.faults import with_notes
from genstudio.gui.mailbox import Mailbox
from genstudio.training import (
    Finished,
    Paused,
    PreviewReady,
    Progress,
    RunControl,
    Saved,
    Snapshot,
    Started,
    Tick,
    train,
)

__all__ = ["TrainingWorker", "REAL_POINTS", "real_points", "leave_a_core_for_the_gui"]

#: How many real data points the 2-D view shows behind the generated ones.
REAL_POINTS = 3000


class TrainingWorker(QObject):
    """Runs one training run from start to :class:`~genstudio.training.Finished`.

    Parameters
    ----------
    config : RunConfig
        Frozen; the worker only reads it.
    run_dir : str or Path
    resume : bool
        Continue the run in ``run_dir`` from its last checkpoint.
    control : RunControl
        Shared with the controller, which sets its flags from the GUI thread.
    mailbox : Mailbox
        Where metrics, previews and status go.

    Signals
    -------
    started(object)
        ``{"step", "total", "device", "run_dir", "config"}`` once the run is set up.
    finished(str, int, str, str)
        ``reason, step, message, checkpoint ("" if none)``.
    failed(str, str, str)
        ``title, message, details``: the run could not start or crashed.
    halted(str, int, str)
        ``reason ("diverged" | "out of memory"), step, message``: a fault paused the run.
    snapshotReady(object, object)
        ``tensors`` (dict of CPU tensor copies), ``meta`` (checkpoint header dict).
    done()
        Emitted last, always: the controller quits the thread on it.
    """

    started = Signal(object)  # a dict (object: no conversion to a QVariantMap)
    finished = Signal(str, int, str, str)
    failed = Signal(str, str, str)
    halted = Signal(str, int, str)
    snapshotReady = Signal(object, object)
    done = Signal()

    def __init__(self, config: RunConfig, run_dir: str | Path, resume: bool, control: RunControl,
                 mailbox: Mailbox) -> None:
        super().__init__()
        self._config = config
        self._run_dir = Path(run_dir)
        self._resume = resume
        self._control = control
        self._mailbox = mailbox
        self._started = False

    @Slot()
    def run(self) -> None:
        """Run to the end (called in the worker thread by ``QThread.started``)."""
        try:
            leave_a_core_for_the_gui()
            self._run()
        except Exception as exc:  # every failure becomes a dialog, never a dead app
            title = "Cannot start the run" if not self._started else "The run stopped with an error"
            self.failed.emit(title, _one_line(exc), traceback.format_exc())
        finally:
            self.done.emit()

    def _run(self) -> None:
        box = self._mailbox
        for event in train(self._config, self._run_dir, resume=self._resume, control=self._control,
                           on_fault="pause"):
            if isinstance(event, Tick):
                box.post_status(step=event.step, total=event.total, paused=False)
            elif isinstance(event, Progress):
                box.post_metrics(event.step, event.metrics)
                box.post_status(step=event.step, total=event.total, rate=event.rate,
                                elapsed=event.elapsed, paused=False)
            elif isinstance(event, PreviewReady):
                box.post_preview(event.step, event.preview)
            elif isinstance(event, Saved):
                box.post_status(saved=event.path, saved_step=event.step)
            elif isinstance(event, Paused):
                box.post_status(step=event.step, paused=True)
                if event.reason:
                    self.halted.emit(event.reason, event.step, event.message)
            elif isinstance(event, Snapshot):
                self.snapshotReady.emit(event.tensors, event.meta)
            elif isinstance(event, Started):
                self._started = True
                self._post_real_points(event.config)
                box.post_status(step=event.step, total=event.total, device=event.device,
                                start_step=event.step, rate=0.0, elapsed=0.0, paused=False,
                                notice=event.notice)  # e.g. files of a folder that were skipped
                self.started.emit({"step": event.step, "total": event.total, "device": event.device,
                                   "run_dir": event.run_dir, "config": event.config, "notice": event.notice})
            elif isinstance(event, Finished):
                box.post_status(step=event.step, paused=False)
                self.finished.emit(event.reason, event.step, event.message, event.checkpoint or "")

    def _post_real_points(self, config: RunConfig) -> None:
        """For 2-D data, post a few thousand real points once (cheap: the data set is tiny)."""
        pts = real_points(config)
        if pts is not None:
            self._mailbox.post_status(real_points=pts)


def real_points(config: RunConfig, n: int = REAL_POINTS) -> np.ndarray | None:
    """A fixed random subset of ``n`` real points of a 2-D data set, (n, 2); None for images.

    Raises
    ------
    genstudio.data.DataError
        If the data set cannot be loaded.
    """
    from genstudio.data import is_points, load_dataset

    if not is_points(config.data):
        return None
    data = load_dataset(config.data, size=config.size, channels=config.channels,
                        num_points=config.num_points, seed=config.seed)
    pts = data.tensor.detach().cpu().numpy().astype(np.float32)  # (N, 2)
    if len(pts) > n:
        pts = pts[np.random.default_rng(0).choice(len(pts), n, replace=False)]
    return pts


def leave_a_core_for_the_gui() -> None:
    """Cap torch's intra-op threads at (usable cores − 1).

    With every core busy in torch's OpenMP pool, the GUI thread (and the X server) preempt pool
    threads and every parallel region waits for a descheduled one: a small model then trains
    ~20× slower in the app than in the terminal. One core left free avoids that.
    """
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    wanted = max(1, cores - 1)
    if torch.get_num_threads() > wanted:
        torch.set_num_threads(wanted)


def _one_line(exc: BaseException) -> str:
    """The exception's message (or its type name when it has none) and its notes (what was saved)."""
    text = str(exc).strip()
    if not text:
        text = type(exc).__name__
    elif not type(exc).__module__.startswith("genstudio"):
        text = f"{type(exc).__name__}: {text}"
    return with_notes(text, exc)
