"""A sampler registered in one place (the ``toy_sampler`` fixture) reaches the app: the scrubber's
sampler list, its steps and η fields, the branch panel's η, and sampling and branching on the
scrubber's thread (issue 15's done-when test, app half)."""

from __future__ import annotations

import numpy as np

from genstudio.gui.widgets.scrubber import ScrubberView
from genstudio.sampling import SampleSpec, sample

from tiny_models import tiny_image_model

WAIT_MS = 20_000


def test_a_registered_sampler_is_listed_samples_and_branches_in_the_scrubber(qtbot, toy_sampler):
    view = ScrubberView()
    qtbot.addWidget(view)
    try:
        model = tiny_image_model(data="shapes")
        view.set_model(model)
        rev = view.reverse
        assert rev.controls.sampler_names()[:2] == ["ddpm", "ddim"] and toy_sampler in rev.controls.sampler_names()
        spec = SampleSpec(4, 0, toy_sampler, steps=5)
        rev.state.set_spec(spec)
        assert rev.state.spec.sampler == toy_sampler
        assert rev.controls._steps.isEnabled() and rev.controls._eta.isEnabled()  # it takes steps and η
        assert rev.sample()
        qtbot.waitUntil(lambda: not rev.is_busy() and rev.state.result is not None, timeout=WAIT_MS)
        result = rev.state.result
        assert result.spec.sampler == toy_sampler and len(result.trajectory) == 5
        ddim = sample(model, SampleSpec(4, 0, "ddim", steps=5, record=False)).final
        np.testing.assert_array_equal(result.final, ddim)
        assert rev.branch_panel.eta.isEnabled()  # the branch panel asks the registry: the toy takes η
        rev.bar.set_timestep(int(result.trajectory.timesteps[1]))  # the second step
        assert rev.branch(seed=3, eta=0.5)
        qtbot.waitUntil(lambda: rev.state.branch is not None and not rev.is_busy(), timeout=WAIT_MS)
        assert rev.state.branch[2] > 0
    finally:
        view.shutdown()
