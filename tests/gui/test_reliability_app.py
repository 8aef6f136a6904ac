"""The app under faults: a diverging or out-of-memory run pauses and asks how to go on, impossible
settings and unusable folders or checkpoints get a message, and closing the window mid-run (or
mid-sampling) twenty times in a row stops cleanly every time.

Dialogs are the window's hooks (``ask_recovery``, ``show_error``, ``confirm_close``), replaced here.
"""

from __future__ import annotations

import json
import os
import pickle
import struct

import pytest
import torch

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from genstudio.checkpoint import load_checkpoint, read_header  # noqa: E402
from genstudio.config import RunConfig  # noqa: E402
from genstudio.gan.trainer import GanTrainer  # noqa: E402
from genstudio.gui import dialogs  # noqa: E402
from genstudio.gui.main_window import MainWindow  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.runs.loop import run_to_end  # noqa: E402

GAN = {"kind": "gan", "data": "ring8", "steps": 20000, "batch": 64, "lr": "2e-4", "preview_every": 50,
       "device": "cpu", "seed": 0}
DIFFUSION = {**GAN, "kind": "diffusion", "lr": "1e-3"}




def _start(w: MainWindow, folder, fields=GAN, **more) -> None:
    w.panel.set_fields({**fields, **more})
    w.panel.folder.setText(str(folder))
    assert w.panel.is_valid(), [e.text() for e in w.panel._errors.values() if not e.isHidden()]
    w.act_start.trigger()
    assert w.controller.is_running()


def _finite(path) -> bool:
    tensors, _ = load_checkpoint(path)
    return all(bool(torch.isfinite(v).all()) for k, v in tensors.items() if k.startswith("model/"))


def _stop(qtbot, w: MainWindow) -> tuple[str, int, str, str]:
    with qtbot.waitSignal(w.controller.threadFinished, timeout=20_000):
        w.act_stop.trigger()
    return w.controller.last_result


# ------------------------------------------------------------------------------------ divergence
def test_a_diverging_run_pauses_goes_back_and_resumes_with_a_lower_rate(qtbot, make_window, tmp_path):
    w = make_window()
    run = tmp_path / "diverge"
    _start(w, run, DIFFUSION)
    qtbot.waitUntil(lambda: w.run_status.step_value() >= 15, timeout=30_000)
    w.act_save.trigger()  # a good checkpoint to go back to
    qtbot.waitUntil(lambda: RunDir(run).last_checkpoint.exists(), timeout=10_000)
    good = read_header(RunDir(run).last_checkpoint)["step"]
    seen = []

    def ask(reason, step, message, config):
        rd = RunDir(run)
        seen.append((reason, step, message, config.lr, read_header(rd.last_checkpoint)["step"],
                     _finite(rd.last_checkpoint), w.monitor.diffusion_loss.point_count("loss"),
                     w.controller.state, w.act_pause.text()))
        return {"lr": 1e-3}

    w.ask_recovery = ask
    w.controller.pause()
    w.controller.resume(lr=1e5)  # what a wild learning rate does: the diffusion loss explodes
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    reason, step, message, lr, saved, finite, points, state, pause_text = seen[0]
    assert (reason, step, lr, saved, finite) == ("diverged", good, 1e5, good, True)
    assert state == "paused" and pause_text == "Resume"  # shown paused while asking
    assert f"step {good})" in message and "became" in message and "at step" in message
    assert points == len(RunDir(run).read_metrics())  # the curves went back with the run
    qtbot.waitUntil(lambda: w.run_status.step_value() > good + 20, timeout=30_000)
    assert w.controller.config.lr == 1e-3 and w.controller.state == "running"
    assert w.panel.message.text() == f"Resumed at step {good:,} with learning rate 0.001."
    reason, step, _, _ = _stop(qtbot, w)
    assert reason == "stopped" and _finite(RunDir(run).last_checkpoint)
    steps = [r["step"] for r in RunDir(run).read_metrics()]
    assert steps == list(range(10, step + 1, 10))  # no gap and no repeat after the roll-back
    assert json.loads(RunDir(run).config_path.read_text())["lr"] == 1e-3
    assert not w.errors


def test_stopping_a_diverged_run_keeps_the_good_state(qtbot, make_window, tmp_path):
    w = make_window()
    run = tmp_path / "wild"
    seen = []
    w.ask_recovery = lambda *args: seen.append(args)  # returns None: "Stop the run"
    _start(w, run, DIFFUSION, lr="1e5")  # wild from the start: back to step 0
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        pass
    assert seen and seen[0][:2] == ("diverged", 0) and "its start" in seen[0][2]
    reason, step, _, checkpoint = w.controller.last_result
    assert (reason, step) == ("stopped", 0) and _finite(checkpoint)
    assert w.panel.resume_requested() and w.act_start.isEnabled()  # Start resumes, e.g. with a lower rate
    assert not w.errors


