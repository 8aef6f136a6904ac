"""PaintPacer: redraws that arrive together run one at a time, newest data first to none lost."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("pytestqt")

from genstudio.gui.paint_pacer import PaintPacer  # noqa: E402


def test_jobs_run_at_once_when_idle_then_one_per_gap_in_order(qtbot):
    pacer = PaintPacer(gap_ms=20)
    ran: list[tuple[str, float]] = []
    t0 = time.monotonic()
    for key in ("losses", "probs", "preview"):
        pacer.request(key, lambda key=key: ran.append((key, time.monotonic() - t0)))
    assert [k for k, _ in ran] == ["losses"] and pacer.pending() == 2
    qtbot.waitUntil(lambda: pacer.pending() == 0, timeout=1_000)
    assert [k for k, _ in ran] == ["losses", "probs", "preview"]
    gaps = [b - a for (_, a), (_, b) in zip(ran, ran[1:])]
    assert min(gaps) >= 0.019  # the event loop had each gap to paint and serve input


def test_a_job_asked_again_while_waiting_runs_once_with_its_newest_data(qtbot):
    pacer = PaintPacer(gap_ms=20)
    ran: list[str] = []
    pacer.request("losses", lambda: ran.append("losses"))
    pacer.request("preview", lambda: ran.append("preview of step 100"))
    pacer.request("probs", lambda: ran.append("probs"))
    pacer.request("preview", lambda: ran.append("preview of step 200"))
    qtbot.waitUntil(lambda: pacer.pending() == 0, timeout=1_000)
    assert ran == ["losses", "preview of step 200", "probs"]


def test_flush_runs_what_waits_and_clear_drops_it(qtbot):
    pacer = PaintPacer(gap_ms=50)
    ran: list[str] = []
    for key in "abc":
        pacer.request(key, lambda key=key: ran.append(key))
    pacer.flush()
    assert ran == ["a", "b", "c"] and pacer.pending() == 0
    pacer.request("d", lambda: ran.append("d"))  # within the gap of "c": waits
    pacer.clear()
    qtbot.wait(120)
    assert ran == ["a", "b", "c"]


def test_a_job_requested_by_a_running_job_waits_for_its_own_turn(qtbot):
    # a new preview moves the time-lapse marker on the loss plots: those redraws must not run inside
    # the preview's, or one window paint draws the picture and every plot (a 20-30 ms GUI stall)
    pacer = PaintPacer(gap_ms=20)
    ran: list[tuple[str, float]] = []
    t0 = time.monotonic()

    def preview() -> None:
        ran.append(("preview", time.monotonic() - t0))
        pacer.request("losses", lambda: ran.append(("losses", time.monotonic() - t0)))
        assert pacer.pending() == 1  # queued, not run inside this job

    pacer.request("preview", preview)
    assert [k for k, _ in ran] == ["preview"]
    qtbot.waitUntil(lambda: pacer.pending() == 0, timeout=1_000)
    assert [k for k, _ in ran] == ["preview", "losses"] and ran[1][1] - ran[0][1] >= 0.019
