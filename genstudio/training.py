"""Training runs as generators of events (Qt-free).

``train(config, run_dir)`` yields one small immutable event per step (a cancellation and pause
point), a :class:`Progress` with metrics every ``log_every`` steps, a :class:`PreviewReady` now
and then, :class:`Saved` after each checkpoint and one :class:`Finished` at the end. The same
generator drives the terminal progress bar and the app's worker thread.

The run directory is the contract with other tools (see :mod:`genstudio.rundir`). The process
that writes it holds its lock for the whole run (see :mod:`genstudio.runlock`).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from genstudio import distributed
from genstudio.checkpoint import CheckpointError, load_checkpoint
from genstudio.config import RunConfig
from genstudio.data import Dataset, load_dataset
from genstudio.faults import (
    GoodState, add_note, apply_changes, check_live_changes, free_memory, is_out_of_memory, kept_message,
    rollback_message, set_lr,
)
from genstudio.devices import resolve_device
from genstudio.rundir import NoWriteRunDir, RunDir, describe_path
from genstudio.runlock import RunLock, RunLocked, lock_run
from genstudio.step_losses import StepLosses
from genstudio.trainer import Preview, Trainer


# ---------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Started:
    step: int  # first step to run (0, or where a resumed run continues)
    total: int
    device: str
    run_dir: str
    config: RunConfig
    notice: str = ""  # for the user about the data, e.g. image files of a folder that were skipped


@dataclass(frozen=True)
class Tick:
    """One step done (no metrics read: reading them would force a GPU sync every step)."""

    step: int
    total: int


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    metrics: dict[str, Any]  # floats, or lists of floats (e.g. "bands": loss per timestep band)
    elapsed: float  # seconds of training in this session
    rate: float  # steps per second, recent


@dataclass(frozen=True)
class PreviewReady:
    step: int
    preview: Preview


@dataclass(frozen=True)
class Saved:
    step: int
    path: str


@dataclass(frozen=True)
class Paused:
    """The run is paused at ``step``: on request (``reason`` ""), or by a fault in a run that pauses
    on faults (``reason`` "diverged" | "out of memory", ``message`` saying what happened and what to do)."""

    step: int
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class Finished:
    step: int
    reason: str  # "done" | "stopped" | "diverged" | "out of memory"
    message: str = ""
    checkpoint: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The run's full state on request (``RunControl.request_snapshot``): CPU tensor copies.

    ``tensors`` and ``meta`` have the checkpoint layout of ``Trainer.state()``, so they can be
    handed to ``GanModel.from_checkpoint`` / ``DiffusionModel.from_checkpoint`` directly.
    """

    step: int
    tensors: dict[str, torch.Tensor] = field(repr=False)
    meta: dict[str, Any] = field(repr=False)


Event = Started | Tick | Progress | PreviewReady | Saved | Paused | Snapshot | Finished


class RunControl:
    """Stop / pause / save / snapshot flags shared between a run and whoever drives it (thread-safe)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._run = threading.Event()
        self._run.set()
        self._save = threading.Event()
        self._snapshot = threading.Event()
        self._lock = threading.Lock()
        self._changes: dict[str, Any] = {}

    def request_save(self) -> None:
        """Write a checkpoint (step_N and last) between the next two steps, even while paused."""
        self._save.set()

    def request_snapshot(self) -> None:
        """Yield a :class:`Snapshot` (CPU copies of the state) between the next two steps."""
        self._snapshot.set()

    def take_save_request(self) -> bool:
        """True once per :meth:`request_save` (clears the flag)."""
        if self._save.is_set():
            self._save.clear()
            return True
        return False

    def take_snapshot_request(self) -> bool:
        """True once per :meth:`request_snapshot` (clears the flag)."""
        if self._snapshot.is_set():
            self._snapshot.clear()
            return True
        return False

    def request_stop(self) -> None:
        self._stop.set()
        self._run.set()  # wake a paused run so it can stop

    def pause(self) -> None:
        self._run.clear()

    def resume(self, **changes: Any) -> None:
        """Resume a paused run; ``changes`` (``lr``, ``batch``: see :data:`LIVE_CHANGES`) apply
        before its next step, e.g. a lower learning rate after a divergence."""
        check_live_changes(changes)
        with self._lock:
            self._changes.update(changes)
        self._run.set()

    def take_changes(self) -> dict[str, Any]:
        """The settings changed by :meth:`resume` since the last call (clears them)."""
        with self._lock:
            changes, self._changes = self._changes, {}
        return changes

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._run.is_set() and not self._stop.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block until resumed or stopped (or ``timeout`` seconds); True if no longer paused."""
        return self._run.wait(timeout)


