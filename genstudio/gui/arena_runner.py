"""The arena in the app: :mod:`genstudio.arena`'s contenders trained off the GUI thread, their
evaluations sent to the Monitor as they come (``genstudio arena``, live).

:func:`arena_job` runs :func:`genstudio.arena.race` (the GAN, then the diffusion model) on one seed,
with torch on one thread (process-wide, while it runs) and each contender charged the CPU time of the job's own thread
(``time.thread_time``: the window's painting is not charged). It yields every
:class:`~genstudio.arena.ArenaPoint` and, at the end, an :class:`ArenaDone` with the table that
``genstudio arena`` prints, after writing ``arena.jsonl``, ``arena.md`` and ``arena.png`` in its
folder as the command does. :class:`ArenaRunner` owns the thread (one arena at a time); Stop ends
it after the current contender's evaluation, the run folders written so far kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

from genstudio.gui.generator_worker import GeneratorWorker, JobError, WorkerHost
from genstudio.safe_text import safe_text

__all__ = ["ArenaRunner", "ArenaDone", "arena_job"]


@dataclass(frozen=True)
class ArenaDone:
    """The arena has run: its table (Markdown) and the folder its files are in."""

    table: str
    folder: str


def arena_job(data: str, budget: float, seed: int, out: Path, evals: int = 10, n: int = 2000
              ) -> Iterator[Any]:
    """Both contenders on ``data`` for ``budget`` CPU-seconds each: ArenaPoints, then ArenaDone."""
    from genstudio.arena import race, write_results

    points = []
    for p in race(data, budget, [seed], out, evals=evals, n=n, clock=time.thread_time):
        points.append(p)
        yield p
    yield ArenaDone(write_results(points, data, budget, out, n), str(out))


class ArenaRunner(WorkerHost):
    """One arena at a time.

    Signals
    -------
    point(object)
        An :class:`~genstudio.arena.ArenaPoint`, as each evaluation is made.
    done(object)
        :class:`ArenaDone` at the end of an arena that was not stopped.
    failed(str)
        Why it could not go on, one line.
    busyChanged(bool)
        An arena started or ended.
    """

    point = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def start(self, data: str, budget: float, seed: int, out: Path, evals: int = 10, n: int = 2000) -> bool:
        """Start the arena (``evals`` evaluations per contender, ``n`` points sampled at each);
        False (nothing started) while one runs."""
        if self._closed or self._worker is not None:
            return False
        self._run_job("genstudio-arena", QThread.Priority.LowPriority, arena_job, data, float(budget),
                      int(seed), Path(out), int(evals), int(n))
        self.busyChanged.emit(True)
        return True

    @Slot()
    def stop(self) -> None:
        """End the arena at its next evaluation; nothing after reaches the Monitor."""
        if self._worker is not None:
            self._worker.quit()

    def _before_shutdown(self) -> None:
        self.stop()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, ArenaDone):
            self.done.emit(event)
        else:
            self.point.emit(event)

    @Slot(object)
    def _on_error(self, error: JobError) -> None:
        exc = error.error
        known = isinstance(exc, (ValueError, OSError, RuntimeError))
        self.failed.emit(safe_text(str(exc) if known else f"{type(exc).__name__}: {exc}"))

    def _on_job_ended(self, worker: GeneratorWorker) -> None:
        self.busyChanged.emit(False)