def test_a_later_resume_from_the_panel_keeps_the_rate_set_in_the_recovery_dialog(qtbot, make_window, tmp_path):
    """The run owns its live settings (config.json): after the dialog lowered the rate and the run was
    stopped, the form shows that rate and Start (Resume ticked) trains with it, not the one that diverged."""
    w = make_window()
    run = tmp_path / "lowered"
    w.ask_recovery = lambda reason, step, message, config: {"lr": 1e-3}
    _start(w, run, DIFFUSION, lr="1e5")  # wild from the start: the dialog lowers it
    qtbot.waitUntil(lambda: w.controller.state == "running" and w.run_status.step_value() > 15, timeout=30_000)
    assert _stop(qtbot, w)[0] == "stopped"
    assert RunDir(run).read_config().lr == 1e-3
    assert w.panel.resume_requested() and float(w.panel.lr.text()) == 1e-3  # the form shows the run's rate
    w.ask_recovery = lambda *args: pytest.fail(f"the rate that diverged came back {args}")
    w.act_start.trigger()  # Resume from the panel
    assert w.controller.is_running()
    with qtbot.waitSignal(w.controller.runStarted, timeout=30_000) as started:
        pass
    assert w.controller.config.lr == 1e-3 and RunDir(run).read_config().lr == 1e-3
    qtbot.waitUntil(lambda: w.run_status.step_value() > 30, timeout=30_000)
    assert _stop(qtbot, w)[0] == "stopped" and not w.errors


