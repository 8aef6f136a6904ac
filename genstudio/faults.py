"""What a training run does when a step goes wrong (Qt-free): divergence and out-of-memory.

The run loop in :mod:`genstudio.training` catches the faults; this module holds what it does about
them. A run that pauses on faults (the app's) keeps a :class:`GoodState`, CPU copies of its last
good state (its start, then each checkpoint it writes), and rolls back to it when a loss turns
NaN/inf, so nothing diverged is ever saved or trained on. Settings that change neither the model
nor the data (:data:`LIVE_CHANGES`) can be changed before the run goes on: a lower learning rate
after a divergence, a smaller batch after running out of memory.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from genstudio.config import RunConfig
from genstudio.rundir import RunDir
from genstudio.trainer import Trainer

__all__ = ["LIVE_CHANGES", "GoodState", "add_note", "apply_changes", "free_memory", "is_out_of_memory",
           "rollback_message", "with_notes"]

#: Settings a paused run can take on when it resumes (they change neither the model nor the data).
LIVE_CHANGES = ("lr", "batch")


class GoodState:
    """CPU copies of a run's last good state: ``(tensors, meta)`` as ``Trainer.state()`` gives them."""

    def __init__(self, trainer: Trainer) -> None:
        self.keep(*trainer.state())

    def keep(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Remember ``(tensors, meta)`` (copied: the live tensors go on changing)."""
        self.tensors = {k: v.detach().to("cpu", copy=True) for k, v in tensors.items()}
        self.meta = copy.deepcopy(meta)

    def restore(self, trainer: Trainer) -> None:
        """Put ``trainer`` back to the kept state (weights, optimiser, RNG streams, step count)."""
        # clones: the optimiser adopts the tensors it is given, and this copy must outlive the next fault
        trainer.load_state({k: v.clone() for k, v in self.tensors.items()}, self.meta)
        set_lr(trainer, trainer.config.lr)  # a rate changed since this state was kept still holds


def rollback_message(what: str, step: int, lr: float) -> str:
    """What the person reads after a divergence rolled the run back to ``step``."""
    where = f"its last good checkpoint (step {step})" if step else "its start (step 0)"
    return (f"{what}. The run went back to {where}, and nothing diverged was saved. Lower the "
            f"learning rate (now {lr:g}) and resume, or stop.")


def apply_changes(trainer: Trainer, rd: RunDir, changes: dict[str, Any]) -> RunConfig:
    """Give the run the :data:`LIVE_CHANGES` in ``changes`` (validated), record them in
    ``config.json``, and return the run's config."""
    if changes:
        unknown = set(changes) - set(LIVE_CHANGES)
        if unknown:
            raise ValueError(f"only {', '.join(LIVE_CHANGES)} can change during a run, not {sorted(unknown)}")
        trainer.config = trainer.config.replace(**changes).validate()
        set_lr(trainer, trainer.config.lr)
        rd.write_config(trainer.config)
    return trainer.config


def set_lr(trainer: Trainer, lr: float) -> None:
    """Set every optimiser's learning rate."""
    for opt in trainer.optimizers().values():
        for group in opt.param_groups:
            group["lr"] = lr


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure (CUDA / MPS ``OutOfMemoryError``, CPU ``MemoryError``,
    or the ``RuntimeError`` torch's CPU allocator raises)."""
    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def free_memory(trainer: Trainer) -> None:
    """Drop what a failed step left behind (gradients, cached device blocks)."""
    for opt in trainer.optimizers().values():
        opt.zero_grad(set_to_none=True)
    if trainer.device.type == "cuda":
        torch.cuda.empty_cache()


def add_note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` as Python 3.11's ``add_note`` does (tracebacks print it), on 3.10 too."""
    if not hasattr(exc, "__notes__"):
        exc.__notes__ = []
    exc.__notes__.append(note)


def with_notes(text: str, exc: BaseException) -> str:
    """``text`` (a one-line account of ``exc``) followed by the notes attached to ``exc``, if any."""
    notes = " ".join(str(n) for n in getattr(exc, "__notes__", ()))
    if not notes:
        return text
    return f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} {notes}"
