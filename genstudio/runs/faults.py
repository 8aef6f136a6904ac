"""What a training run does when a step goes wrong (Qt-free): divergence and out-of-memory.

The run loop in :mod:`genstudio.runs.loop` catches the faults; this module holds what it does about
them. A loss diverges when :class:`LossGuard` says so: it is NaN/inf, above the ceiling no sane run
of that loss reaches (:data:`LOSS_CEILINGS`), or over :data:`SPIKE_FACTOR` times its median over
the last logged values. A diverged state is never saved. A run that pauses on faults (the app's)
keeps a :class:`GoodState`, CPU copies of its last good state (its start, then each checkpoint it
writes), and rolls back to it, so nothing diverged is ever trained on. Settings that change neither
the model nor the data (:data:`LIVE_CHANGES`) can be changed before the run goes on: a lower
learning rate after a divergence, a smaller batch after running out of memory.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections import deque
from pathlib import Path
from typing import Any

import torch

from genstudio.config import ConfigError, RunConfig
from genstudio.runs.folder import RunDir
from genstudio.trainer import Trainer

__all__ = ["LIVE_CHANGES", "LOSS_CEILINGS", "GoodState", "LossGuard", "add_note", "apply_changes", "check_live_changes", "describe_changes", "with_live_changes", "one_line", "free_memory", "is_out_of_memory",
           "kept_message", "rollback_message", "with_notes"]

#: Settings a run can take on between two steps (they change neither the model nor the data): when
#: it resumes from a pause, or while it runs (``RunControl.change``). The GAN's own live options
#: (:data:`genstudio.gan.remedies.LIVE_GAN`: D's rate, the D:G step ratio, unrolling, R1) live in
#: ``config.extra``.
LIVE_CHANGES = ("lr", "batch", "d_lr", "d_steps", "unrolled", "r1")
_EXTRA_CHANGES = ("d_lr", "d_steps", "unrolled", "r1")


#: The most each loss reaches in a sane run (absolute value). A GAN's BCE losses are ~0.7-5 and
#: reach tens when one network wins outright; 1e3 means logits of 1e3, which only a runaway makes.
#: The diffusion loss is an MSE against unit-variance noise (~1 untrained, ~0.01-0.3 trained).
LOSS_CEILINGS = {"loss_D": 1e3, "loss_G": 1e3, "loss": 1e3}
DEFAULT_CEILING = 1e6  # a loss without its own ceiling
SPIKE_FACTOR = 1e3  # a loss over this many times its recent median has run away ...
SPIKE_FLOOR = 0.1  # ... a median below this counts as this (a near-zero loss may rise to ~100 legitimately)
HISTORY = 20  # logged values the median is taken over
MIN_HISTORY = 5  # values needed before the median is trusted


class LossGuard:
    """Judges logged losses: ``judge`` says why they count as diverged (or None); ``record`` adds
    values that passed to the recent history that spikes are measured against.

    Only keys starting with ``loss`` and holding a float are judged.
    """

    def __init__(self) -> None:
        self.history: dict[str, deque[float]] = {}

    def judge(self, values: dict[str, Any], step: int) -> str | None:
        """What diverged at ``step`` ("loss_D reached 9.3e+32 at step 10, …"), or None if all is sane."""
        for key, value in values.items():
            if not key.startswith("loss") or not isinstance(value, float):
                continue
            if not math.isfinite(value):
                return f"{key} became {value} at step {step}"
            ceiling = LOSS_CEILINGS.get(key, DEFAULT_CEILING)
            if abs(value) > ceiling:
                return f"{key} reached {value:.3g} at step {step}, above {ceiling:g}, which no sane run reaches"
            recent = self.history.get(key, ())
            if len(recent) >= MIN_HISTORY:
                median = statistics.median(recent)
                if value > SPIKE_FACTOR * max(median, SPIKE_FLOOR):
                    return (f"{key} jumped to {value:.3g} at step {step}, over {SPIKE_FACTOR:g} times "
                            f"its recent median {median:.3g}")
        return None

    def record(self, values: dict[str, Any]) -> None:
        """Add the judged-sane ``values`` to the history."""
        for key, value in values.items():
            if key.startswith("loss") and isinstance(value, float) and math.isfinite(value):
                self.history.setdefault(key, deque(maxlen=HISTORY)).append(value)


class GoodState:
    """CPU copies of a run's last good state: ``(tensors, meta)`` as ``Trainer.state()`` gives them,
    and ``path``, the checkpoint that holds it (None for the start of a fresh run)."""

    def __init__(self, trainer: Trainer, path: Path | None = None) -> None:
        self.keep(*trainer.state(), path=path)

    def keep(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any], path: Path | None = None) -> None:
        """Remember ``(tensors, meta)`` (copied: the live tensors go on changing)."""
        self.tensors = {k: v.detach().to("cpu", copy=True) for k, v in tensors.items()}
        self.meta = copy.deepcopy(meta)
        self.path = path

    def restore(self, trainer: Trainer) -> None:
        """Put ``trainer`` back to the kept state (weights, optimiser, RNG streams, step count)."""
        # clones: the optimiser adopts the tensors it is given, and this copy must outlive the next fault
        trainer.load_state({k: v.clone() for k, v in self.tensors.items()}, self.meta)
        set_lr(trainer, trainer.config.lr)  # a rate changed since this state was kept still holds


def rollback_message(what: str, step: int, lr: float, path: Path | None = None) -> str:
    """What the person reads after a divergence rolled the run back to ``step`` (held by ``path``)."""
    if path is not None:
        where = f"its last good checkpoint, {path.parent.name}/{path.name} (step {step})"
    elif step:
        where = f"step {step}"
    else:
        where = "its start (step 0; no checkpoint had been written)"
    return (f"{what}. The run went back to {where}, and nothing diverged was saved. Lower the "
            f"learning rate (now {lr:g}) and resume, or stop.")


def kept_message(what: str, step: int | None, path: Path | None, lr: float) -> str:
    """What the person reads after a divergence ended a run: exactly which checkpoint is kept, if any."""
    if path is None or step is None:
        return (f"{what}. No checkpoint was written before it, so nothing is kept; start again "
                f"(--resume starts over) with a lower learning rate than {lr:g}")
    return (f"{what}. The last good checkpoint, step {step} ({path.parent.name}/{path.name}, also "
            f"last.safetensors), is kept; resume with a lower learning rate than {lr:g}")


def check_live_changes(changes: dict[str, Any]) -> None:
    """Refuse settings other than the :data:`LIVE_CHANGES` (the one place that rule is written).

    Raises
    ------
    ConfigError
        If ``changes`` names another setting.
    """
    unknown = sorted(set(changes) - set(LIVE_CHANGES))
    if unknown:
        raise ConfigError(f"only {' and '.join(LIVE_CHANGES)} can change during a run, not {unknown}")


def with_live_changes(config: RunConfig, changes: dict[str, Any]) -> RunConfig:
    """``config`` with the :data:`LIVE_CHANGES` in ``changes``, validated.

    Raises
    ------
    ConfigError
        If a changed setting is impossible or not live-changeable.
    """
    check_live_changes(changes)
    if not changes:
        return config
    fields = {k: v for k, v in changes.items() if k not in _EXTRA_CHANGES}
    extra = {k: v for k, v in changes.items() if k in _EXTRA_CHANGES}
    if extra and config.kind != "gan":
        raise ConfigError(f"{', '.join(sorted(extra))} can change only in a GAN run, not {config.kind}")
    new = config.replace(**fields, extra={**config.extra, **extra}).validate()
    if new.kind == "gan":
        from genstudio.gan.remedies import gan_options

        gan_options(new)  # a remedy's value (and mbstd against a new batch) checked before the run sees it
    return new


def apply_changes(trainer: Trainer, rd: RunDir, changes: dict[str, Any]) -> RunConfig:
    """Give the run the :data:`LIVE_CHANGES` in ``changes`` (validated), record them in
    ``config.json`` (and when, in ``changes.jsonl``), and return the run's config.

    ``config.json`` is the one record of a run's live settings: whoever resumes the run later
    (the CLI's ``--resume``, the app's run panel) reads them back from it.
    """
    if changes:
        trainer.config = with_live_changes(trainer.config, changes)
        set_lr(trainer, trainer.config.lr)
        rd.write_config(trainer.config)
        rd.append_change(trainer.step, changes, describe_changes(changes))
    return trainer.config


#: How a live setting is named on the loss curves' marks.
CHANGE_LABELS = {"lr": "lr", "d_lr": "D lr", "batch": "batch", "d_steps": "D steps", "unrolled": "unrolled",
                 "r1": "R1 γ"}


def describe_changes(changes: dict[str, Any]) -> str:
    """A short label of settings changed mid-run, for the loss curves: ``"lr 0.0001 · R1 γ 10"``
    (in the order of :data:`CHANGE_LABELS`, whatever order ``changes`` came in)."""
    order = list(CHANGE_LABELS)
    keys = sorted(changes, key=lambda k: order.index(k) if k in order else len(order))
    return " · ".join(f"{CHANGE_LABELS.get(k, k)} {changes[k]:g}" if isinstance(changes[k], float)
                      else f"{CHANGE_LABELS.get(k, k)} {changes[k]}" for k in keys)


def set_lr(trainer: Trainer, lr: float) -> None:
    """Set every optimiser's learning rate (a network with its own rate, e.g. ``d_lr``, gets that)."""
    for role, opt in trainer.optimizers().items():
        for group in opt.param_groups:
            group["lr"] = trainer.learning_rate(role, lr)


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


def one_line(exc: BaseException) -> str:
    """The exception's message (or its type name when it has none) and its notes (what was saved)."""
    text = str(exc).strip()
    if not text:
        text = type(exc).__name__
    elif not type(exc).__module__.startswith("genstudio"):
        text = f"{type(exc).__name__}: {text}"
    return with_notes(text, exc)