# ------------------------------------------------------------------------------------ out of memory
def _oom_at(monkeypatch, step: int, while_batch_above: int = 0,
            error=lambda: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")) -> None:
    real = GanTrainer.train_step

    def train_step(self, batch):
        if self.step + 1 == step and self.config.batch > while_batch_above:
            raise error()
        return real(self, batch)

    monkeypatch.setattr(GanTrainer, "train_step", train_step)


def test_out_of_memory_pauses_and_resumes_with_a_smaller_batch(qtbot, make_window, tmp_path, monkeypatch):
    _oom_at(monkeypatch, 30, while_batch_above=16)
    w = make_window()
    run = tmp_path / "oom"
    seen = []
    w.ask_recovery = lambda *args: (seen.append(args), {"batch": args[3].batch // 4})[1]
    _start(w, run)
    qtbot.waitUntil(lambda: w.run_status.step_value() > 60, timeout=30_000)
    (reason, step, message, config), = seen
    assert (reason, step, config.batch) == ("out of memory", 29, 64)
    assert "batch 64" in message and "smaller batch" in message
    assert w.controller.config.batch == 16
    _stop(qtbot, w)
    assert load_checkpoint(RunDir(run).last_checkpoint)[1]["config"]["batch"] == 16
    assert not w.errors


def test_out_of_memory_then_stop_keeps_the_work_and_the_app(qtbot, make_window, tmp_path, monkeypatch):
    _oom_at(monkeypatch, 30)
    w = make_window()
    w.ask_recovery = lambda *args: None
    _start(w, tmp_path / "oom")
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        pass
    reason, step, _, checkpoint = w.controller.last_result
    assert (reason, step) == ("stopped", 29) and read_header(checkpoint)["step"] == 29
    monkeypatch.undo()
    w.panel.use_new_folder()  # New: a fresh run; the app goes on
    _start(w, tmp_path / "after")
    qtbot.waitUntil(lambda: w.run_status.step_value() > 5, timeout=30_000)
    assert _stop(qtbot, w)[0] == "stopped" and not w.errors


def test_an_unexpected_error_says_which_step_is_saved(qtbot, make_window, tmp_path, monkeypatch):
    _oom_at(monkeypatch, 30, error=lambda: RuntimeError("CUDA error: an illegal memory access was encountered"))
    w = make_window()
    _start(w, tmp_path / "crash")
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        pass
    (title, message), = w.errors
    assert title == "The run stopped with an error"
    assert "illegal memory access" in message and "Step 29 is saved" in message
    assert read_header(RunDir(tmp_path / "crash").last_checkpoint)["step"] == 29


def test_the_recovery_dialog_suggests_and_checks_values(qtbot):
    config = RunConfig(lr=2e-4, batch=64)
    d = dialogs.RecoveryDialog("diverged", 120, "loss_D became nan at step 130", config)
    qtbot.addWidget(d)
    assert d.lr.text() == "2e-05" and d.batch.value() == 64 and d.changes() == {"lr": 2e-5}
    for bad in ("1e9", "-1", "nan", "fast", ""):
        d.lr.setText(bad)
        assert d.changes() is None and not d.resume_button.isEnabled() and not d.problem.isHidden()
    d.lr.setText("1e-4")
    assert d.resume_button.isEnabled() and d.changes() == {"lr": 1e-4}
    o = dialogs.RecoveryDialog("out of memory", 12, "out of memory at step 13 with batch 64", config)
    qtbot.addWidget(o)
    assert o.batch.value() == 32 and o.changes() == {"batch": 32} and "Out of memory" in o.windowTitle()

    def answer(accept: bool) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, dialogs.RecoveryDialog)
        box.accept() if accept else box.reject()

    QTimer.singleShot(0, lambda: answer(True))
    assert dialogs.ask_recovery(None, "diverged", 5, "m", config) == {"lr": 2e-5}
    QTimer.singleShot(0, lambda: answer(False))
    assert dialogs.ask_recovery(None, "diverged", 5, "m", config) is None


# ------------------------------------------------------------------------------------ settings and folders
LR_REFUSED = {"1e9": "at most 1e6", "-1e9": "> 0", "-0.001": "> 0", "0": "> 0", "nan": "finite",
              "inf": "finite", "fast": "number like", "": "number like"}


def test_an_impossible_learning_rate_is_refused_with_a_message(qtbot, make_window):
    w = make_window()
    w.panel.set_fields(GAN)
    err = w.panel._errors["lr"]
    for text, words in LR_REFUSED.items():
        w.panel.lr.clear()
        qtbot.keyClicks(w.panel.lr, text or "1")  # typed, as a person would
        if not text:
            qtbot.keyClick(w.panel.lr, Qt.Key.Key_Backspace)
        assert not err.isHidden() and words in err.text() and "earning rate" in err.text(), (text, err.text())
        assert not w.act_start.isEnabled() and not w.start_run() and not w.controller.is_running()
    w.panel.lr.clear()
    qtbot.keyClicks(w.panel.lr, "1e-3")
    assert err.isHidden() and w.act_start.isEnabled()
    assert not w.errors


def test_whole_number_fields_cannot_hold_zero_negative_or_text(qtbot, make_window):
    w = make_window()
    w.panel.set_fields(GAN)
    for field in ("batch", "steps", "preview_every", "seed"):
        box = getattr(w.panel, field)
        low = box.minimum()
        for text in ("-5", "abc", "0" if low else "-1"):
            box.lineEdit().selectAll()
            qtbot.keyClicks(box, text)
            box.interpretText()
            assert box.value() >= low, (field, text)
        w.panel.set_fields({field: low - 1})  # a bad stored value is clamped, never kept
        assert box.value() >= low
        assert w.panel.is_valid() and getattr(w.panel.config(), field) >= low


UNUSABLE_FOLDERS = {  # name -> (make it, words of the message)
    "missing": (lambda p: None, "folder not found"),
    "no images": (lambda p: (p.mkdir(), (p / "notes.txt").write_text("hi")), "no image files"),
    "only broken images": (lambda p: (p.mkdir(), (p / "a.png").write_bytes(b""), (p / "b.jpg").write_text("x")),
                           "no usable image"),
}


def test_an_unusable_image_folder_gets_a_message_and_the_app_goes_on(qtbot, make_window, tmp_path):
    w = make_window()
    for name, (make_folder, words) in UNUSABLE_FOLDERS.items():
        images = tmp_path / name
        make_folder(images)
        w.panel.set_fields(GAN)
        w.panel.set_data(f"folder:{images}")
        w.panel.use_new_folder()
        with qtbot.waitSignal(w.controller.threadFinished, timeout=15_000):
            assert w.start_run()
        title, message = w.errors.pop()
        assert title == "Cannot start the run" and words in message and "\n" not in message, (name, message)
        assert w.act_start.isEnabled() and w.windowTitle() == "GenStudio — no run"
    assert not w.errors


# ------------------------------------------------------------------------------------ bad checkpoints
class Payload:
    marker = ""

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def _header_and_body(path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def _rewritten(src, dst, change):
    header, body = _header_and_body(src)
    meta = json.loads(header["__metadata__"]["genstudio"])
    change(meta)
    header["__metadata__"]["genstudio"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


BAD = {  # name -> (make(good, path), words of the message)
    "empty": (lambda good, p: p.write_bytes(b""), "empty"),
    "truncated": (lambda good, p: p.write_bytes(good.read_bytes()[: good.stat().st_size // 2]), "not a readable"),
    "random bytes": (lambda good, p: p.write_bytes(os.urandom(4096)), "not a readable"),
    "pickle": (lambda good, p: p.write_bytes(pickle.dumps({"tensors": Payload()})), "pickle"),
    "torch zip with code": (lambda good, p: torch.save({"x": Payload()}, p), "never unpickles code"),
    "newer format": (lambda good, p: _rewritten(good, p, lambda m: m.update(format=999)), "newer"),
    "wrong architecture": (lambda good, p: _rewritten(good, p, lambda m: m["models"]["G"].update(arch="vit")), "vit"),
    "wrong shapes": (lambda good, p: _rewritten(good, p, lambda m: m["models"]["G"]["args"].update(hidden=17)),
                     "has shape"),
}


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    run = tmp_path_factory.mktemp("good") / "run"
    run_to_end(RunConfig(kind="gan", data="ring8", steps=3, batch=8, num_points=200, log_every=1,
                         preview_every=1000, checkpoint_every=1000), run)
    return RunDir(run).last_checkpoint


def test_unusable_checkpoints_get_a_dialog_and_the_app_keeps_working(qtbot, make_window, tmp_path,
                                                                    good_checkpoint):
    w = make_window()
    Payload.marker = str(tmp_path / "MARKER")
    for i, (name, (make, words)) in enumerate(BAD.items()):
        path = tmp_path / f"bad{i}{'.pt' if 'torch' in name else '.safetensors'}"
        make(good_checkpoint, path)
        assert w.open_checkpoint(path) is None, name
        title, message = w.errors[-1]
        assert title == "Cannot open the checkpoint" and "\n" not in message and words in message, (name, message)
        assert w.loaded_checkpoint is None
    assert len(w.errors) == len(BAD)
    assert not (tmp_path / "MARKER").exists()  # no payload ran
    assert w.open_checkpoint(good_checkpoint) is not None and w.loaded_checkpoint == str(good_checkpoint)
    from genstudio.loading import load_model  # a GAN handed to the diffusion scrubber: a note, no crash

    w.scrubber.set_model(load_model(good_checkpoint, "cpu"))
    assert "GAN" in w.scrubber._status.text()


# ------------------------------------------------------------------------------------ shutdown
@pytest.fixture(scope="module")
def diffusion_checkpoint(tmp_path_factory):
    run = tmp_path_factory.mktemp("diffusion") / "run"
    run_to_end(RunConfig(kind="diffusion", data="ring8", steps=3, batch=8, num_points=200, beta1=0.9,
                         log_every=1, preview_every=1000, checkpoint_every=1000), run)
    return RunDir(run).last_checkpoint


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0


def test_closing_the_window_mid_run_twenty_times(qtbot, make_window, tmp_path, qtlog, diffusion_checkpoint):
    """Close at once, after some steps, while paused, while paused on a fault and while sampling."""
    from genstudio.loading import load_model

    make_window("warm.ini").close()  # first-window costs (fonts, plots) out of the thread count
    threads_before = _os_threads()
    for i in range(20):
        w = make_window(f"w{i}.ini")
        run = tmp_path / f"close{i}"
        way = ("at once", "steps", "paused", "fault", "sampling")[i % 5]
        if way == "fault":
            w.ask_recovery = lambda *args: (w.close(), None)[1]  # the person quits instead of answering
        if way == "sampling":  # the reverse sampler's thread runs alongside training
            w.scrubber.reverse.set_model(load_model(diffusion_checkpoint, "cpu"))
            assert w.scrubber.reverse.sample()
        _start(w, run, DIFFUSION if way == "fault" else GAN, **({"lr": "1e5"} if way == "fault" else {}))
        if way in ("steps", "paused", "sampling"):
            qtbot.waitUntil(lambda: w.run_status.step_value() > 3, timeout=30_000)
        if way == "paused":
            w.act_pause.trigger()
        if way == "fault":
            qtbot.waitUntil(lambda: not w.controller.is_running(), timeout=30_000)
        else:
            assert w.close()
        assert w.controller.thread is None and not w.isVisible(), way
        reason, step, _, checkpoint = w.controller.last_result
        assert reason == "stopped", way
        tensors, meta = load_checkpoint(checkpoint)
        assert meta["step"] == step and _finite(checkpoint), way
        if way == "sampling":
            assert not w.scrubber.reverse.is_busy()
    assert not [r.message for r in qtlog.records if "Destroyed while thread" in r.message]
    assert _os_threads() <= threads_before + 2, "threads left behind"
