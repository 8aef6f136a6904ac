"""The training process: the ``train()`` generator run in a spawned child, driven over two pipes (Qt-free).

The app trains in a child process of its own (:class:`~genstudio.runs.remote.TrainingProcess`
starts it), so the run never shares an interpreter lock with the window and a crash in a step
(a device error, the kernel's out-of-memory killer) cannot take the window down. :func:`serve` is
the child's whole life:

1. import what a run needs (torch, the run loop, every family's trainer; build one optimiser so
   torch's compiler stack is loaded) and say ``("ready", pid)`` — a *warm* process waits here;
2. wait for ``("start", config, run_dir, resume)``;
3. run ``train(..., on_fault="pause")`` with a :class:`~genstudio.runs.control.RunControl` that a
   reader thread fills from the control pipe (pause, resume, step, change, stop, save, snapshot,
   detach), and send the events back as :data:`BATCH` lists (see :class:`Outbox`);
4. exit. An exception is sent as ``("error", one line, traceback)``. SIGTERM stops the run after its
   step, with a checkpoint, as Stop does.

Everything on the pipes is plain picklable data: the frozen events themselves (numbers, a
``RunConfig``, numpy previews), except a :class:`~genstudio.runs.events.Snapshot`, whose tensors
cross as safetensors bytes (:func:`snapshot_to_wire`). If the parent's end of the control pipe
closes (the app died) the run stops after its step, writing its checkpoint; after ``detach`` (the
person closed the window and chose to leave the run training) it trains on alone, writing its run
folder, which the app can follow later.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
import traceback
from typing import Any

from genstudio.runs.control import RunControl
from genstudio.runs.events import Event, Progress, Snapshot, Tick
from genstudio.runs.faults import one_line

__all__ = ["serve", "leave_a_core_for_the_gui", "Outbox", "snapshot_to_wire", "snapshot_from_wire", "FLUSH_S"]

#: How often, at most, the child sends a batch of step events: ~60 Hz, twice the app's drain rate.
FLUSH_S = 1 / 60
#: Sent by the child: ("ready", pid) · ("events", [event, …]) · ("error", message, traceback).
BATCH = "events"


class Outbox:
    """Collects the child's events and sends them in batches, so the pipe carries ~60 messages a
    second however fast the run steps: every :class:`Progress` (each point is plotted), only the
    newest :class:`Tick`; any other event (rare: a preview, a save, a pause, the end) goes at once
    with what is pending."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self._pending: list[Any] = []
        self._tick: Tick | None = None
        self._last = time.perf_counter()
        self.closed = False  # after detach nobody reads: nothing is sent

    def add(self, event: Event) -> None:
        if isinstance(event, Tick):
            self._tick = event
        elif isinstance(event, Progress):
            self._tick = None  # the Progress says the same step and more
            self._pending.append(event)
        else:
            self.flush(snapshot_to_wire(event) if isinstance(event, Snapshot) else event)
            return
        if time.perf_counter() - self._last >= FLUSH_S:
            self.flush()

    def flush(self, last: Any = None) -> None:
        batch, self._pending = self._pending, []
        if self._tick is not None:
            batch.append(self._tick)
            self._tick = None
        if last is not None:
            batch.append(last)
        self._last = time.perf_counter()
        if batch and not self.closed:
            try:
                self._send((BATCH, batch))
            except (BrokenPipeError, ConnectionError, EOFError, OSError):
                self.closed = True  # the app is gone: the run goes on (detached) or stops (see _read_controls)


def snapshot_to_wire(event: Snapshot) -> tuple[str, int, bytes, dict[str, Any]]:
    """A :class:`Snapshot` as ``("snapshot", step, safetensors bytes, meta)``: no pickled tensors."""
    from safetensors.torch import save

    flat = {k: v.detach().to("cpu").contiguous() for k, v in event.tensors.items()}
    return "snapshot", event.step, save(flat), event.meta


