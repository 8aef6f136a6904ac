"""Driving the real app offscreen for B2 and B4: a training run started from the run panel.

:func:`open_window` builds GenStudio's ``QApplication`` (style included) and a ``MainWindow`` with
a throw-away settings store; :func:`app_run` fills the run panel, presses Start (``start_run``,
as the Start button does) and lets the event loop run until the run ends, while the window's own
~30 Hz timer drains the mailbox into the Monitor tab (curves, sample grid or 2-D view) and the
status bar. It records the step the status bar shows at each drain, the training thread's CPU
clock, and (optionally) the gaps between beats of a heartbeat ``QTimer`` on the GUI thread.
:func:`headless_run` runs the same configuration through ``train()`` with no window.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402

import genstudio.gui.training_job as worker_module  # noqa: E402
from genstudio.config import RunConfig  # noqa: E402
from genstudio.gui.app import make_application, warm_up_and_freeze  # noqa: E402
from genstudio.gui.main_window import MainWindow  # noqa: E402
from genstudio.gui.settings import AppSettings  # noqa: E402
from genstudio.gui.status_update import RunStatusUpdate  # noqa: E402
from genstudio.runs.events import Progress, Tick  # noqa: E402
from genstudio.runs.loop import train  # noqa: E402

# What the app's worker thread does first (caps torch at cores − 1); the headless side matches it.
_leave_a_core = worker_module.leave_a_core_for_the_gui
_worker_ident: list[int] = []


def _leave_a_core_and_say_who() -> None:
    _worker_ident.append(threading.get_ident())
    _leave_a_core()


worker_module.leave_a_core_for_the_gui = _leave_a_core_and_say_who


@dataclass
class Trace:
    """(wall s, training-thread CPU s, step) samples, and heartbeat gaps in ms."""

    samples: list[tuple[float, float, int]] = field(default_factory=list)
    gaps_ms: list[float] = field(default_factory=list)
    gaps_cpu_ms: list[float] = field(default_factory=list)
    gui_cpu_s: float = 0.0
    wall_s: float = 0.0
    start_ms: float = 0.0  # how long pressing Start (``start_run``) held the GUI thread
    first_step_s: float = float("nan")  # from pressing Start to the first step the status bar shows
    mode: str = "thread"  # where the app trained: "thread" or "process" (RunController.mode)

    def rate(self, skip: int) -> tuple[float, float]:
        """(steps per wall second, steps per training-thread CPU second) after step ``skip``."""
        s = [x for x in self.samples if x[2] > skip]
        if len(s) < 2:
            raise RuntimeError(f"too few samples after step {skip}: {len(s)}")
        (w0, c0, k0), (w1, c1, k1) = s[0], s[-1]
        return (k1 - k0) / (w1 - w0), (k1 - k0) / max(c1 - c0, 1e-9)


class Heartbeat:
    """A ``QTimer`` on the GUI thread beating every ``interval_ms``; records the gaps between beats."""

    def __init__(self, interval_ms: int = 5):
        self.interval_ms = interval_ms
        self.gaps: list[float] = []
        self.cpu: list[float] = []  # GUI-thread CPU ms within each gap (work, not waiting)
        self._last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self._last is not None:
            self.gaps.append((now - self._last[0]) * 1e3)
            self.cpu.append((cpu - self._last[1]) * 1e3)
        self._last = now, cpu

    def start(self) -> None:
        self.gaps, self.cpu, self._last = [], [], None
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.gaps)


def open_window(settings_file: str, warm_process: bool = True) -> tuple[object, MainWindow]:
    """GenStudio's application object and a shown 1400 × 900 main window (settings in ``settings_file``),
    after the start-up work the app does once its window is up: the warm-up and freeze, and (if
    ``warm_process``) a warm training process, waited for so its imports do not overlap a run."""
    app = make_application([])
    window = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    window.confirm_close = lambda: True
    window.show_error = lambda title, message, details="": print(f"app error: {title}: {message}")
    window.resize(1400, 900)
    window.show()
    idle(app, 0.3)
    frozen = warm_up_and_freeze()  # as the app does once its window is up (genstudio/gui/app.py)
    while not frozen.wait(0.01):
        app.processEvents()
    if warm_process:
        window.controller.mode = "process"
        window.controller.prepare()
        wait_warm(window)
    return app, window


def wait_warm(window: MainWindow) -> None:
    """Wait until the controller's warm training process (if any) has done its imports."""
    warm = window.controller._warm
    if warm is not None:
        warm.wait_ready(120.0)


