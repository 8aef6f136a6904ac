"""The training job of a run in a child process: the worker thread relays the child's events.

:class:`~genstudio.gui.controller.RunController` runs :func:`process_job` on its
:class:`~genstudio.gui.generator_worker.GeneratorWorker` instead of
:func:`~genstudio.gui.training_job.training_job`: the arithmetic happens in the child
(:mod:`genstudio.runs.child`, started by :class:`~genstudio.runs.remote.TrainingProcess`), and this
thread only reads the batches it sends and posts them to the same
:class:`~genstudio.gui.mailbox.Mailbox` with the same ``_post``, yielding the same rare events —
so the views see exactly what a run on a thread shows them.

A child that ends without its ``Finished`` (killed, crashed, out of memory) ends the job with a
``Finished(reason="crashed")`` whose message says how it died and from which checkpoint Start with
Resume goes on; the window shows it as it shows any other run that stopped on a fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from genstudio.config import RunConfig
from genstudio.gui.mailbox import Mailbox
from genstudio.gui.training_job import _post
from genstudio.runs.events import Event, Finished, Paused, Progress, Snapshot, Started, Tick
from genstudio.runs.remote import ChildError, TrainingProcess, resumable_from

__all__ = ["process_job", "CRASHED", "POLL_S"]

#: ``Finished.reason`` of a run whose process died.
CRASHED = "crashed"
#: How long the relay waits for the child before it looks at its own quit flag again.
POLL_S = 0.05


def process_job(child: TrainingProcess, config: RunConfig, run_dir: str | Path, resume: bool,
                mailbox: Mailbox) -> Iterator[Event | None]:
    """Start ``config`` in ``child`` and relay its events (see the module docstring).

    Yields
    ------
    Started, Paused (by a fault), Snapshot, Finished
        As :func:`~genstudio.gui.training_job.training_job` does; None between batches.
    """
    child.start(config, run_dir, resume)
    started = finished = False
    step = 0
    try:
        while True:
            batch = child.receive(POLL_S)  # raises ChildError if the run raised: the worker reports it
            if batch is None:
                break
            for event in batch:
                _post(mailbox, event)
                if isinstance(event, (Tick, Progress, Started, Finished, Paused)):
                    step = event.step
                started = started or isinstance(event, Started)
                finished = finished or isinstance(event, Finished)
                if isinstance(event, (Started, Snapshot, Finished)) or (isinstance(event, Paused) and event.reason):
                    yield event
            if finished:
                break
            yield None
        if not finished and not child.detached:
            how = child.death()
            if not started:
                raise ChildError(f"the training process {how} before the run started")
            yield Finished(step, CRASHED, crash_message(how, step, run_dir))
    finally:
        child.close_events()
        child.close()  # stops a child still training (the job was quit), reaps it


def crash_message(how: str, step: int, run_dir: str | Path) -> str:
    """What the person reads when the training process died: how, and from where to resume."""
    kept = resumable_from(run_dir)
    text = f"The training process {how} after step {step:,}."
    if kept is None:
        return f"{text} No checkpoint was written yet: Start trains the run again from step 0."
    ckpt_step, path = kept
    return (f"{text} The run folder keeps step {ckpt_step:,} ({Path(run_dir).name}/checkpoints/{path.name}); "
            f"Start with Resume ticked goes on from there.")
