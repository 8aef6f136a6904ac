"""The status bar tells the truth after a run: the final state, no speed and no time left."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from genstudio.gui.status_update import RunStatusUpdate  # noqa: E402
from genstudio.gui.widgets.status import RunStatus, format_span  # noqa: E402

FIELDS = {"kind": "gan", "data": "ring8", "batch": 64, "preview_every": 25, "device": "cpu", "seed": 0}


def test_the_line_of_a_stopped_run_shows_where_it_stopped_and_no_rate(qtbot):
    s = RunStatus()
    qtbot.addWidget(s)
    s.apply(RunStatusUpdate(device="cpu", step=1234, total=3000, rate=15.0, elapsed=80.0))
    assert "steps/s" in s.text() and "remaining" in s.text()
    s.show_ended("Stopped", 1234)
    assert s.text() == "device cpu · Stopped at step 1,234 · 1 min 20 s"
    assert s.rate.isHidden() and s.remaining.isHidden() and s.elapsed.isHidden()
    assert s.step_value() == 1234
    s.apply(RunStatusUpdate(step=1, total=10, rate=2.0, elapsed=0.5))  # a new run: the live line again
    assert "steps/s" in s.text()
    assert [format_span(x) for x in (45, 80, 120, 3720)] == ["45 s", "1 min 20 s", "2 min", "1 h 2 min"]


def test_after_stop_and_finish_the_window_shows_the_final_state(qtbot, make_window, tmp_path):
    w = make_window()
    w.panel.set_fields({**FIELDS, "steps": 20000})
    w.panel.folder.setText(str(tmp_path / "a"))
    assert w.start_run()
    qtbot.waitUntil(lambda: "steps/s" in w.run_status.text() and w.run_status.step_value() > 10, timeout=30_000)
    with qtbot.waitSignal(w.controller.threadFinished, timeout=15_000):
        w.stop_run()
    step = w.controller.last_result[1]
    assert f"Stopped at step {step:,}" in w.run_status.text()
    assert "steps/s" not in w.run_status.text() and "remaining" not in w.run_status.text()
    qtbot.wait(100)  # the display timer runs on: the line stays
    assert f"Stopped at step {step:,}" in w.run_status.text() and "steps/s" not in w.run_status.text()

    w.panel.set_fields({**FIELDS, "steps": 30})
    w.panel.use_new_folder()
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        assert w.start_run()
    assert "Finished at step 30" in w.run_status.text() and "remaining" not in w.run_status.text()


def test_a_run_that_crashed_shows_where_it_stopped_and_no_traceback(qtbot, make_window, tmp_path, monkeypatch):
    from genstudio.gan.trainer import GanTrainer

    real = GanTrainer.train_step

    def train_step(self, batch):  # an internal error at step 30
        if self.step + 1 == 30:
            raise KeyError("G")
        return real(self, batch)

    monkeypatch.setattr(GanTrainer, "train_step", train_step)
    w = make_window()
    shown = []
    w.show_error = lambda title, message, details="": shown.append((title, message, details))
    w.panel.set_fields({**FIELDS, "steps": 20000})
    w.panel.folder.setText(str(tmp_path / "crash"))
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        assert w.start_run()
    (title, message, details), = shown
    assert title == "The run stopped with an error" and "Step 29 is saved" in message
    assert "Traceback" not in message + details
    assert "Stopped by an error at step 29" in w.run_status.text() and "steps/s" not in w.run_status.text()