def idle(app, seconds: float) -> None:
    """Let the event loop run for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _thread_cpu(ident: int) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of process ``pid`` so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def app_run(app, window: MainWindow, fields: dict, folder: Path, heartbeat: Heartbeat | None = None,
            mode: str | None = None) -> Trace:
    """Start ``fields`` (run-panel values) in ``folder`` from the window and run it to its end;
    ``mode`` ("thread" / "process") says where the app trains it (default: the controller's).
    The training CPU clock is the training thread's, or the whole training process's."""
    if mode is not None:
        window.controller.mode = mode
    trace = Trace(mode=window.controller.mode)
    window.panel.set_fields({**fields, "folder": str(folder)})
    status = window.run_status
    original = status.apply
    child_pid: list[int] = []

    def recording_apply(update: RunStatusUpdate) -> None:
        original(update)
        if update.step is None:
            return
        if update.step > 0 and np.isnan(trace.first_step_s):
            trace.first_step_s = time.perf_counter() - t0
        if child_pid:
            try:
                cpu = _process_cpu(child_pid[0])
            except OSError:  # the process has just ended
                return
        elif _worker_ident:
            cpu = _thread_cpu(_worker_ident[-1])
        else:
            return
        trace.samples.append((time.perf_counter(), cpu, int(update.step)))

    status.apply = recording_apply
    _worker_ident.clear()
    loop = QEventLoop()
    window.controller.threadFinished.connect(loop.quit)
    t0, c0 = time.perf_counter(), time.thread_time()
    if not window.start_run():
        raise RuntimeError(f"the run panel refused to start: {window.panel.fields()}")
    trace.start_ms = (time.perf_counter() - t0) * 1e3
    if trace.mode == "process":
        child_pid.append(window.controller._control.pid)
    if heartbeat is not None:  # from the moment Start returns: the stalls *while* it trains
        heartbeat.start()
    loop.exec()
    trace.wall_s, trace.gui_cpu_s = time.perf_counter() - t0, time.thread_time() - c0
    if heartbeat is not None:
        trace.gaps_ms = heartbeat.stop()
        trace.gaps_cpu_ms = list(heartbeat.cpu)
    window.controller.threadFinished.disconnect(loop.quit)
    status.apply = original
    result = window.controller.last_result
    if result is None or result[0] != "done":
        raise RuntimeError(f"the app's run did not finish: {result}")
    wait_warm(window)  # the next warm process's imports must not overlap what is measured next
    return trace


def headless_run(config: RunConfig, folder: Path) -> Trace:
    """The same run through ``train()`` in this thread, no window (what ``genstudio train`` does)."""
    trace = Trace()
    t0 = time.perf_counter()
    for event in train(config, folder):
        if isinstance(event, (Tick, Progress)):
            trace.samples.append((time.perf_counter(), time.thread_time(), event.step))
    trace.wall_s = time.perf_counter() - t0
    return trace


def worst_stalls(gaps_ms: list[float], cpu_ms: list[float], interval_ms: float, n: int = 5) -> str:
    """The ``n`` longest stalls as "stall ms (GUI-thread CPU ms)": CPU close to the stall means the
    GUI thread was busy; little CPU means it was waiting (for the interpreter lock or a core)."""
    order = np.argsort(gaps_ms)[::-1][:n]
    return ", ".join(f"{gaps_ms[i] - interval_ms:.0f} ({cpu_ms[i]:.0f})" for i in order)


def stall_stats(gaps_ms: list[float], interval_ms: float) -> tuple[float, float, float]:
    """(p99, max, median) of the event-loop stalls: how much later than due each beat came."""
    stalls = np.maximum(np.asarray(gaps_ms) - interval_ms, 0.0)
    return float(np.percentile(stalls, 99)), float(stalls.max()), float(np.median(stalls))


def close_window(app, window: MainWindow) -> None:
    """Close the benchmark's window (stopping any run) and let Qt process the close."""
    window.close()
    idle(app, 0.2)


def finish() -> None:
    """Print the machine's load after the run and leave without tearing Qt down."""
    from _common import machine_note

    print(machine_note().replace("machine:", "after:"))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of Qt objects (see b7_loss_plot.py)
