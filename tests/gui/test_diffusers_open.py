"""A diffusers model folder opens in the scrubber from File ▸ Open diffusers model folder, a drop
or the command line, off the GUI thread, and samples there like GenStudio's own models."""

from __future__ import annotations

import pytest

from genstudio.sampling import SampleSpec
from tiny_models import tiny_diffusers_pipeline

pytest.importorskip("diffusers")


def test_a_diffusers_folder_opens_in_the_scrubber_and_samples(make_window, qtbot, tmp_path):
    from genstudio.gui.app import open_path

    folder = tmp_path / "ddpm-cifar-like"
    tiny_diffusers_pipeline(folder)
    w = make_window()
    opened = []
    w.checkpointOpened.connect(lambda p, m: opened.append(m))
    with qtbot.waitSignal(w.checkpointOpened, timeout=60_000):
        assert open_path(w, str(folder))  # a folder with config files, yet not taken for a run folder
    qtbot.waitUntil(lambda: not w.loader.is_busy(), timeout=5000)
    assert not w.errors and opened[0].sample_shape == (3, 8, 8)
    assert "diffusers UNet2DModel" in w.statusBar().currentMessage()
    scrubber = w.scrubber
    qtbot.waitUntil(lambda: scrubber.model() is opened[0], timeout=10_000)
    assert w.follower is None  # it did not start following it as a run
    assert scrubber.reverse.sample(SampleSpec(2, 0, "ddim", steps=5))
    qtbot.waitUntil(lambda: not scrubber.reverse.is_busy(), timeout=30_000)
    result = scrubber.reverse.state.result
    assert result is not None and result.final.shape == (2, 3, 8, 8) and len(result.trajectory) == 5


def test_a_folder_that_is_no_model_says_so(make_window, qtbot, tmp_path):
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline", "vae": ["d", "A"]}')
    w = make_window()
    with qtbot.waitSignal(w.loader.failed, timeout=20_000):
        w.open_run_folder(tmp_path)
    qtbot.waitUntil(lambda: not w.loader.is_busy(), timeout=5000)
    assert "has no unet/ folder: a Stable Diffusion pipeline needs" in w.errors[-1][1]
