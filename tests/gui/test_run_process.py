"""The run in its own process (issue 20): the window's controls work across the process boundary,
a killed training process leaves the app alive with a message and a resumable run folder, closing
the window leaves no process behind (unless the person leaves the run training), and start / stop
cycles leave no zombie.

Each test starts real child processes (a torch import each, ~2-3 s on the 2-core test box).
"""

from __future__ import annotations

import json
import os
import signal

import pytest

pytest.importorskip("pytestqt")

from genstudio.gui import dialogs  # noqa: E402
from genstudio.gui.controller import RunController  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402

GAN = {"kind": "gan", "data": "ring8", "steps": 20000, "batch": 64, "lr": "2e-4", "preview_every": 50,
       "device": "cpu", "seed": 0}


def _process_window(make_window):
    w = make_window()
    w.controller.mode = "process"
    return w


def _start(w, folder, **more) -> None:
    w.panel.set_fields({**GAN, **more})
    w.panel.folder.setText(str(folder))
    assert w.panel.is_valid()
    w.act_start.trigger()
    assert w.controller.is_running()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _logged_steps(folder) -> list[int]:
    return [json.loads(line)["step"] for line in RunDir(folder).metrics_path.read_text().splitlines() if line]


def test_controls_cross_the_process_boundary(qtbot, make_window, tmp_path):
    w = _process_window(make_window)
    run = tmp_path / "run"
    _start(w, run)
    child = w.controller._control
    assert child.pid != os.getpid() and _alive(child.pid)
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 20, timeout=60_000)

    w.act_pause.trigger()  # pause: the steps stop where they are
    assert w.controller.state == "paused"
    qtbot.waitUntil(lambda: w.run_status.status().paused is True, timeout=10_000)  # the child said so
    w.drain()
    held = w.run_status.step_value()
    qtbot.wait(500)
    w.drain()
    assert w.run_status.step_value() == held

    w.act_save.trigger()  # save now works paused
    qtbot.waitUntil(lambda: RunDir(run).step_checkpoint(held).exists(), timeout=10_000)

    with qtbot.waitSignal(w.controller.snapshotReady, timeout=10_000) as snap:  # snapshot: weights by value
        assert w.controller.request_snapshot()
    tensors, meta = snap.args
    assert meta["step"] == held and any(k.startswith("model/G/") for k in tensors)
    from genstudio.loading import model_from_state

    model = model_from_state(tensors, meta, "cpu", "snapshot")  # the normal loader takes it
    assert model.kind == "gan"

    assert w.change_settings({"lr": 1e-4})  # a live change: recorded by the run in its folder
    w.act_pause.trigger()  # resume
    qtbot.waitUntil(lambda: RunDir(run).changes_path.exists(), timeout=10_000)
    assert RunDir(run).read_changes()[0]["changes"] == {"lr": 1e-4}
    assert RunDir(run).read_config().lr == 1e-4
    qtbot.waitUntil(lambda: w.run_status.step_value() > held + 10, timeout=30_000)

    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        w.act_stop.trigger()
    reason, step, _, checkpoint = w.controller.last_result
    assert reason == "stopped" and checkpoint.endswith("last.safetensors")
    assert not _alive(child.pid)


def test_a_killed_training_process_leaves_the_app_alive_and_the_run_resumable(qtbot, make_window, tmp_path):
    w = _process_window(make_window)
    run = tmp_path / "run"
    _start(w, run)
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 30, timeout=60_000)
    w.act_save.trigger()
    qtbot.waitUntil(lambda: RunDir(run).last_checkpoint.exists(), timeout=10_000)
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 60, timeout=30_000)  # steps past the checkpoint
    from genstudio.checkpoint import read_header

    kept = read_header(RunDir(run).last_checkpoint)["step"]
    child = w.controller._control
    with qtbot.waitSignal(w.controller.threadFinished, timeout=20_000):
        os.kill(child.pid, signal.SIGKILL)
    reason, step, message, _ = w.controller.last_result
    assert reason == "crashed"
    assert "killed by SIGKILL" in message and f"keeps step {kept:,}" in message and "Resume" in message
    assert w.errors and w.errors[-1][0] == "Training stopped: crashed"
    assert not _alive(child.pid)
    assert w.panel.resume_requested()  # Start resumes it

    w.act_start.trigger()  # the app is usable: resume the run
    assert w.controller.is_running()
    qtbot.waitUntil(lambda: w.run_status.step_value() >= step + 20, timeout=60_000)
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        w.act_stop.trigger()
    logged = _logged_steps(run)
    assert logged == sorted(set(logged))  # nothing repeated
    every = logged[0]
    assert logged == list(range(every, logged[-1] + 1, every))  # nothing lost
    assert logged[-1] > step