def snapshot_from_wire(wire: tuple[str, int, bytes, dict[str, Any]]) -> Snapshot:
    """The :class:`Snapshot` that :func:`snapshot_to_wire` sent (tensors read back by safetensors)."""
    from safetensors.torch import load

    _, step, data, meta = wire
    return Snapshot(step, load(data), meta)


def _read_controls(conn: Any, control: RunControl, outbox: Outbox, detached: threading.Event) -> None:
    """The child's control thread: each message from the app becomes a call on ``control``."""
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            if not detached.is_set():  # the app died or closed without detaching: stop with a checkpoint
                control.request_stop()
            return
        what, args = msg[0], msg[1] if len(msg) > 1 else {}
        if what == "detach":
            detached.set()
            outbox.closed = True
            _leave_the_terminal()
        elif what == "resume":
            control.resume(**args)
        elif what == "change":
            control.change(**args)
        elif what in ("pause", "step_once", "request_stop", "request_save", "request_snapshot"):
            getattr(control, what)()


def _leave_the_terminal() -> None:
    """A detached run outlives the app and the terminal that started it: its own session."""
    if hasattr(os, "setsid"):
        try:
            os.setsid()
        except OSError:
            pass
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)


def warm_imports() -> None:
    """What a run imports before its first step: torch, the run loop, every family's trainer, and
    torch's compiler stack (loaded by the first optimiser); a warm process has done this already."""
    import torch

    import genstudio.runs.loop  # noqa: F401
    from genstudio.families import FAMILIES
    from genstudio.runs.start import make_trainer  # noqa: F401

    for family in FAMILIES.values():
        try:
            family.trainer_class()  # a "module:Class" string loads lazily: load it now
        except Exception:  # noqa: BLE001 - only a head start; the run reports a real problem
            pass
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def serve(control_conn: Any, event_conn: Any) -> None:
    """The child process's main function (see the module docstring)."""
    if hasattr(signal, "SIGINT"):  # Ctrl-C in the app's terminal is the app's to handle, not the run's
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not control_conn.poll(0):  # a run waiting already (a cold start) imports only what it needs
        try:
            warm_imports()
        except Exception:  # noqa: BLE001 - the run imports the same and reports the error itself
            pass
    gc.collect()
    gc.freeze()  # as the app does: full collections no longer walk torch's modules (benchmarks/soak_app.py)
    event_conn.send(("ready", os.getpid()))
    try:
        msg = control_conn.recv()
    except (EOFError, OSError):
        return  # a warm process nobody needed
    if msg[0] != "start":
        return
    _, config, run_dir, resume = msg
    control = RunControl()
    outbox = Outbox(event_conn.send)
    detached = threading.Event()
    threading.Thread(target=_read_controls, args=(control_conn, control, outbox, detached),
                     name="genstudio-controls", daemon=True).start()
    if hasattr(signal, "SIGTERM"):  # `kill PID` (a run left training): end after the step, with a checkpoint
        signal.signal(signal.SIGTERM, lambda *_: control.request_stop())
    try:
        from genstudio.runs.loop import train

        leave_a_core_for_the_gui()
        for event in train(config, run_dir, resume=resume, control=control, on_fault="pause"):
            outbox.add(event)
        outbox.flush()
    except Exception as exc:  # noqa: BLE001 - the app shows it as one line, the traceback goes to its log
        outbox.flush()
        if not outbox.closed:
            try:
                event_conn.send(("error", one_line(exc), traceback.format_exc()))
            except (BrokenPipeError, ConnectionError, OSError):
                pass


def leave_a_core_for_the_gui() -> None:
    """Cap torch's intra-op threads at (usable cores − 1).

    With every core busy in torch's OpenMP pool, the GUI thread (and the X server) preempt pool
    threads and every parallel region waits for a descheduled one: a small model then trains
    ~20× slower in the app than in the terminal. One core left free avoids that.
    """
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    wanted = max(1, cores - 1)
    if torch.get_num_threads() > wanted:
        torch.set_num_threads(wanted)
