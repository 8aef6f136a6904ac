"""Each tab's hint describes what the tab shows: no ring8 text for a diffusion run, no "face" on
the ring8 latent pad, no digit for a ring of points."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from genstudio.config import RunConfig  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.runs.loop import run_to_end  # noqa: E402

TINY = RunConfig(kind="gan", data="ring8", steps=2, batch=16, log_every=1, preview_every=100,
                 checkpoint_every=100, device="cpu", seed=0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hints")
    for kind in ("gan", "diffusion"):
        run_to_end(TINY.replace(kind=kind), root / kind)
    return root


def test_the_hints_follow_the_model_each_tab_shows(qtbot, make_window, runs):
    w = make_window()
    w.show()
    qtbot.waitExposed(w)
    assert "eight Gaussians" in w.hints["Monitor"].text()  # nothing shown yet: the first-run invitation
    w.show_view("Latent")
    qtbot.waitUntil(lambda: "drag a slider and the picture follows" in w.hints["Latent"].text(), timeout=2_000)

    w.open_checkpoint(RunDir(runs / "gan").last_checkpoint)  # the ring8 GAN: a latent pad
    latent = w.hints["Latent"].text()
    assert "latent pad" in latent and "face" not in latent

    w.open_checkpoint(RunDir(runs / "diffusion").last_checkpoint)  # ring8 diffusion in the Scrubber
    scrubber = w.hints["Scrubber"].text()
    assert "dissolve the points" in scrubber and "digit" not in scrubber

    assert w.open_run_folder(runs / "diffusion")  # a diffusion run in the Monitor
    monitor = w.hints["Monitor"].text()
    assert "eight Gaussians" not in monitor and "GAN" not in monitor and "ring8" in monitor
    assert w.hints["Monitor"].button.text() == "Train a GAN on ring8"  # the one-click run stays on offer
    assert w.open_run_folder(runs / "gan")
    assert "eight Gaussians" in w.hints["Monitor"].text()


def test_image_models_get_their_own_words():
    from genstudio.gui.widgets.hint import latent_hint, monitor_hint, scrubber_hint

    assert "the digit follows" in latent_hint(False, "digits")
    assert "the face follows" in latent_hint(False, "faces")
    assert "dissolve a shape" in scrubber_hint(False, "shapes")
    assert "into faces" in monitor_hint("diffusion", False, "faces")
    assert "grid of digits" in monitor_hint("gan", False, "digits")
    spiral = monitor_hint("gan", True, "spiral")  # a 2-D GAN on other data is not told about ring8's modes
    assert "the spiral points" in spiral and "eight Gaussians" not in spiral


def test_a_text_to_image_model_gets_a_hint_about_prompts(qtbot, make_window):
    from pathlib import Path

    w = make_window()
    w.show()
    qtbot.waitExposed(w)
    w.open_checkpoint(Path(__file__).resolve().parents[2] / "checkpoints" / "t2i_digits.safetensors")
    qtbot.waitUntil(lambda: "type a prompt" in w.hints["Scrubber"].text(), timeout=20_000)
    assert "Branch here" in w.hints["Scrubber"].text() and "dissolve" not in w.hints["Scrubber"].text()


def test_the_2d_legends_call_diffusion_points_samples_and_gan_points_fake(qtbot):
    from genstudio.gui.widgets.monitor import MonitorView
    from genstudio.gui.widgets.reverse_view import ReverseView

    rev = ReverseView()
    qtbot.addWidget(rev)
    assert rev._cloud.legend_names() == ["real", "samples"]
    rev.shutdown()
    m = MonitorView()
    qtbot.addWidget(m)
    m.begin("diffusion", points=True)
    assert m.points.legend_names() == ["real", "samples"]
    m.begin("gan", points=True)
    assert m.points.legend_names() == ["real", "fake"]
