"""Starting a run: the trainer a config asks for, and the plan of a new or resumed run in its folder
(Qt-free).

:func:`start_run` locks the folder (one writer: :mod:`genstudio.runs.lock`), decides what the run
starts from (nothing, or the folder's last checkpoint with the saved model and data settings), loads
that state into a new trainer and writes the config. Under torchrun rank 0 plans for every rank.
"""

from __future__ import annotations

from typing import Any

import torch

from genstudio.checkpoint import CheckpointError, load_checkpoint
from genstudio.config import RunConfig
from genstudio.data import Dataset, load_dataset
from genstudio.runs import distributed
from genstudio.runs.faults import set_lr
from genstudio.runs.folder import RunDir, describe_path
from genstudio.runs.lock import RunLock, RunLocked, lock_run
from genstudio.trainer import Trainer


class RunError(Exception):
    """A run cannot start (bad folder, nothing to resume, unusable checkpoint, another writer)."""


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



def start_run(config: RunConfig, rd: RunDir, resume: bool, device: torch.device,
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
        config, tensors, meta, note = _plan(config, rd, resume)
        return lock, (_own_drawing(config, rd, resume), tensors, meta, note)
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


def _own_drawing(config: RunConfig, rd: RunDir, resume: bool) -> RunConfig:
    """A run on a drawing (``points:FILE``) trains on its own copy, ``RUN/points.npy``, and its config
    names that copy: a new run copies the drawing there; a resumed one reads the copy in its folder
    (wherever the folder has moved), never the file the drawing once came from."""
    from genstudio.data.drawn import PREFIX, drawing_path, is_drawn, read_drawing, write_drawing

    if not is_drawn(config.data):
        return config
    if not resume or not rd.drawing.exists():
        write_drawing(rd.drawing, read_drawing(drawing_path(config.data)))
    return config.replace(data=f"{PREFIX}{rd.drawing.resolve()}")


#: ``config.extra`` entries that only steer the optimisation, so a resumed run takes them when given anew
RESUME_MAY_CHANGE = ("min_snr",)
#: ``config.extra`` entries that only say how a step runs on this machine (mixed precision, torch.compile): like
#: the device, a resumed run takes them from the new config, given or not
EXECUTION_EXTRAS = ("amp", "compile")


def _continued(saved: RunConfig, config: RunConfig) -> RunConfig:
    """``saved`` (what defines the model and data) with the steps, lr, batch, device, cadence and
    :data:`EXECUTION_EXTRAS` of ``config``, and its ``RESUME_MAY_CHANGE`` extras where it has them (else the
    saved run's)."""
    extra = {k: v for k, v in saved.extra.items() if k not in EXECUTION_EXTRAS}
    extra.update({k: config.extra[k] for k in (*RESUME_MAY_CHANGE, *EXECUTION_EXTRAS) if k in config.extra})
    return saved.replace(steps=config.steps, device=config.device, lr=config.lr, batch=config.batch,
                         log_every=config.log_every, preview_every=config.preview_every,
                         checkpoint_every=config.checkpoint_every, extra=extra).validate()

