"""The run panel never resumes a run the person did not mean.

Changing what defines the run unticks Resume; Start with Resume ticked on a folder whose run is a
different run asks first (resume it as it was / a new run in a new folder / cancel); a start the
worker refuses shows words, not a traceback, and the followed run stays in the Monitor.
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from genstudio.config import RunConfig  # noqa: E402
from genstudio.gui import dialogs  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.runs.identity import defining_differences  # noqa: E402
from genstudio.runs.loop import run_to_end  # noqa: E402

RING8 = RunConfig(kind="gan", data="ring8", steps=4, batch=16, log_every=1, preview_every=100,
                  checkpoint_every=100, device="cpu", seed=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained") / "ring8 run"
    run_to_end(RING8, folder)
    return folder


@pytest.fixture
def run(trained, tmp_path):
    """A fresh copy of a finished 4-step ring8 GAN run."""
    folder = tmp_path / "ring8 run"
    shutil.copytree(trained, folder)
    return folder


def _follow(qtbot, w, run):
    assert w.open_run_folder(run)
    qtbot.waitUntil(lambda: w.monitor.gan_losses.point_count("loss_D") > 0, timeout=5_000)
    assert w.panel.resume_requested() and w.panel.run_folder() == run


def test_changing_the_model_or_the_data_unticks_resume_and_picks_a_new_folder(qtbot, make_window, run):
    w = make_window()
    for change in (lambda p: p.kind.setCurrentIndex(p.kind.findData("diffusion")),
                   lambda p: p.data.setCurrentIndex(p.data.findData("digits"))):
        _follow(qtbot, w, run)
        change(w.panel)  # what choosing in the combo box does
        assert not w.panel.resume_requested()
        assert w.panel.run_folder() != run and not w.panel.run_folder().exists()
        assert "new run in a new folder" in w.panel.message.text()
        assert w.act_start.isEnabled()


def test_start_on_a_folder_holding_a_different_run_asks_first(qtbot, make_window, run):
    w = make_window()
    _follow(qtbot, w, run)
    w.panel.kind.setCurrentIndex(w.panel.kind.findData("diffusion"))
    w.panel.folder.setText(str(run))  # the person points the form back at the GAN run by hand
    w.panel.resume.setChecked(True)
    w.panel.steps.setValue(6)
    asked = []
    w.ask_resume_mismatch = lambda folder, differences: asked.append(differences)  # Cancel
    assert not w.start_run()
    assert asked == [["model: GAN in the folder, Diffusion in the form"]]
    assert not w.controller.is_running() and not w.errors
    assert w.follower is not None and w.monitor.gan_losses.point_count("loss_D") > 0  # still shown

    # "start a new run in a new folder": the form's diffusion run, the GAN run untouched
    w.ask_resume_mismatch = lambda folder, differences: dialogs.START_NEW
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        assert w.start_run()
    assert w.controller.last_result[0] == "done", w.errors
    new = w.controller.run_dir
    assert new != run and RunDir(new).read_config().kind == "diffusion"
    assert RunDir(run).read_config().kind == "gan" and not w.errors

    # "resume the folder's run as it was": the GAN goes on from step 4 to 6
    w.panel.kind.setCurrentIndex(w.panel.kind.findData("diffusion"))
    w.panel.folder.setText(str(run))
    w.panel.resume.setChecked(True)
    w.ask_resume_mismatch = lambda folder, differences: dialogs.RESUME_AS_SAVED
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        assert w.start_run()
    assert w.controller.last_result[:2] == ("done", 6), w.errors
    assert w.controller.run_dir == run and w.panel.kind.currentData() == "gan"
    assert not w.errors


def test_a_refused_start_says_why_without_a_traceback_and_keeps_the_followed_run(qtbot, make_window, run,
                                                                                 tmp_path):
    w = make_window()
    shown = []
    w.show_error = lambda title, message, details="": shown.append((title, message, details))
    _follow(qtbot, w, run)
    w.panel.set_data(f"folder:{tmp_path / 'no such folder'}")  # the worker refuses it
    assert not w.panel.resume_requested()
    with qtbot.waitSignal(w.controller.threadFinished, timeout=15_000):
        assert w.start_run()
    (title, message, details), = shown
    assert title == "Cannot start the run" and "no such folder" in message
    assert "Traceback" not in message + details and 'File "' not in message + details
    assert w.follower is not None and w.follower.run_dir.path == run  # the Monitor follows it again
    qtbot.waitUntil(lambda: w.monitor.gan_losses.point_count("loss_D") > 0, timeout=5_000)
    assert "ring8 run" in w.windowTitle()


def test_the_resume_question_names_the_differences_and_its_choices(qtbot):
    seen = {}

    def answer():
        box = QApplication.activeModalWidget()
        seen["text"] = box.text() + "\n" + box.informativeText()
        seen["buttons"] = [b.text() for b in box.buttons()]
        next(b for b in box.buttons() if b.text().startswith("Start a new run")).click()

    QTimer.singleShot(0, answer)
    choice = dialogs.ask_resume_mismatch(None, "/runs/a", ["model: GAN in the folder, Diffusion in the form"])
    assert choice == dialogs.START_NEW
    assert "/runs/a" in seen["text"] and "GAN in the folder, Diffusion in the form" in seen["text"]
    assert any(t.startswith("Resume the folder") for t in seen["buttons"]) and "Cancel" in seen["buttons"]


def test_the_error_box_never_shows_a_traceback(qtbot):
    seen = {}

    def look():
        box = QApplication.activeModalWidget()
        seen["details"] = box.detailedText()
        box.done(QMessageBox.StandardButton.Ok)

    QTimer.singleShot(0, look)
    dialogs.show_error(None, "Oops", "it broke", 'Traceback (most recent call last):\n  File "x.py"')
    assert seen["details"] == ""


def test_defining_differences_compare_what_defines_the_model():
    gan = RunConfig(kind="gan", data="ring8")
    assert defining_differences(gan, gan.replace(lr=1e-3, steps=9, batch=8, size=64)) == []  # points: no size
    assert defining_differences(gan, gan.replace(arch="mlp", latent_dim=2)) == []  # the defaults, spelt out
    assert defining_differences(gan, gan.replace(latent_dim=8)) == ["latent dimension: 2 in the folder, "
                                                                   "8 in the form"]
    digits = RunConfig(kind="diffusion", data="digits", size=32)
    assert defining_differences(digits, digits.replace(size=16, schedule="cosine")) == [
        "resolution: 32 px in the folder, 16 px in the form",
        "noise schedule: linear in the folder, cosine in the form"]
    assert defining_differences(gan, digits) == ["model: GAN in the folder, Diffusion in the form",
                                                 "data: ring8 in the folder, digits in the form"]
