"""The nearest-training-images strip in the Latent and Scrubber views: the sample's k nearest training
images with their distances, the copy / new verdict with its threshold, pixels or features."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.bundled import bundled_path
from genstudio.gui.widgets.latent_panel import LatentView
from genstudio.gui.widgets.neighbour_strip import K_SHOWN, NeighbourStrip
from genstudio.gui.widgets.scrubber import ScrubberView
from genstudio.loading import load_model
from genstudio.memorisation import training_index
from genstudio.sampling import SampleSpec

from tiny_models import tiny_image_model

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def ddpm_digits():
    return load_model(bundled_path("ddpm_digits"), "cpu")


def wait_shown(qtbot, strip: NeighbourStrip, what: str | None = None, space: str | None = None) -> None:
    qtbot.waitUntil(lambda: strip.idle() and strip.shown is not None
                    and (what is None or strip.shown.what == what)
                    and (space is None or strip.shown.space == space), timeout=WAIT_MS)


def test_the_latent_view_shows_the_nearest_training_digits_of_g_z(qtbot):
    view = LatentView()
    qtbot.addWidget(view)
    view.resize(1100, 800)
    view.show()
    try:
        model = load_model(bundled_path("dcgan_digits"), "cpu")
        view.set_model(model)
        strip = view.neighbours
        assert strip.isVisible()
        wait_shown(qtbot, strip, "G(z), seed 0")
        shown = strip.shown
        assert shown.space == "pixels" and len(shown.indices) == K_SHOWN
        assert (np.diff(shown.distances) >= 0).all() and np.isclose(shown.ratio, shown.distances[0] / shown.distances[1])
        # the same search by the core, on the picture the view drew
        qtbot.waitUntil(view.idle, timeout=WAIT_MS)
        out = model.generate(model.noise(1, 0))[0].numpy()
        expected = training_index(model).nearest(np.clip(out, -1, 1)[None], k=K_SHOWN)
        assert (expected.indices[0] == shown.indices).all()
        assert strip.views[0].caption() == f"#{shown.indices[0]}  d {shown.distances[0]:.1f}"
        verdict = "COPY" if shown.copy else "NEW"
        assert strip.text().startswith(verdict) and "0.33" in strip.text() and "1,797 training images" in strip.text()
        strip.space.setCurrentIndex(strip.space.findData("features"))
        wait_shown(qtbot, strip, space="features")
        view.state.set_seed(5)
        wait_shown(qtbot, strip, "G(z), seed 5", "features")
    finally:
        view.shutdown()


def test_a_training_image_is_a_copy_and_a_model_without_its_data_says_so(qtbot, ddpm_digits):
    strip = NeighbourStrip()
    qtbot.addWidget(strip)
    try:
        strip.set_model(ddpm_digits)
        train = training_index(ddpm_digits).images
        strip.show_sample(train[5].numpy(), "digit #5")
        wait_shown(qtbot, strip, "digit #5")
        assert strip.shown.copy and strip.shown.indices[0] == 5 and strip.shown.ratio == 0
        assert strip.text().startswith("COPY (d₁/d₂ 0.00 < 0.33)")
        colour = tiny_image_model(20, 3, 8, data="shapes")  # no config: no training set to search
        strip.set_model(colour)
        assert strip.space.model().item(1).isEnabled()  # RGB: the faces classifier's features
        strip.show_sample(np.zeros((3, 8, 8), np.float32))
        qtbot.waitUntil(lambda: strip.idle() and "no nearest training images" in strip.text(), timeout=WAIT_MS)
        assert "does not say which data set" in strip.text()
    finally:
        strip.shutdown()


def test_the_scrubber_shows_the_selected_final_samples_neighbours(qtbot, ddpm_digits):
    view = ScrubberView()
    qtbot.addWidget(view)
    view.resize(1200, 850)
    view.show()
    try:
        view.tabs.setCurrentWidget(view.reverse)
        view.set_model(ddpm_digits)
        rev = view.reverse
        assert rev.sample(SampleSpec(n=2, sampler="ddim", steps=5))
        wait_shown(qtbot, rev.neighbours, "final sample #0")
        rev.state.select(1)
        wait_shown(qtbot, rev.neighbours, "final sample #1")
        nb = training_index(ddpm_digits).nearest(np.clip(rev.state.result.final[1:2], -1, 1), k=K_SHOWN)
        assert (nb.indices[0] == rev.neighbours.shown.indices).all()
    finally:
        view.shutdown()