class RunError(Exception):
    """A run cannot start (bad folder, nothing to resume, unusable checkpoint, another writer)."""


#: What a run does on a NaN/inf loss or an out-of-memory step: end (the CLI) or pause (the app).
ON_FAULT = ("stop", "pause")


# ---------------------------------------------------------------------------- building
def check_batch_fits(batch: int, data: Dataset) -> None:
    """Refuse a batch larger than the data set (with ``batch`` the global batch of all processes).

    Batches are drawn with replacement, so such a run would go, but every batch would repeat its
    images several times over: the batch size (and the learning rate chosen for it) would mean
    something else than it says, and batch norm would see duplicates. Shrinking the batch without
    asking would change the run behind the user's back, so the run refuses and says what fits.

    Raises
    ------
    RunError
        ``batch`` > ``len(data)``.
    """
    n = len(data)
    if batch > n:
        items = "points" if data.kind == "points" else ("image" if n == 1 else "images")
        more = ", or add images to the folder" if data.name.lower().startswith("folder:") else ""
        raise RunError(f"batch {batch:,} is larger than the data set ({n:,} {items} in {data.name}): "
                       f"use a batch of at most {n:,}{more}")


def make_trainer(config: RunConfig, device: torch.device, *, rank: int = 0, world_size: int = 1) -> Trainer:
    """Load the data set and build the trainer ``config`` asks for (``rank`` of ``world_size``)."""
    data = load_dataset(config.data, size=config.size, channels=config.channels,
                        num_points=config.num_points, seed=config.seed)
    check_batch_fits(config.batch, data)
    torch.manual_seed(config.seed)  # weight initialisation is part of what the seed fixes
    from genstudio.families import get_family

    return get_family(config.kind).make_trainer(config, data, device, rank=rank, world_size=world_size)


# ---------------------------------------------------------------------------- the run loop
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
    :class:`~genstudio.faults.LossGuard`), NaN weights and an out-of-memory step do. "stop" (the
    CLI): the run ends with ``Finished("diverged" | "out of memory")``; a diverged state is never
    saved, an out-of-memory one is (its weights are fine), and the message names the checkpoint
    kept, or says none is. "pause" (the app): a diverged run
    rolls back to its last good state (the last checkpoint it wrote, or its start) and the metrics
    log with it; either fault then yields ``Paused(step, reason, message)`` and waits.
    ``control.resume(lr=…, batch=…)`` goes on with new settings; ``control.request_stop()`` ends
    the run, saving the good state.

    Started by torchrun (``WORLD_SIZE`` > 1), every rank calls this and the run is data-parallel
    (see :mod:`genstudio.distributed`): rank 0 alone reads and writes ``run_dir``, metrics are
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
        trainer, lock, note = _start(config, rd, resume, device, info)
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


