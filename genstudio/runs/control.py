"""``RunControl``: the stop / pause / save / snapshot flags between a run and whoever drives it
(Qt-free, thread-safe); the run checks them between two steps."""

from __future__ import annotations

import threading
from typing import Any

from genstudio.runs.faults import check_live_changes


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
        self._one_step = False  # step_once: run one step, then pause again

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

    def step_once(self) -> None:
        """Slow motion: run exactly one more step, then pause again (the run yields a
        :class:`~genstudio.runs.events.PreviewReady` of that step, with what it did: see
        ``Trainer.slow_motion``). Asked of a running run, it pauses after its next step."""
        with self._lock:
            self._one_step = True
        self._run.set()

    def take_step_done(self) -> bool:
        """Called by the run after each step: True (and paused again) if that step was a :meth:`step_once`."""
        with self._lock:
            one, self._one_step = self._one_step, False
        if one and not self._stop.is_set():
            self._run.clear()
        return one

    def change(self, **changes: Any) -> None:
        """Change settings (:data:`LIVE_CHANGES`) of a running or paused run: they take effect
        before its next step, are recorded in its folder and announced by a ``SettingsChanged``.
        Values are checked by the run (a caller checks them first with ``faults.with_live_changes``)."""
        check_live_changes(changes)
        with self._lock:
            self._changes.update(changes)

    def take_changes(self) -> dict[str, Any]:
        """The settings changed by :meth:`resume` or :meth:`change` since the last call (clears them)."""
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
