"""The app shell driven as a user would: start, pause, resume, save, stop, reopen, close mid-run.

Every test checks that the window's training thread has ended (QThreads are not Python threads,
so the shared no-leaked-thread fixture cannot see them) and closes every window it opened.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("pytestqt")
from genstudio.checkpoint import read_header  # noqa: E402
from genstudio.gui.main_window import MainWindow  # noqa: E402
from genstudio.runs.events import Finished  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402

# ring8 GAN: small and fast, long enough to pause and stop it mid-run
GAN_FIELDS = {"kind": "gan", "data": "ring8", "steps": 20000, "batch": 64, "preview_every": 25,
              "device": "cpu", "seed": 0}


def _start(w: MainWindow, folder, **fields) -> None:
    w.panel.set_fields({**GAN_FIELDS, **fields})
    w.panel.folder.setText(str(folder))
    assert w.panel.is_valid(), [e.text() for e in w.panel._errors.values() if not e.isHidden()]
    assert w.act_start.isEnabled()
    w.act_start.trigger()
    assert w.controller.is_running()


def test_gan_run_pause_resume_save_snapshot_stop_and_reopen(qtbot, make_window, tmp_path):
    w = make_window()
    run = tmp_path / "run1"
    _start(w, run)
    assert w.windowTitle().startswith("GenStudio — training GAN on ring8")
    m = w.monitor
    qtbot.waitUntil(lambda: m.gan_losses.point_count("loss_D") > 0 and m.gan_probs.point_count("D(x)") > 0
                    and m.preview_step() is not None, timeout=30_000)
    first = m.preview_step()
    qtbot.waitUntil(lambda: m.preview_step() > first, timeout=30_000)  # the preview changes
    assert m.points.fake_count() > 0 and m.points.real_count() > 0 and m.points.heatmap_visible()
    assert w.run_status.status().device == "cpu"

    # pause: the step count stops moving
    w.act_pause.trigger()
    assert w.act_pause.text() == "Resume"
    qtbot.waitUntil(lambda: w.run_status.status().paused is True, timeout=5_000)
    s1 = w.run_status.step_value()
    qtbot.wait(300)
    assert w.run_status.step_value() == s1
    assert "paused" in w.run_status.rate.text()

    # save and snapshot work while paused, without moving the run on
    w.act_save.trigger()
    qtbot.waitUntil(lambda: (run / "checkpoints" / f"step_{s1:06d}.safetensors").exists(), timeout=5_000)
    with qtbot.waitSignal(w.controller.snapshotReady, timeout=5_000) as blocker:
        assert w.controller.request_snapshot()
    tensors, meta = blocker.args
    assert meta["step"] == s1 and meta["kind"] == "gan"
    assert all(t.device.type == "cpu" for t in tensors.values())
    from genstudio.gan.model import GanModel

    model = GanModel.from_checkpoint(tensors, meta, torch.device("cpu"))
    assert model.sample(5, seed=0).shape == (5, 2)
    assert w.run_status.step_value() == s1

    # resume: it moves again
    w.act_pause.trigger()
    assert w.act_pause.text() == "Pause"
    qtbot.waitUntil(lambda: w.run_status.step_value() > s1, timeout=5_000)

    # stop: the step finishes, a checkpoint is written, the shown step is the saved step
    with qtbot.waitSignal(w.controller.threadFinished, timeout=15_000):
        w.act_stop.trigger()
    reason, step, _, checkpoint = w.controller.last_result
    assert reason == "stopped"
    rd = RunDir(run)
    assert rd.last_checkpoint.exists() and checkpoint
    assert read_header(rd.last_checkpoint)["step"] == step == w.run_status.step_value()
    assert w.act_start.isEnabled() and not w.act_stop.isEnabled()
    assert w.panel.resume_requested() and w.panel.run_folder() == run  # Start would resume
    assert not w.errors

    # a fresh window opens the run folder: curves and the newest preview load
    w2 = make_window("other.ini")
    assert w2.open_run_folder(run)
    qtbot.waitUntil(lambda: w2.monitor.gan_losses.point_count("loss_D") > 0
                    and w2.monitor.points.fake_count() > 0, timeout=2_000)
    assert w2.monitor.gan_losses.point_count("loss_D") == len(rd.read_metrics())
    assert "run folder" in w2.windowTitle()
    assert not w2.errors


def test_closing_mid_run_stops_it_and_writes_a_checkpoint(qtbot, make_window, tmp_path):
    w = make_window()
    run = tmp_path / "run2"
    _start(w, run)
    qtbot.waitUntil(lambda: w.run_status.step_value() > 20, timeout=30_000)

    w.confirm_close = lambda: False  # "Cancel": the window stays and the run goes on
    assert not w.close()
    assert w.controller.is_running()

    w.confirm_close = lambda: True
    assert w.close()
    assert w.controller.thread is None  # closeEvent waited for the thread
    reason, step, _, _ = w.controller.last_result
    assert reason == "stopped"
    assert read_header(RunDir(run).last_checkpoint)["step"] == step
    assert not w.errors


def test_worker_errors_become_a_dialog_and_the_app_keeps_running(qtbot, make_window, tmp_path):
    w = make_window()
    _start(w, tmp_path / "run3", data="ring8")
    w.controller.stop()
    assert w.controller.wait_finished(15)
    # a data folder that does not exist fails inside the worker thread
    w.panel.set_data(f"folder:{tmp_path / 'no such folder'}")
    w.panel.use_new_folder()
    assert w.panel.is_valid()
    with qtbot.waitSignal(w.controller.threadFinished, timeout=15_000):
        w.act_start.trigger()
    assert w.errors and w.errors[-1][0] == "Cannot start the run"
    assert "no such folder" in w.errors[-1][1]
    assert w.act_start.isEnabled() and w.windowTitle() == "GenStudio — no run"


def test_divergence_shows_its_message_and_sets_the_panel_to_resume(qtbot, make_window, tmp_path):
    w = make_window()
    run = tmp_path / "run4"
    _start(w, run, steps=30)
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        pass
    w.panel.use_new_folder()
    w.controller.run_dir = run  # what a diverged run reports, replayed through the real slot
    w.controller.runFinished.emit(Finished(30, "diverged", "loss_D became nan at step 30"))
    assert w.errors[-1] == ("diverged", "loss_D became nan at step 30")
    assert w.panel.resume_requested() and w.panel.run_folder() == run


def test_invalid_fields_show_a_message_and_disable_start(qtbot, make_window):
    w = make_window()
    w.panel.set_fields(GAN_FIELDS)
    assert w.act_start.isEnabled()
    err = w.panel._errors["lr"]
    for text in ("fast", "0"):
        w.panel.lr.clear()
        qtbot.keyClicks(w.panel.lr, text)  # typed, as a user would
        assert not w.act_start.isEnabled()
        assert not err.isHidden() and "learning rate" in err.text().lower()
    w.panel.lr.clear()
    qtbot.keyClicks(w.panel.lr, "1e-4")
    assert w.act_start.isEnabled() and err.isHidden()
    assert w.panel.config().lr == 1e-4


def test_layout_folders_and_settings_persist(qtbot, make_window, tmp_path):
    w = make_window("persist.ini")
    w.show()
    w.resize(701, 555)  # the offscreen screen is 800 × 800
    w.panel.set_fields({**GAN_FIELDS, "batch": 32, "steps": 777, "lr": "3e-4", "kind": "diffusion"})
    w.close()
    w2 = make_window("persist.ini")
    w2.show()
    assert (w2.size().width(), w2.size().height()) == (701, 555)
    f = w2.panel.fields()
    assert (f["batch"], f["steps"], f["lr"], f["kind"]) == (32, 777, "3e-4", "diffusion")


def test_shortcuts_and_title(make_window):
    w = make_window()
    assert w.act_start.shortcut().toString() == "Ctrl+Return"
    assert w.act_open.shortcut().toString() == "Ctrl+O"
    assert w.act_open_run.shortcut().toString() == "Ctrl+Shift+O"
    assert w.act_quit.shortcut().toString() == "Ctrl+Q"
    assert "Ctrl+." in w.act_stop.toolTip()
    assert w.windowTitle() == "GenStudio — no run"
    assert w.tabs.tabText(0) == "Monitor"
    from PySide6.QtWidgets import QLabel

    extra = QLabel("a view")
    assert w.add_view("Extra", extra) == 5 and w.view("Extra") is extra  # after Monitor, Latent, Scrubber, SR, Autoencoder


def test_open_checkpoint_emits_the_model(qtbot, make_window, tmp_path):
    w = make_window()
    run = tmp_path / "run5"
    _start(w, run, steps=20)
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        pass
    path = RunDir(run).last_checkpoint
    with qtbot.waitSignal(w.checkpointOpened, timeout=5_000) as blocker:
        assert w.open_checkpoint(path) is not None
    assert blocker.args[0] == str(path) and blocker.args[1].kind == "gan"
    assert "last.safetensors" in w.windowTitle() and "last.safetensors" in w.statusBar().currentMessage()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    assert w.open_checkpoint(bad) is None
    assert w.errors[-1][0] == "Cannot open the checkpoint"


def test_a_run_folder_named_on_the_command_line_opens(qtbot, tmp_path):
    # run_app(argv) = make_application + create_main_window(argv) + exec(); exec() is left out here:
    # its aboutToQuit makes pyqtgraph tear down every plot in this shared test process.
    from genstudio.config import RunConfig
    from genstudio.gui.app import create_main_window, resource_path

    rd = RunDir(tmp_path / "cli run")
    rd.write_config(RunConfig(kind="gan", data="ring8", steps=100))
    for s in (10, 20, 30):
        rd.append_metrics(s, {"loss_D": 1.0, "loss_G": 1.0, "D(x)": 0.5, "D(G(z))": 0.5})
    w = create_main_window([str(rd.path)])
    qtbot.addWidget(w)
    w.show_error = lambda *args: pytest.fail(f"unexpected error dialog {args}")
    qtbot.waitUntil(lambda: w.monitor.gan_losses.point_count("loss_D") == 3, timeout=2_000)
    assert "cli run" in w.windowTitle()
    assert resource_path("icon.png").exists() and resource_path("style.qss").exists()
    w.close()
