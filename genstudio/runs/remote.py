"""``TrainingProcess``: the app's side of a run trained in a child process (Qt-free).

One object per child (:mod:`genstudio.runs.child` is the other side). It spawns the child at once
(``multiprocessing``'s "spawn" start method: the same on Linux, macOS and Windows, and safe with
CUDA), so a process made before it is needed is *warm*: its torch import is done by the time the
person presses Start. It has the :class:`~genstudio.runs.control.RunControl` methods (pause,
resume, step_once, change, request_stop, request_save, request_snapshot), which it sends down the
control pipe, so the app's controller drives a child exactly as it drives a run on a thread.

:meth:`receive` gives what the child sent, and :meth:`death` says in words how a child that ended
without finishing its run died, and from which checkpoint its run can be resumed.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import signal
import threading
import time
from pathlib import Path
from typing import Any

from genstudio.runs.child import serve, snapshot_from_wire
from genstudio.runs.faults import check_live_changes

__all__ = ["TrainingProcess", "ChildError", "resumable_from"]


class TrainingProcess:
    """A spawned child that trains one run (see the module docstring).

    Raises
    ------
    OSError
        If the process cannot be started (the caller may fall back to a thread).
    """

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        control_r, self._control = ctx.Pipe(duplex=False)
        self._events, events_w = ctx.Pipe(duplex=False)
        # daemon: the app's exit ends a child it still owns (a detached one is let go, see detach)
        self.process = ctx.Process(target=serve, args=(control_r, events_w), name="genstudio-training",
                                   daemon=True)
        self.process.start()
        control_r.close()  # the child's ends: closed here, so the child's death reads as end-of-file
        events_w.close()
        self._lock = threading.Lock()  # control messages come from the GUI thread, the relay's close from its own
        self.started = False
        self.ready = False
        self.detached = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.is_alive()

    # ------------------------------------------------------------------ commands
    def start(self, config: Any, run_dir: str | Path, resume: bool) -> None:
        """Train ``config`` in ``run_dir`` (once per process)."""
        if self.started:
            raise RuntimeError("a training process trains one run")
        self.started = True
        self._send("start", config, str(run_dir), resume)

    def pause(self) -> None:
        self._send("pause")

    def resume(self, **changes: Any) -> None:
        check_live_changes(changes)
        self._send("resume", changes)

    def step_once(self) -> None:
        self._send("step_once")

    def change(self, **changes: Any) -> None:
        check_live_changes(changes)
        self._send("change", changes)

    def request_stop(self) -> None:
        self._send("request_stop")

    def request_save(self) -> None:
        self._send("request_save")

    def request_snapshot(self) -> None:
        self._send("request_snapshot")

    def detach(self) -> None:
        """Let the run train on alone after the app has gone: it keeps writing its run folder.

        The child leaves the app's session and is no longer one the app ends or waits for at exit.
        """
        self._send("detach")
        self.detached = True
        multiprocessing.process._children.discard(self.process)  # not terminated by the app's atexit
        self._close_pipes()

    def close(self, timeout_s: float = 10.0) -> None:
        """End the child (unless detached) and reap it: no process or zombie is left behind.

        A running child is asked to stop (it writes its checkpoint) and waited for; one that does
        not end within ``timeout_s`` is terminated, then killed.
        """
        if self.detached:
            return
        if self.process.is_alive() and self.started:
            self._send("request_stop")
        self._close_pipes()  # a warm child waiting for its run reads end-of-file and exits
        if not self.started:  # nothing to save: one still importing need not finish
            self.process.terminate()
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._events.close()  # the relay (if any) has stopped reading: it is the one closing us

    def _send(self, *msg: Any) -> None:
        with self._lock:
            if self._control.closed:
                return
            try:
                self._control.send(msg)
            except (BrokenPipeError, ConnectionError, OSError):
                pass  # the child is gone: the relay finds out and says so

    def _close_pipes(self) -> None:
        with self._lock:
            self._control.close()
        # the event pipe is closed by the relay (it may be reading it right now)

    # ------------------------------------------------------------------ what the child sent
    def receive(self, timeout_s: float) -> list[Any] | None:
        """What the child sent within ``timeout_s``: a list of events (a ``Snapshot`` rebuilt),
        ``[]`` if nothing came, or None once its end of the pipe is closed (it ended).

        Raises
        ------
        ChildError
            If the run raised in the child (its message is the run's one-line account).
        """
        try:
            if not self._events.poll(timeout_s):
                return []
            msg = self._events.recv()
        except (EOFError, OSError):
            return None
        if msg[0] == "ready":
            self.ready = True
            return []
        if msg[0] == "error":
            raise ChildError(msg[1]) from RemoteTraceback(msg[2])
        return [snapshot_from_wire(e) if isinstance(e, tuple) and e[0] == "snapshot" else e for e in msg[1]]

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """Wait until the child has done its imports (before its run starts); True if it has."""
        deadline = time.monotonic() + timeout_s
        while not self.ready and time.monotonic() < deadline:
            if self.receive(0.05) is None:
                return False
        return self.ready

    def close_events(self) -> None:
        self._events.close()

    def death(self) -> str:
        """How the child ended, in words ("was killed by signal 9 (SIGKILL)…"); reaps it first."""
        self.process.join(5.0)
        code = self.process.exitcode
        if code is None:
            return "stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = {"SIGKILL": " (the system may have run out of memory)", "SIGSEGV": " (a crash in native code)"}
            return f"was killed by {name}{why.get(name, '')}"
        return f"exited with status {code}"


class ChildError(Exception):
    """The run raised in the training process; the message is its one-line account."""


class RemoteTraceback(Exception):
    """The child's traceback, chained to a :class:`ChildError` so the app's log shows it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)

    def __str__(self) -> str:
        return f"\n\nin the training process:\n{self.args[0]}"


def resumable_from(run_dir: str | Path) -> tuple[int, Path] | None:
    """``(step, file)`` of the checkpoint a resume of ``run_dir`` would continue from, or None."""
    from genstudio.checkpoint import CheckpointError, read_header
    from genstudio.runs.folder import RunDir

    last = RunDir(run_dir).last_checkpoint
    if not last.exists():
        return None
    try:
        return int(read_header(last).get("step", 0)), last
    except (CheckpointError, OSError, ValueError):
        return None
