"""A model family registered in one place (the ``toy_family`` fixture) reaches the app: the run
panel lists it, a short run trains, the Monitor plots the metric it declares, and its checkpoint
opens in the view it names (issue 15's done-when test, app half)."""

from __future__ import annotations

from genstudio.runs.folder import RunDir


def test_a_registered_family_trains_in_the_app_is_plotted_and_opens_in_its_view(qtbot, make_window, tmp_path,
                                                                                toy_family):
    w = make_window()
    assert toy_family in [w.panel.kind.itemData(i) for i in range(w.panel.kind.count())]
    w.panel.set_fields({"kind": "toy", "data": "ring8", "steps": 20, "batch": 32, "preview_every": 10,
                        "device": "cpu"})
    run = tmp_path / "toy"
    w.panel.folder.setText(str(run))
    with qtbot.waitSignal(w.controller.threadFinished, timeout=120_000):
        w.act_start.trigger()
    assert not w.errors, w.errors
    assert w.controller.last_result[0] == "done"
    m = w.monitor
    assert m.kind() == "toy"
    qtbot.waitUntil(lambda: m.gan_losses.point_count("loss_toy") > 0, timeout=5_000)
    assert m.gan_losses.point_count("loss_D") == 0  # declared metrics only: the toy declares loss_toy
    model = w.open_checkpoint(RunDir(run).last_checkpoint)
    assert model is not None and model.kind == "toy"
    assert w.latent.model() is model  # the view the family names
    assert w.tabs.currentWidget() is w.latent or w.tabs.currentWidget().isAncestorOf(w.latent)