def test_closing_mid_run_leaves_no_process(qtbot, make_window, tmp_path):
    w = _process_window(make_window)
    w.controller.prepare()  # the warm process the app keeps for the next Start
    warm = w.controller._warm
    _start(w, tmp_path / "run")
    child = w.controller._control
    assert child is warm  # Start took the warm one
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 5, timeout=60_000)
    w.close()  # confirm_close says stop: the run writes its checkpoint and its process ends
    assert not w.isVisible()
    assert RunDir(tmp_path / "run").last_checkpoint.exists()
    assert not _alive(child.pid)
    assert w.controller._warm is None  # and no warm process for a next Start after the window closed


def test_closing_may_leave_the_run_training_and_the_folder_is_followed(qtbot, make_window, tmp_path):
    w = _process_window(make_window)
    run = tmp_path / "run"
    _start(w, run)
    child = w.controller._control
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 20, timeout=60_000)
    w.confirm_close = lambda: dialogs.LEAVE_RUNNING
    w.close()
    assert not w.isVisible() and w.controller.detached_pid == child.pid
    try:
        assert _alive(child.pid)
        before = len(_logged_steps(run))
        qtbot.waitUntil(lambda: len(_logged_steps(run)) > before + 2, timeout=30_000)  # it keeps training

        w2 = make_window("other.ini")  # opening the folder later follows it
        assert w2.open_run_folder(run)
        qtbot.waitUntil(lambda: w2.monitor.gan_losses.point_count("loss_D") > before, timeout=30_000)
        w2.close()
        from genstudio.checkpoint import read_header

        os.kill(child.pid, signal.SIGTERM)  # `kill PID`: the run ends after its step, with a checkpoint
        child.process.join(60)
        assert child.process.exitcode == 0
        assert read_header(RunDir(run).last_checkpoint)["step"] >= _logged_steps(run)[-1]
    finally:
        if _alive(child.pid):
            os.kill(child.pid, signal.SIGKILL)
        child.process.join(10)
    assert not _alive(child.pid)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 20 child processes, a torch import each: ~1 min on a quiet 2-core box, 6 loaded
def test_twenty_start_stop_cycles_leave_no_zombie(qtbot, tmp_path):
    from genstudio.config import RunConfig

    c = RunController()
    c.mode = "process"
    c.prepare()
    pids = []
    config = RunConfig(kind="gan", data="ring8", steps=100000, batch=16, num_points=500, device="cpu")
    try:
        for i in range(20):
            c.start(config, tmp_path / f"r{i}")
            pids.append(c._control.pid)
            qtbot.waitUntil(lambda: c.state == "running" and c._started, timeout=120_000)
            with qtbot.waitSignal(c.threadFinished, timeout=30_000):
                c.stop()
            assert c.last_result[0] == "stopped"
    finally:
        c.shutdown()
    assert not any(_alive(pid) for pid in pids)
    assert len(set(pids)) == 20


def test_the_recovery_dialog_works_across_the_process_boundary(qtbot, make_window, tmp_path):
    """A fault in the child (a diverging diffusion run, lr 1e5 from the start) rolls it back and pauses
    it there; the window's recovery dialog answers with a lower rate, which the child records."""
    w = _process_window(make_window)
    run = tmp_path / "wild"
    seen = []

    def ask(reason, step, message, config):
        seen.append((reason, step, w.controller.state))
        return {"lr": 1e-3}

    w.ask_recovery = ask
    _start(w, run, kind="diffusion", lr="1e5")
    qtbot.waitUntil(lambda: bool(seen), timeout=60_000)
    assert seen[0] == ("diverged", 0, "paused")
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 20, timeout=60_000)  # resumed with lr 1e-3
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        w.act_stop.trigger()
    assert w.controller.last_result[0] == "stopped"
    assert RunDir(run).read_config().lr == 1e-3 and w.controller.config.lr == 1e-3
    assert not w.errors


@pytest.mark.parametrize("button, answer", [("leave", dialogs.LEAVE_RUNNING), ("Stop and quit", True),
                                            ("Cancel", False)])
def test_the_close_question_offers_to_leave_the_run_training(qtbot, button, answer):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        for b in box.findChildren(QPushButton):
            if button in (b.objectName(), b.text()):
                b.click()

    QTimer.singleShot(20, click)
    assert dialogs.ask_stop_run(None, can_leave=True) == answer


def test_a_run_that_cannot_start_in_the_child_says_why_in_one_line(qtbot, tmp_path):
    from genstudio.config import RunConfig

    c = RunController()
    c.mode = "process"
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    failed = []
    c.runFailed.connect(lambda *args: failed.append(args))
    try:
        with qtbot.waitSignal(c.threadFinished, timeout=120_000):
            c.start(RunConfig(kind="gan", data="ring8", steps=10, device="cpu"), not_a_folder)
    finally:
        c.shutdown()
    (title, message, details), = failed
    assert title == "Cannot start the run"
    assert "file.txt" in message and "\n" not in message and "Traceback" not in message
    assert "in the training process" in details  # the child's traceback, for the log
