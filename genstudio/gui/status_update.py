"""``RunStatusUpdate``: what a run tells the status bar, as one typed frozen object (Qt-free).

The training job (``training_job.py``) and the run-folder follower (``run_follower.py``) post updates
to a :class:`~genstudio.gui.mailbox.Mailbox`; the GUI timer drains them merged (the newest value of
each field wins) and hands them to the Monitor and :class:`~genstudio.gui.widgets.status.RunStatus`.
A field left at None was not part of the update, so a plain step tick does not wipe the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["RunStatusUpdate"]


@dataclass(frozen=True)
class RunStatusUpdate:
    """Fields of a run's status that changed; None means "not in this update"."""

    step: int | None = None  # optimiser steps done
    total: int | None = None  # steps the run goes to
    rate: float | None = None  # steps per second, recent
    elapsed: float | None = None  # seconds of training in this session
    device: str | None = None
    paused: bool | None = None
    notice: str | None = None  # for the person about the data ("" clears it), e.g. files skipped
    # what the status line does not show: the window and the Monitor react to them
    start_step: int | None = None  # where a (resumed) run started
    saved: str | None = None  # the checkpoint just written ...
    saved_step: int | None = None  # ... and its step
    real_points: Any = field(default=None, compare=False, repr=False)  # (n, 2) float32: 2-D real data
    reset: bool | None = None  # the followed run was resumed: its curves start over
    collapse: Any = field(default=None, compare=False, repr=False)  # genstudio.collapse.CollapseReport, newest
    settings_change: tuple[int, str] | None = None  # (step, label) of a setting changed mid-run

    def merged(self, newer: RunStatusUpdate) -> RunStatusUpdate:
        """This update with every field ``newer`` sets replaced by ``newer``'s value."""
        return RunStatusUpdate.merge_all((self, newer))

    @staticmethod
    def merge_all(updates: Sequence[RunStatusUpdate]) -> RunStatusUpdate:
        """One update holding the newest value of each field of ``updates`` (oldest first).

        Cheap enough for the GUI thread's drain of a fast run (a hundred updates a tick): one pass,
        newest first, over plain attribute dicts.
        """
        given: dict[str, Any] = {}
        for update in reversed(updates):
            for name, value in vars(update).items():
                if value is not None and name not in given:
                    given[name] = value
        return RunStatusUpdate(**given)

    def shown(self) -> RunStatusUpdate:
        """Only the fields the status line shows (step, total, rate, elapsed, device, paused, notice)."""
        return replace(self, start_step=None, saved=None, saved_step=None, real_points=None, reset=None,
                       collapse=None, settings_change=None)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))
