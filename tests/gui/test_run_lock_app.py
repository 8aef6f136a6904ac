"""The app and a run folder another process is writing: it can follow it, but Start on it (a
fresh run or a resume) is refused with a dialog naming the holder, and nothing in it changes."""

from __future__ import annotations

import os
import re

import pytest

pytest.importorskip("pytestqt")

from genstudio.config import RunConfig  # noqa: E402
from genstudio.gui.app import open_path  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.runs.lock import lock_run  # noqa: E402
from genstudio.runs.loop import run_to_end  # noqa: E402

CFG = RunConfig(kind="gan", data="ring8", steps=20, batch=32, log_every=5, checkpoint_every=10, num_points=500,
                seed=1, device="cpu")
HOLDER = re.compile(rf"^\S+ is being written by pid {os.getpid()} on host \S+ since \d\d:\d\d:\d\d; "
                    r"wait for it to finish or stop it$")


def _snapshot(run) -> dict:
    return {p.name: p.read_bytes() for p in (run / "config.json", run / "metrics.jsonl", RunDir(run).last_checkpoint)}


def test_start_on_a_folder_being_written_shows_who_holds_it(qtbot, make_window, tmp_path):
    run = tmp_path / "busy"
    run_to_end(CFG, run)
    before = _snapshot(run)
    w = make_window()
    with lock_run(run):  # another writer (here: this process, as a second window's run would be)
        assert w.open_run_folder(run)  # following needs no lock
        assert not w.errors and w.panel.resume_requested()
        w.panel.set_fields({"steps": 100})
        assert w.panel.is_valid()
        with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
            w.act_start.trigger()
        assert len(w.errors) == 1, w.errors
        title, message = w.errors[0]
        assert title == "Cannot start the run" and HOLDER.match(message), message
        # a fresh run on a (new) folder someone else holds
        fresh = tmp_path / "fresh"
        with lock_run(fresh):
            w.panel.set_fields({"kind": "gan", "data": "ring8", "steps": 100, "batch": 32, "lr": "2e-4", "seed": 0,
                                "device": "cpu"})
            w.panel.folder.setText(str(fresh))
            w.panel.resume.setChecked(False)
            assert w.panel.is_valid()
            with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
                w.act_start.trigger()
            assert len(w.errors) == 2 and HOLDER.match(w.errors[1][1]), w.errors
            assert sorted(p.name for p in fresh.iterdir()) == [".lock"]
    assert _snapshot(run) == before
    w.errors.clear()


def test_opening_a_fifo_says_what_it_is(make_window, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    w = make_window()
    assert not open_path(w, str(fifo))
    assert w.errors == [("Cannot open", f"{fifo} is a FIFO (named pipe), not a run folder or a checkpoint.")]
