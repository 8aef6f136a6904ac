"""The Latent view's style state, without Qt: ψ in W, directions in W, noise per layer, the layer
view and the mixing grid, on a tiny untrained style generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.models.stylegan import StyleGenerator
from genstudio.stylegan.model import StyleGanModel
from genstudio.views.style import StyleState, w_directions


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    G = StyleGenerator(nz=16, w_dim=16, mapping_layers=2, width=16, nc=3, size=16)
    with torch.no_grad():
        for layer in G.convs:
            layer.noise_strength.fill_(0.5)  # an untrained G has zero noise strength: give the noise a say
        G.w_avg.copy_(torch.randn(16))
    return StyleGanModel(G, {"kind": "stylegan"}, torch.device("cpu"))


def _state(model) -> tuple[StyleState, list]:
    s = StyleState()
    seen: list = []
    s.changed.connect(lambda what, index: seen.append((what, index)))
    s.set_model(model)
    return s, seen


def test_a_model_without_styles_leaves_the_state_inactive():
    s = StyleState()
    s.set_model(object())
    assert not s.active


def test_psi_zero_renders_the_mean_w_whatever_z(model):
    s, seen = _state(model)
    s.set_psi(0.0)
    a, _ = s.render(model.noise(1, 1)[0].numpy())
    b, _ = s.render(model.noise(1, 2)[0].numpy())
    assert np.allclose(a, b, atol=1e-5) and ("psi", None) in seen
    with pytest.raises(ValueError, match="ψ"):
        s.set_psi(1.5)


def test_w_directions_move_the_picture_and_are_orthonormal(model):
    axes, sigmas = w_directions(model, n=500, k=4)
    assert np.allclose(axes @ axes.T, np.eye(4), atol=1e-4) and np.all(sigmas[:-1] >= sigmas[1:])
    s, _ = _state(model)
    s.set_directions(axes, sigmas)
    z = model.noise(1, 3)[0].numpy()
    before, _ = s.render(z)
    s.set_alpha(0, 3.0)
    after, _ = s.render(z)
    assert np.abs(after - before).max() > 1e-3


def test_noise_redraw_changes_only_that_layer_and_off_removes_it(model):
    s, seen = _state(model)
    z = model.noise(1, 4)[0].numpy()
    base, _ = s.render(z)
    s.redraw_noise(4)
    assert s.noise_seed == [0, 0, 0, 0, 1] and ("noise", 4) in seen
    assert not np.allclose(s.render(z)[0], base)
    s.set_frozen(0, True)
    s.redraw_noise()  # every layer but the frozen one
    assert s.noise_seed[0] == 0 and s.noise_seed[1:] == [1, 1, 1, 2]
    for i in range(len(s.noise_on)):
        s.set_noise_on(i, False)
    off, _ = s.render(z)
    s.redraw_noise()
    assert np.array_equal(off, s.render(z)[0])  # no noise: re-drawing changes nothing


def test_layer_view_follows_the_chosen_layer(model):
    s, _ = _state(model)
    s.set_layer(3)
    _, view = s.render(model.noise(1, 0)[0].numpy())
    assert view.layer == 3 and view.resolution == 16
    assert view.channels.shape == (4, 16, 16) and view.mean.shape == view.fft.shape == (16, 16)
    assert 0 <= view.fft.min() and view.fft.max() <= 1
    with pytest.raises(ValueError, match="layer"):
        s.set_layer(99)


def test_mixing_grid_has_sources_destinations_and_mixed_cells(model):
    s, _ = _state(model)
    s.set_mixing(destinations=(1, 2), sources=(3, 4, 5), band="coarse")
    grid = s.mixing_grid()
    assert grid.shape == (3, 4, 3, 16, 16)
    alone = s.render(model.noise(1, 4)[0].numpy())[0]
    assert np.allclose(grid[0, 2], alone, atol=1e-5)  # row 0: the sources as they are
    assert not np.allclose(grid[1, 2], grid[1, 0], atol=1e-4)  # a mixed cell differs from its destination
    with pytest.raises(ValueError, match="crossover"):
        s.set_mixing(band="everything")
