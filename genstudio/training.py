"""Training runs as generators of events (Qt-free).

``train(config, run_dir)`` yields one small immutable event per step (a cancellation and pause
point), a :class:`Progress` with metrics every ``log_every`` steps, a :class:`PreviewReady` now
and then, :class:`Saved` after each checkpoint and one :class:`Finished` at the end. The same
generator drives the terminal progress bar and the app's worker thread.

The run directory is the contract with other tools (see :mod:`genstudio.rundir`).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from genstudio.checkpoint import CheckpointError, load_checkpoint
from genstudio.config import RunConfig
from genstudio.data import load_dataset
from genstudio.devices import resolve_device
from genstudio.rundir import RunDir
from genstudio.trainer import Preview, Trainer


# ---------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Started:
    step: int  # first step to run (0, or where a resumed run continues)
    total: int
    device: str
    run_dir: str
    config: RunConfig


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
    step: int
    reason: str = ""


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

    def resume(self) -> None:
        self._run.set()

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
    """A run cannot start (bad folder, nothing to resume, unusable checkpoint)."""


# ---------------------------------------------------------------------------- building
def make_trainer(config: RunConfig, device: torch.device, *, rank: int = 0) -> Trainer:
    """Load the data set and build the trainer ``config`` asks for."""
    data = load_dataset(config.data, size=config.size, channels=config.channels,
                        num_points=config.num_points, seed=config.seed)
    torch.manual_seed(config.seed)  # weight initialisation is part of what the seed fixes
    if config.kind == "gan":
        from genstudio.gan import GanTrainer

        return GanTrainer(config, data, device, rank=rank)
    from genstudio.diffusion_trainer import DiffusionTrainer

    return DiffusionTrainer(config, data, device, rank=rank)


# ---------------------------------------------------------------------------- the run loop
def train(config: RunConfig, run_dir: str | Path, *, resume: bool = False,
          control: RunControl | None = None) -> Iterator[Event]:
    """Train ``config`` in ``run_dir``, yielding events. See the module docstring.

    With ``resume=True`` the run continues from ``run_dir/checkpoints/last.safetensors`` (weights,
    optimiser state, step count and RNG streams), up to ``config.steps``. A run stopped before its
    first checkpoint (``config.json`` but no checkpoint) has nothing to continue: it starts over.
    """
    config.validate()
    control = control or RunControl()
    rd = RunDir(run_dir)
    device = resolve_device(config.device)
    if resume and not rd.last_checkpoint.exists() and rd.config_path.exists():
        config = _continued(rd.read_config(), config)
        rd.truncate_metrics(0)  # lines logged before the kill belong to the lost attempt
        trainer = make_trainer(config, device)
    elif resume:
        if not rd.last_checkpoint.exists():
            raise RunError(f"nothing to resume in {rd.path}: no checkpoints/last.safetensors")
        tensors, meta = load_checkpoint(rd.last_checkpoint, kind=config.kind)
        config = _continued(RunConfig.from_dict(meta["config"]), config)
        trainer = make_trainer(config, device)
        try:
            trainer.load_state(tensors, meta, rd.last_checkpoint.name)
        except CheckpointError:
            raise
        except Exception as exc:  # shape mismatch inside the optimiser, etc.
            raise RunError(f"cannot resume from {rd.last_checkpoint}: {exc}") from None
        for opt in trainer.optimizers().values():  # a changed learning rate takes effect
            for group in opt.param_groups:
                group["lr"] = config.lr
        rd.truncate_metrics(trainer.step)
    else:
        if rd.has_run():
            raise RunError(f"{rd.path} already holds a run: use --resume to continue it, or choose a new folder")
        trainer = make_trainer(config, device)
    rd.write_config(config)
    yield Started(trainer.step, config.steps, str(device), str(rd.path), config)
    yield from _loop(trainer, rd, control)


def _continued(saved: RunConfig, config: RunConfig) -> RunConfig:
    """``saved`` (what defines the model and data) with the steps, lr, device and cadence of ``config``."""
    return saved.replace(steps=config.steps, device=config.device, lr=config.lr,
                         log_every=config.log_every, preview_every=config.preview_every,
                         checkpoint_every=config.checkpoint_every).validate()


def _loop(trainer: Trainer, rd: RunDir, control: RunControl) -> Iterator[Event]:
    config = trainer.config
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, torch.Tensor] = {}
    t0 = time.perf_counter()
    last_t, last_step = t0, trainer.step
    rate = 0.0
    reason, message = "done", ""
    last_saved: str | None = None
    while trainer.step < config.steps:
        yield from _requests(trainer, rd, control)
        if control.paused:
            yield Paused(trainer.step)
            while not control.wait_while_paused(0.05):  # save / snapshot requests work while paused
                yield from _requests(trainer, rd, control)
        if control.stop_requested:
            reason = "stopped"
            break
        try:
            metrics = trainer.train_step(trainer.next_batch())
        except torch.OutOfMemoryError:  # CUDA or MPS out of memory: keep the last good state
            reason, message = "out of memory", f"out of memory at step {trainer.step + 1} with batch " \
                                               f"{config.batch}; resume with a smaller batch"
            break
        trainer.step += 1
        step = trainer.step
        for k, v in metrics.items():
            finite = torch.isfinite(v)
            sums[k] = sums.get(k, 0) + torch.where(finite, v, torch.zeros_like(v))
            counts[k] = counts.get(k, 0) + finite.to(v.dtype)
            if k.startswith("loss"):  # a NaN/inf loss must not be averaged away
                sums[k] = sums[k] + torch.where(finite, torch.zeros_like(v), v)
        if step % config.log_every == 0 or step == config.steps:
            values = _mean_metrics(sums, counts)
            sums, counts = {}, {}
            now = time.perf_counter()
            rate = (step - last_step) / max(now - last_t, 1e-9)
            last_t, last_step = now, step
            bad = [k for k, v in values.items() if isinstance(v, float) and k.startswith("loss")
                   and not math.isfinite(v)]
            if bad:
                reason = "diverged"
                message = (f"{bad[0]} became {values[bad[0]]} at step {step}; the last good checkpoint "
                           f"is kept (try a lower learning rate than {config.lr:g})")
                rd.append_metrics(step, values)
                break
            rd.append_metrics(step, values)
            yield Progress(step, config.steps, values, now - t0, rate)
        else:
            yield Tick(step, config.steps)
        if step % config.preview_every == 0 or step == config.steps:
            preview = trainer.preview()
            rd.write_preview(step, preview)
            yield PreviewReady(step, preview)
        if step % config.checkpoint_every == 0 and step != config.steps:
            path = _save(trainer, rd, keep=True)
            if path is None:
                reason, message = "diverged", f"weights became NaN/inf by step {step}; last good checkpoint kept"
                break
            last_saved = str(path)
            yield Saved(step, last_saved)
    if reason in ("done", "stopped"):
        path = _save(trainer, rd, keep=True)
        if path is not None:
            last_saved = str(path)
            yield Saved(trainer.step, last_saved)
        else:
            reason, message = "diverged", f"weights are NaN/inf at step {trainer.step}; last good checkpoint kept"
    yield Finished(trainer.step, reason, message, last_saved)


def _requests(trainer: Trainer, rd: RunDir, control: RunControl) -> Iterator[Event]:
    """Honour save and snapshot requests between steps."""
    if control.take_save_request():
        path = _save(trainer, rd, keep=True)
        if path is not None:
            yield Saved(trainer.step, str(path))
    if control.take_snapshot_request():
        tensors, meta = trainer.state()
        copies = {k: v.detach().to("cpu", copy=True) for k, v in tensors.items()}  # never the live weights
        yield Snapshot(trainer.step, copies, copy.deepcopy(meta))


def _mean_metrics(sums: dict[str, torch.Tensor], counts: dict[str, torch.Tensor]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, s in sums.items():
        c = counts[k]
        mean = (s / c.clamp(min=1)).where(c > 0, torch.full_like(s, float("nan")))
        if "loss" in k:
            mean = torch.where(torch.isfinite(s), mean, s)  # keep NaN/inf visible for divergence checks
        arr = mean.detach().float().cpu().numpy()
        out[k] = float(arr) if arr.ndim == 0 else [float(x) for x in arr]
    return out


def _save(trainer: Trainer, rd: RunDir, keep: bool) -> Path | None:
    """Write step_N and last checkpoints unless the weights are not finite (then None)."""
    if not trainer.all_finite():
        return None
    tensors, meta = trainer.state()
    return rd.save_checkpoint(trainer.step, tensors, meta, keep=keep)


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
