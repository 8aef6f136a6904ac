"""The Latent view with a style-based generator, offscreen: the Style and Style mixing tabs appear,
ψ goes into W, directions in W, noise re-draw / off, the layer view follows the sliders, the mixing
grid fills; a DCGAN afterwards hides the tabs again."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.gui.widgets.latent_panel import LatentView
from genstudio.models.stylegan import StyleGenerator
from genstudio.stylegan.model import StyleGanModel

WAIT_MS = 20_000


def style_model() -> StyleGanModel:
    torch.manual_seed(0)
    G = StyleGenerator(nz=16, w_dim=16, mapping_layers=2, width=16, nc=3, size=16)
    with torch.no_grad():
        for layer in G.convs:
            layer.noise_strength.fill_(0.5)
        G.w_avg.copy_(torch.randn(16))
    meta = {"kind": "stylegan", "data_kind": "images", "step": 0, "data": "faces",
            "models": {"G": {"arch": "stylegan_g", "args": {"nz": 16, "w_dim": 16, "mapping_layers": 2,
                                                           "width": 16, "nc": 3, "size": 16}}}}
    return StyleGanModel(G, meta, torch.device("cpu"))


@pytest.fixture
def view(qtbot):
    v = LatentView()
    qtbot.addWidget(v)
    v.resize(1200, 850)
    v.show()
    yield v
    v.shutdown()
    assert not v.renderer().is_running()


def _settle(qtbot, view):
    qtbot.waitUntil(view.idle, timeout=WAIT_MS)


def test_style_tabs_truncation_noise_and_layer_view(qtbot, view):
    model = style_model()
    view.set_model(model)
    _settle(qtbot, view)
    qtbot.waitUntil(lambda: view.style.directions is not None, timeout=WAIT_MS)
    assert view._side.indexOf(view.style_panel) >= 0 and view._left.indexOf(view.style_mixing) >= 0
    first = view.image().copy()
    caption = view.style_panel.layer_image.caption()
    assert caption.startswith("conv 0 (4²)")

    view._psi_slider.setValue(0)  # ψ = 0 in W: the mean face, whatever the seed
    _settle(qtbot, view)
    assert view.style.psi == 0.0 and view.state.psi == 1.0  # z is not truncated
    mean_face = view.image().copy()
    view.state.set_seed(7)
    _settle(qtbot, view)
    assert np.array_equal(view.image(), mean_face)
    view._psi_slider.setValue(100)
    _settle(qtbot, view)

    view.style_panel.layer_box.setCurrentIndex(4)  # the 16² layer: the view follows at once
    _settle(qtbot, view)
    assert view.style_panel.layer_image.caption().startswith("conv 4 (16²)")

    before = view.image().copy()
    view.style_panel.directions.slider(0).setValue(view.style_panel.directions.position_for(0, 2.5))
    _settle(qtbot, view)
    assert view.style.alpha[0] == pytest.approx(2.5, abs=0.05)
    assert not np.array_equal(view.image(), before)

    before = view.image().copy()
    view.style_panel.redraw_all.click()
    _settle(qtbot, view)
    assert not np.array_equal(view.image(), before)  # new noise: a different texture
    for i in range(len(model.resolutions)):
        view.style_panel.noise_boxes(i)[0].setChecked(False)
    _settle(qtbot, view)
    quiet = view.image().copy()
    view.style_panel.redraw_all.click()
    _settle(qtbot, view)
    assert np.array_equal(view.image(), quiet)  # no noise: nothing to re-draw
    assert first.shape == quiet.shape


def test_style_mixing_tab_draws_the_grid(qtbot, view):
    view.set_model(style_model())
    _settle(qtbot, view)
    view._left.setCurrentWidget(view.style_mixing)
    qtbot.waitUntil(lambda: view.style_mixing.grid.current_grid() is not None, timeout=WAIT_MS)
    _settle(qtbot, view)
    g = view.style_mixing.grid.current_grid()
    assert g.shape[0] < g.shape[1]  # 4 rows × 5 columns of faces
    view.style_mixing.sources.setText("9, 10")
    view.style_mixing.sources.editingFinished.emit()
    view.style_mixing.band.setCurrentIndex(2)
    _settle(qtbot, view)
    assert view.style.mixing.sources == (9, 10) and view.style.mixing.band == "fine"
    assert view.style_mixing.grid.current_grid().shape != g.shape
    view.style_mixing.sources.setText("nine")
    view.style_mixing.sources.editingFinished.emit()
    assert "whole numbers" in view.style_mixing.note.text()


def test_a_dcgan_after_a_style_model_hides_the_style_tabs(qtbot, view):
    from tests.gui.test_latent_view import image_model

    view.set_model(style_model())
    _settle(qtbot, view)
    view.set_model(image_model())
    _settle(qtbot, view)
    assert view._side.indexOf(view.style_panel) < 0 and view._left.indexOf(view.style_mixing) < 0
    assert not view.style.active and view.image() is not None



def test_neighbourhood_grid_and_walk_show_the_style_edits(qtbot, view):
    """ψ in W and the W directions change the picture; the neighbourhood grid and the A → B walk follow them
    instead of drawing plain G(z): the walk's frame at t = 0 stays A's picture as the view shows it."""
    model = style_model()
    view.set_model(model)
    _settle(qtbot, view)
    qtbot.waitUntil(lambda: view.style.directions is not None and view.state.directions is not None,
                    timeout=WAIT_MS)
    panel, seed_a = view.interpolation(), view.state.seed
    panel.endpointRequested.emit("A")
    view.state.set_seed(seed_a + 3)
    _settle(qtbot, view)
    panel.endpointRequested.emit("B")
    view.state.set_seed(seed_a)  # the picture is A again
    view.state.set_t(0.0)
    view._left.setCurrentIndex(1)  # the Neighbourhood tab: the grid renders only when shown
    qtbot.waitUntil(lambda: view.neighbourhood_image() is not None, timeout=WAIT_MS)
    _settle(qtbot, view)
    grid, strip = view.neighbourhood_image().copy(), panel.strip_image().copy()
    np.testing.assert_array_equal(panel.preview_image(), view.image())

    view.style_panel.directions.slider(0).setValue(view.style_panel.directions.position_for(0, 3.0))
    view._psi_slider.setValue(50)
    qtbot.wait(300)  # past the grid's rest timer
    _settle(qtbot, view)
    assert not np.array_equal(view.neighbourhood_image(), grid)
    assert not np.array_equal(panel.strip_image(), strip)
    np.testing.assert_array_equal(panel.preview_image(), view.image())
