"""Training runs as generators of events (Qt-free).

``train(config, run_dir)`` yields one small immutable event per step (a cancellation and pause
point), a :class:`Progress` with metrics every ``log_every`` steps, a :class:`PreviewReady` now
and then, :class:`Saved` after each checkpoint and one :class:`Finished` at the end (the events:
:mod:`genstudio.runs.events`). The same generator drives the terminal progress bar and the app's
worker thread.

The run directory is the contract with other tools (see :mod:`genstudio.runs.folder`). The process
that writes it holds its lock for the whole run (see :mod:`genstudio.runs.lock`); how a run starts
or resumes there is :mod:`genstudio.runs.start`.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Iterator

from genstudio.config import RunConfig
from genstudio.devices import resolve_device
from genstudio.runs import distributed
from genstudio.runs.control import RunControl
from genstudio.runs.events import (
    Event, Finished, Paused, PreviewReady, Progress, Saved, SettingsChanged, Snapshot, Started, Tick,
)
from genstudio.runs.faults import (
    GoodState, add_note, apply_changes, describe_changes, free_memory, is_out_of_memory, kept_message, rollback_message,
)
from genstudio.collapse import assess
from genstudio.runs.folder import NoWriteRunDir, RunDir
from genstudio.runs.lock import RunLock
from genstudio.runs.start import start_run
from genstudio.runs.step_losses import StepLosses
from genstudio.trainer import Trainer

#: What a run does on a NaN/inf loss or an out-of-memory step: end (the CLI) or pause (the app).
ON_FAULT = ("stop", "pause")


def train(config: RunConfig, run_dir: str | Path, *, resume: bool = False,
          control: RunControl | None = None, on_fault: str = "stop") -> Iterator[Event]:
    """Train ``config`` in ``run_dir``, yielding events. See the module docstring.

    With ``resume=True`` the run continues from ``run_dir/checkpoints/last.safetensors`` (weights,
    optimiser state, step count and RNG streams), up to ``config.steps``. A run stopped before its
    first checkpoint (``config.json`` but no checkpoint) has nothing to continue: it starts over.

    Only one process writes a run folder: the run holds ``run_dir/.lock`` from before it reads the
    folder until it ends, and a second writer gets a :class:`RunError` naming the holder.
    ``resume=True`` on a folder with no config and no checkpoint (a run killed while setting up)
    starts it fresh and says so in ``Started.note``.

    ``on_fault`` says what a diverged loss (NaN/inf, or runaway: see
    :class:`~genstudio.runs.faults.LossGuard`), NaN weights and an out-of-memory step do. "stop" (the
    CLI): the run ends with ``Finished("diverged" | "out of memory")``; a diverged state is never
    saved, an out-of-memory one is (its weights are fine), and the message names the checkpoint
    kept, or says none is. "pause" (the app): a diverged run
    rolls back to its last good state (the last checkpoint it wrote, or its start) and the metrics
    log with it; either fault then yields ``Paused(step, reason, message)`` and waits.
    ``control.resume(lr=…, batch=…)`` goes on with new settings; ``control.request_stop()`` ends
    the run, saving the good state.

    Started by torchrun (``WORLD_SIZE`` > 1), every rank calls this and the run is data-parallel
    (see :mod:`genstudio.runs.distributed`): rank 0 alone reads and writes ``run_dir``, metrics are
    averaged over ranks, and a stop on any rank stops all of them after the same step.
    """
    if on_fault not in ON_FAULT:
        raise ValueError(f"on_fault must be one of {ON_FAULT}, not {on_fault!r}")
    info = distributed.env_info()
    if info.enabled and on_fault != "stop":
        raise ValueError("a multi-process run cannot pause on faults: use on_fault='stop'")
    config.validate()
    control = control or RunControl()
    rd = RunDir(run_dir)
    created = False
    if info.enabled:
        device, created = distributed.setup(info, config.device)
        if not info.is_main:
            rd = NoWriteRunDir(rd.path)
    else:
        device = resolve_device(config.device)
    lock: RunLock | None = None
    try:
        trainer, lock, note = start_run(config, rd, resume, device, info)
        config = trainer.config
        notice = "; ".join(text for text in (note, trainer.data.notice) if text)
        yield Started(trainer.step, config.steps, str(device), str(rd.path), config, notice)
        yield from _loop(trainer, rd, control, on_fault)
        if info.enabled:
            params = {f"model/{role}/{name}" for role, module in trainer.modules().items()
                      for name, _ in module.named_parameters()}
            distributed.write_digest(info, trainer.step, trainer.state()[0], params)
    finally:
        if lock is not None:
            lock.release()
        if created:
            distributed.teardown()



def _loop(trainer: Trainer, rd: RunDir, control: RunControl, on_fault: str = "stop") -> Iterator[Event]:
    config = trainer.config
    losses = StepLosses()
    t0 = time.perf_counter()
    last_t, last_step = t0, trainer.step
    rate = 0.0
    reason, message = "done", ""
    last_saved: str | None = None
    kept = _resumed_from(trainer, rd)  # (step, file) of the last good checkpoint on disk, or None
    good = GoodState(trainer, kept[1] if kept else None) if on_fault == "pause" else None  # rollback target
    halt: Paused | None = None  # the fault that paused the run, announced at the top of the loop
    while trainer.step < config.steps:
        yield from _requests(trainer, rd, control, good, losses)
        if control.paused:
            yield halt or Paused(trainer.step)
            halt = None
            while not control.wait_while_paused(0.05):  # save / snapshot requests work while paused
                yield from _requests(trainer, rd, control, good, losses)
            last_t, last_step = time.perf_counter(), trainer.step
        changes = control.take_changes()
        if changes:
            config = apply_changes(trainer, rd, changes)
            yield SettingsChanged(trainer.step, changes, describe_changes(changes))
        if distributed.any_rank(control.stop_requested):  # one collective a step in multi-process runs
            reason = "stopped"
            break
        try:
            metrics = trainer.train_step(trainer.next_batch())
        except Exception as exc:
            if not is_out_of_memory(exc):  # a bug, a bad file met mid-run, a device error
                _keep_finished_steps(trainer, rd, good, losses, exc)
                raise
            # CUDA, MPS or CPU out of memory
            free_memory(trainer)
            message = f"out of memory at step {trainer.step + 1} with batch {config.batch}; " \
                      f"try a smaller batch"
            if good is not None:  # the weights are fine: pause where we are
                control.pause()
                halt = Paused(trainer.step, "out of memory", message)
                continue
            reason = "out of memory"
            break
        trainer.step += 1
        step = trainer.step
        losses.add(metrics)
        if step % config.log_every == 0 or step == config.steps:
            values = losses.take()
            now = time.perf_counter()
            rate = (step - last_step) / max(now - last_t, 1e-9)
            last_t, last_step = now, step
            what = losses.guard.judge(values, step)
            if what:
                if good is not None:
                    halt = _roll_back(trainer, rd, control, good, what)
                    continue
                reason, message = "diverged", kept_message(what, *(kept or (None, None)), config.lr)
                rd.append_metrics(step, values)
                break
            losses.guard.record(values)
            rd.append_metrics(step, values)
            yield Progress(step, config.steps, values, now - t0, rate)
        else:
            yield Tick(step, config.steps)
        if rd.writable and (step % config.preview_every == 0 or step == config.steps):
            preview = trainer.preview()
            rd.write_preview(step, preview)
            yield PreviewReady(step, preview, assess(preview, trainer.data))
        if control.take_step_done():  # slow motion: paused again after one step, showing what it did
            yield PreviewReady(step, trainer.slow_motion())
        if step % config.checkpoint_every == 0 and step != config.steps:
            path, what = _save(trainer, rd, keep=True, good=good, losses=losses)
            if path is None:
                if good is not None:
                    losses.clear()
                    halt = _roll_back(trainer, rd, control, good, what)
                    continue
                reason, message = "diverged", kept_message(what, *(kept or (None, None)), config.lr)
                break
            kept = (step, rd.step_checkpoint(step))
            last_saved = str(path)
            yield Saved(step, last_saved)
    if reason in ("done", "stopped", "out of memory"):
        try:  # after an out-of-memory step the ranks may stand apart: no collective
            path, what = _save(trainer, rd, keep=True, good=good, losses=losses,
                               collective=reason != "out of memory")
        except (MemoryError, RuntimeError) as exc:  # no memory left even to save: the last checkpoint stays
            if reason != "out of memory" or not is_out_of_memory(exc):
                raise
            path, what = None, ""
        if path is not None:
            last_saved = str(path)
            yield Saved(trainer.step, last_saved)
            if reason == "out of memory":
                message += f"; step {trainer.step} is saved"
        elif reason != "out of memory":
            reason, message = "diverged", kept_message(what, *(kept or (None, None)), config.lr)
    yield Finished(trainer.step, reason, message, last_saved)


def _resumed_from(trainer: Trainer, rd: RunDir) -> tuple[int, Path] | None:
    """``(step, file)`` of the checkpoint a resumed run started from, or None for a run from step 0."""
    if trainer.step == 0 or not rd.last_checkpoint.exists():
        return None
    file = rd.step_checkpoint(trainer.step)
    return trainer.step, file if file.exists() else rd.last_checkpoint


def _roll_back(trainer: Trainer, rd: RunDir, control: RunControl, good: GoodState, what: str) -> Paused:
    """Return to the last good state after a divergence, pause, and say so."""
    good.restore(trainer)
    rd.truncate_metrics(trainer.step)  # the log continues from the good step without repeats
    control.pause()
    return Paused(trainer.step, "diverged", rollback_message(what, trainer.step, trainer.config.lr, good.path))


def _requests(trainer: Trainer, rd: RunDir, control: RunControl,
              good: GoodState | None = None, losses: StepLosses | None = None) -> Iterator[Event]:
    """Honour save and snapshot requests between steps (a diverged state is not saved)."""
    if control.take_save_request():
        path, _ = _save(trainer, rd, keep=True, good=good, losses=losses)
        if path is not None:
            yield Saved(trainer.step, str(path))
    if control.take_snapshot_request():
        tensors, meta = trainer.state()
        copies = {k: v.detach().to("cpu", copy=True) for k, v in tensors.items()}  # never the live weights
        yield Snapshot(trainer.step, copies, copy.deepcopy(meta))


def _keep_finished_steps(trainer: Trainer, rd: RunDir, good: GoodState | None, losses: StepLosses,
                         exc: Exception) -> None:
    """Save the steps finished before ``exc`` ended the run (unless they diverged), and say so on ``exc``.

    The failed step changed nothing that counts (its step was not taken) or only part of one
    optimiser step, so the weights are those of step ``trainer.step`` or a hair past it.
    """
    if not rd.writable:
        return
    try:
        path, what = _save(trainer, rd, keep=True, good=good, losses=losses, collective=False)
    except Exception as again:  # the disk or the device is gone too: the last checkpoint stays
        add_note(exc, f"GenStudio could not save step {trainer.step} either ({again}); the last checkpoint stays.")
        return
    if path is not None:
        add_note(exc, f"Step {trainer.step} is saved ({path.name}); the run can be resumed.")
    else:
        add_note(exc, f"Step {trainer.step} is not saved ({what}); the last checkpoint stays.")


def _save(trainer: Trainer, rd: RunDir, keep: bool, good: GoodState | None = None,
          losses: StepLosses | None = None, collective: bool = True) -> tuple[Path | None, str]:
    """Write step_N and last checkpoints and return ``(last, "")``, unless the state diverged: then
    ``(None, what diverged)``, when the losses not yet logged ran away or the weights are not finite.

    ``good``, if given, keeps a copy of what was saved: the state a later divergence rolls back to.
    """
    what = losses.pending_fault(trainer.step, collective) if losses is not None else None
    if what:
        return None, what
    if not trainer.all_finite():  # the same on every rank: DDP keeps their weights identical
        return None, f"the weights became NaN/inf by step {trainer.step}"
    if not rd.writable:  # not rank 0
        return rd.last_checkpoint, ""
    tensors, meta = trainer.state()
    path = rd.save_checkpoint(trainer.step, tensors, meta, keep=keep)
    if good is not None:
        good.keep(tensors, meta, rd.step_checkpoint(trainer.step) if keep else path)
    return path, ""


def run_to_end(config: RunConfig, run_dir: str | Path, **kwargs: Any) -> Finished:
    """Drive :func:`train` to the end without a UI and return its :class:`Finished` event."""
    last = None
    for event in train(config, run_dir, **kwargs):
        last = event
    assert isinstance(last, Finished)
    return last