def _start(config: RunConfig, rd: RunDir, resume: bool, device: torch.device,
           info: distributed.DistInfo) -> tuple[Trainer, RunLock | None, str]:
    """The trainer of a new or resumed run, its config written, the folder's lock (rank 0 holds it)
    and a note on how it started; rank 0 reads the folder for all ranks."""
    lock = None
    if not info.enabled:
        lock, (config, tensors, meta, note) = _claim(config, rd, resume)
    else:
        plan: Any = None
        if info.is_main:
            try:
                lock, planned = _claim(config, rd, resume)
                plan = ("ok", *planned)
            except Exception as exc:
                distributed.broadcast_from_main(("error", str(exc)))
                raise
        plan = distributed.broadcast_from_main(plan)
        if plan[0] == "error":  # rank 0 raised (and says why); the others end quietly
            raise RunError(f"rank 0 could not start the run: {plan[1]}")
        _, config, tensors, meta, note = plan
    try:
        return _build(config, rd, resume, device, info, tensors, meta), lock, note
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _claim(config: RunConfig, rd: RunDir, resume: bool) -> tuple[RunLock, tuple[Any, ...]]:
    """Lock ``rd`` for this process and plan the run in it (see :func:`_plan`)."""
    if rd.path.exists() and not rd.path.is_dir():
        raise RunError(f"{rd.path} is {describe_path(rd.path)}, not a run folder")
    if resume and not rd.path.exists():
        raise RunError(f"nothing to resume: {rd.path} does not exist (start a new run there instead)")
    try:
        lock = lock_run(rd.path)
    except RunLocked as exc:
        raise RunError(str(exc)) from None
    try:
        return lock, _plan(config, rd, resume)
    except BaseException:
        lock.release()
        raise


def _build(config: RunConfig, rd: RunDir, resume: bool, device: torch.device, info: distributed.DistInfo,
           tensors: dict[str, torch.Tensor] | None, meta: dict[str, Any] | None) -> Trainer:
    """The trainer of the planned run, its state loaded and its config written."""
    trainer = make_trainer(config, device, rank=info.rank, world_size=info.world_size)
    if tensors is not None:
        try:
            trainer.load_state(tensors, meta, rd.last_checkpoint.name)
        except CheckpointError:
            raise
        except Exception as exc:  # shape mismatch inside the optimiser, etc.
            raise RunError(f"cannot resume from {rd.last_checkpoint}: {exc}") from None
        set_lr(trainer, config.lr)  # a changed learning rate takes effect
    if resume:
        rd.truncate_metrics(trainer.step)  # lines logged after the checkpoint belong to a lost attempt
    rd.write_config(config)
    if info.enabled:
        trainer.wrap_distributed()
    if config.extra.get("compile", False):
        trainer.compile_modules()  # after DDP, as PyTorch recommends
    return trainer


def _plan(config: RunConfig, rd: RunDir, resume: bool
          ) -> tuple[RunConfig, dict[str, torch.Tensor] | None, dict[str, Any] | None, str]:
    """``(config, tensors, meta, note)`` of the run to start: the checkpoint to resume from, or None.

    ``--resume`` on a folder holding neither config nor checkpoint (a run killed while it loaded its
    data) starts it fresh: nothing was trained, so nothing is lost, and the command that was
    interrupted works when given again. ``note`` says so.
    """
    if resume and not rd.has_run():
        return config, None, None, (f"nothing to resume in {rd.path} yet (no config.json, no checkpoint): "
                                    f"starting it fresh")
    if resume and not rd.last_checkpoint.exists():
        return _continued(rd.read_config(), config), None, None, ""  # killed before its first checkpoint
    if resume:
        tensors, meta = load_checkpoint(rd.last_checkpoint, kind=config.kind)
        return _continued(RunConfig.from_dict(meta["config"]), config), tensors, meta, ""
    if rd.has_run():
        raise RunError(f"{rd.path} already holds a run: use --resume to continue it, or choose a new folder")
    return config, None, None, ""


def _continued(saved: RunConfig, config: RunConfig) -> RunConfig:
    """``saved`` (what defines the model and data) with the steps, lr, batch, device and cadence of
    ``config``."""
    return saved.replace(steps=config.steps, device=config.device, lr=config.lr, batch=config.batch,
                         log_every=config.log_every, preview_every=config.preview_every,
                         checkpoint_every=config.checkpoint_every).validate()


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
        config = apply_changes(trainer, rd, control.take_changes())
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
            yield PreviewReady(step, preview)
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


def preview_to_uint8(preview: Preview) -> np.ndarray:
    """An (H, W, 3) uint8 grid for an image preview (used for PNGs and the app)."""
    from genstudio.imaging import make_grid

    return make_grid(preview.data)
