"""The training job: the Qt-free ``train()`` generator as the app runs it on its training thread.

:class:`~genstudio.gui.controller.RunController` runs :func:`training_job` on a
:class:`~genstudio.gui.generator_worker.GeneratorWorker`. The job never touches a widget: per-step
numbers, metrics and the newest preview go into a :class:`~genstudio.gui.mailbox.Mailbox` that one
GUI timer drains at ~30 Hz (a step is a ``yield None``: nothing crosses as a signal). Only the rare
events (:class:`~genstudio.runs.events.Started`, a :class:`~genstudio.runs.events.Paused` by a fault,
:class:`~genstudio.runs.events.Snapshot`, :class:`~genstudio.runs.events.Finished`) are yielded to the
GUI thread, as the frozen objects they are. Pause, resume, stop, save and snapshot requests reach
the generator through its :class:`~genstudio.runs.control.RunControl` flags, checked between steps.

The app runs the generator with ``on_fault="pause"``: a NaN/inf loss rolls the run back to its
last good state and pauses it, an out-of-memory step pauses it, and the yielded ``Paused`` (with a
reason) lets the GUI ask the person how to go on (a lower learning rate, a smaller batch, or stop).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from genstudio.config import RunConfig
from genstudio.gui.mailbox import Mailbox
from genstudio.gui.status_update import RunStatusUpdate
from genstudio.runs.control import RunControl
from genstudio.runs.events import (
    Event, Finished, Paused, PreviewReady, Progress, Saved, SettingsChanged, Snapshot, Started, Tick,
)
from genstudio.runs.child import leave_a_core_for_the_gui
from genstudio.runs.faults import one_line
from genstudio.runs.loop import train

__all__ = ["training_job", "one_line", "REAL_POINTS", "real_points", "leave_a_core_for_the_gui"]

#: How many real data points the 2-D view shows behind the generated ones.
REAL_POINTS = 3000


def training_job(config: RunConfig, run_dir: str | Path, resume: bool, control: RunControl,
                 mailbox: Mailbox) -> Iterator[Event | None]:
    """Train ``config`` in ``run_dir`` (on the calling thread), posting what the GUI draws to ``mailbox``.

    Yields
    ------
    Started, Paused (by a fault), Snapshot, Finished
        The events the GUI thread reacts to one by one; None for every other event (a step).
    """
    leave_a_core_for_the_gui()
    for event in train(config, run_dir, resume=resume, control=control, on_fault="pause"):
        _post(mailbox, event)
        if isinstance(event, (Started, Snapshot, Finished)) or (isinstance(event, Paused) and event.reason):
            yield event
        else:
            yield None


def _post(box: Mailbox, event: Event) -> None:
    """What the ~30 Hz timer draws of ``event``: metrics, the newest preview, the status line."""
    if isinstance(event, Tick):
        box.post_status(RunStatusUpdate(step=event.step, total=event.total, paused=False))
    elif isinstance(event, Progress):
        box.post_metrics(event.step, event.metrics)
        box.post_status(RunStatusUpdate(step=event.step, total=event.total, rate=event.rate,
                                        elapsed=event.elapsed, paused=False))
    elif isinstance(event, PreviewReady):
        box.post_preview(event.step, event.preview)
        if event.alarm is not None:
            box.post_status(RunStatusUpdate(collapse=event.alarm))
    elif isinstance(event, SettingsChanged):
        box.post_status(RunStatusUpdate(settings_change=(event.step, event.label)))
    elif isinstance(event, Saved):
        box.post_status(RunStatusUpdate(saved=event.path, saved_step=event.step))
    elif isinstance(event, Paused):
        box.post_status(RunStatusUpdate(step=event.step, paused=True))
    elif isinstance(event, Started):
        pts = real_points(event.config)  # for 2-D data, a few thousand real points once (cheap)
        box.post_status(RunStatusUpdate(step=event.step, total=event.total, device=event.device,
                                        start_step=event.step, rate=0.0, elapsed=0.0, paused=False,
                                        notice=event.notice,  # e.g. files of a folder that were skipped
                                        real_points=pts))
    elif isinstance(event, Finished):
        box.post_status(RunStatusUpdate(step=event.step, paused=False))


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
