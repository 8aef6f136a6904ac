"""The events a training run yields (small, immutable): what the CLI's progress bar and the app's
worker see of a run (Qt-free).

One :class:`Tick` or :class:`Progress` per step, :class:`PreviewReady` now and then, :class:`Saved`
after each checkpoint, :class:`Paused` and :class:`Snapshot` on request or on a fault, and one
:class:`Finished` at the end (see :func:`genstudio.runs.loop.train`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from genstudio.config import RunConfig
from genstudio.trainer import Preview


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
    alarm: Any = None  # a genstudio.collapse.CollapseReport of these samples, or None (no known modes)


@dataclass(frozen=True)
class SettingsChanged:
    """Settings changed between two steps (``RunControl.change`` / ``resume``): in effect from step ``step + 1``."""

    step: int
    changes: dict[str, Any]
    label: str  # short, for a mark on the loss curves: "lr 0.0001 · R1 γ 10"


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


Event = Started | Tick | Progress | PreviewReady | SettingsChanged | Saved | Paused | Snapshot | Finished
