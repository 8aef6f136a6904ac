"""The one generic worker: a generator on a thread it owns, every yield a pause / quit point, objects
crossing as they are, nothing stale after quit, errors as JobError, and the thread always ended."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

pytest.importorskip("pytestqt")
from genstudio.gui.generator_worker import GeneratorWorker, JobError  # noqa: E402

WAIT_MS = 10_000


@dataclass(frozen=True)
class Step:
    i: int


def counting(n: int, log: list, gate: threading.Event | None = None):
    try:
        for i in range(n):
            if gate is not None:
                gate.wait(5)
            log.append((i, threading.get_ident()))
            yield Step(i) if i % 2 == 0 else None  # None: a cancellation point that sends nothing
    finally:
        log.append(("closed", threading.get_ident()))


def test_yields_cross_as_objects_in_order_on_another_thread(qtbot):
    worker = GeneratorWorker("test-worker")
    got, log = [], []
    worker.yielded.connect(got.append)
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.start(counting, 6, log)
    assert got == [Step(0), Step(2), Step(4)]  # the frozen objects themselves; the Nones were not sent
    assert {ident for _, ident in log} == {log[0][1]} != threading.get_ident()
    assert log[-1][0] == "closed" and worker.thread is None and not worker.is_running()


def test_pause_holds_between_yields_and_quit_drops_what_comes_after(qtbot):
    worker = GeneratorWorker("test-worker")
    got, log, gate = [], [], threading.Event()
    worker.yielded.connect(got.append)
    gate.set()
    worker.pause()
    endless = 10**12  # the job cannot finish by itself: quit() must end it (10,000 steps once ran out first)
    worker.start(counting, endless, log, gate)
    time.sleep(0.1)
    assert log == []  # paused before the first step
    worker.resume()
    qtbot.waitUntil(lambda: len(got) >= 2, timeout=WAIT_MS)
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.quit()
        seen = len(got)
    assert len(got) == seen  # nothing the job sent after quit() reached the GUI
    assert log[-1][0] == "closed" and log[-2][0] < endless - 1  # closed at a yield, its finally ran there


def test_an_exception_ends_the_job_with_a_job_error(qtbot):
    def failing():
        yield Step(0)
        raise ZeroDivisionError("boom")

    worker = GeneratorWorker("test-worker")
    errors = []
    worker.errored.connect(errors.append)
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.start(failing)
    (error,) = errors
    assert isinstance(error, JobError) and isinstance(error.error, ZeroDivisionError)
    assert error.error.__traceback__ is None and "raise ZeroDivisionError" in error.details
    with pytest.raises(RuntimeError):
        worker.start(failing)  # one job per worker


def test_shutdown_quits_a_blocked_job_and_waits(qtbot):
    worker = GeneratorWorker("test-worker")
    log, finished = [], []
    worker.finished.connect(lambda: finished.append(True))
    worker.start(counting, 10_000_000, log)
    qtbot.waitUntil(lambda: len(log) > 10, timeout=WAIT_MS)
    worker.shutdown()
    assert worker.thread is None and log[-1][0] == "closed"
    qtbot.wait(50)
    assert finished == []  # nothing is emitted after shutdown
