"""The run panel and the one-click run start from the measured recipes (genstudio.recipes), as the CLI does."""

from __future__ import annotations

import pytest

from genstudio.recipes import recipe_config, recipe_for


def _select(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def test_choosing_kind_and_data_fills_the_recipe(make_window):
    w = make_window()
    p = w.panel
    _select(p.kind, "diffusion")
    _select(p.data, "digits")
    r = recipe_for("diffusion", "digits")
    assert (float(p.lr.text()), p.batch.value(), p.steps.value(), p.size.currentData()) == \
        (r.lr, r.batch, r.steps, r.size)
    cfg = p.config()  # what the form does not show comes from the recipe too
    assert (cfg.width, cfg.schedule, cfg.ema_decay) == (r.width, r.schedule, r.ema_decay)
    _select(p.kind, "gan")
    _select(p.data, "ring8")
    assert p.config() == recipe_config("gan", "ring8", device=p.device.currentData(),
                                       preview_every=p.preview_every.value())


def test_a_value_the_person_typed_survives_a_data_change(qtbot, make_window):
    w = make_window()
    p = w.panel
    _select(p.kind, "gan")
    _select(p.data, "ring8")
    p.steps.setFocus()
    p.steps.selectAll()
    qtbot.keyClicks(p.steps, "1234")
    p.lr.clear()
    qtbot.keyClicks(p.lr, "3e-4")
    _select(p.data, "faces")
    r = recipe_for("gan", "faces")
    assert p.steps.value() == 1234 and p.lr.text() == "3e-4"  # the person's
    assert p.batch.value() == r.batch  # the recipe's
    assert p.form.edited == {"steps", "lr"}
    restored = make_window("other.ini").panel
    restored.set_fields(p.fields())  # settings keep which fields were the person's
    assert restored.form.edited == {"steps", "lr"}
    _select(restored.data, "digits")
    assert restored.batch.value() == recipe_for("gan", "digits").batch and restored.steps.value() == 1234


@pytest.mark.parametrize("dirty", [False, True])
def test_the_one_click_run_is_the_ring8_recipe(qtbot, make_window, dirty):
    w = make_window()
    if dirty:  # whatever the form held before, the button trains the recipe
        w.panel.set_fields({"kind": "diffusion", "data": "digits", "batch": 8, "lr": "0.5", "steps": 7})
    started = []
    w.start_run = lambda: started.append(w.panel.config()) or True
    assert w.try_ring8()
    assert started == [recipe_config("gan", "ring8", device=w.panel.device.currentData(),
                                     preview_every=w.panel.preview_every.value())]
    assert started[0].g_ema == recipe_for("gan", "ring8").g_ema
