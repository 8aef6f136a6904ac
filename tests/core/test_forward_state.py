"""The scrubber's forward-process state without Qt: schedules, compare mode, x_0 and ε, t."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.views.forward import ForwardState

from tiny_models import tiny_image_model


def test_another_schedule_is_compare_mode_and_t_keeps_its_place():
    s, seen = ForwardState(), []
    s.changed.connect(seen.append)
    model = tiny_image_model(num_steps=40)
    s.set_model(model)
    assert s.schedule is model.schedule and s.uses_model()
    s.set_timestep(39)
    v = s.version
    s.set_schedule("cosine", 200)
    assert s.compare and not s.uses_model() and s.why_no_prediction() == "compare mode"
    assert s.timestep == 199 and s.version > v and "schedule" in seen
    s.use_model_schedule()
    assert not s.compare and s.schedule is model.schedule and s.timestep == 39
    with pytest.raises(ValueError, match="linear"):
        s.set_schedule("quadratic", 10)


def test_x0_is_fitted_to_the_model_and_noised_with_a_fixed_eps():
    s = ForwardState()
    s.set_model(tiny_image_model(num_steps=40))  # 1 channel, 8 px
    s.set_x0(np.zeros((3, 32, 32), np.float32), "a file")
    assert s.process.x0.shape == (1, 1, 8, 8) and s.dataset == ""
    s.set_timestep(0)
    a, b = s.process.coefficients(0)
    np.testing.assert_allclose(s.frame(), a * s.process.x0 + b * s.process.eps, rtol=1e-6)
    eps = s.process.eps.copy()
    s.new_noise()
    assert s.seed == 1 and not np.array_equal(eps, s.process.eps)
    with pytest.raises(ValueError, match="noises images"):
        s.set_x0(np.zeros((100, 2), np.float32), "ring8 #0")
    s.set_x0(np.zeros((1, 8, 8), np.float32), "digits #4")
    assert s.dataset == "digits"
