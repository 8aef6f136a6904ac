"""The window's views work together: opened checkpoints, bundled models and snapshots of the run
reach the view that shows them; hints can be dismissed for good; one click starts the ring8 GAN."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pytestqt")

from genstudio.config import RunConfig  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402
from genstudio.runs.loop import run_to_end  # noqa: E402

TINY = RunConfig(kind="gan", data="ring8", steps=2, batch=16, log_every=1, preview_every=100,
                 checkpoint_every=100, device="cpu", seed=0)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A tiny trained GAN and diffusion model on ring8, as checkpoints."""
    root = tmp_path_factory.mktemp("ckpts")
    out = {}
    for kind in ("gan", "diffusion"):
        run_to_end(TINY.replace(kind=kind), root / kind)
        out[kind] = RunDir(root / kind).last_checkpoint
    return out


def test_the_window_has_the_three_views(make_window):
    w = make_window()
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == ["Monitor", "Latent", "Scrubber",
                                                                             "Super-resolution", "Autoencoder"]
    w.show_view("Scrubber")
    assert w.tabs.currentWidget().isAncestorOf(w.scrubber)


def test_an_opened_checkpoint_goes_to_the_view_that_shows_it(make_window, checkpoints):
    w = make_window()
    gan = w.open_checkpoint(checkpoints["gan"])
    assert w.latent.model() is gan and w.tabs.currentWidget().isAncestorOf(w.latent)
    diffusion = w.open_checkpoint(checkpoints["diffusion"])
    assert w.scrubber.model() is diffusion and w.tabs.currentWidget().isAncestorOf(w.scrubber)
    assert w.latent.model() is gan  # opening a diffusion model leaves the explorer alone
    assert w.errors == []


def test_bundled_models_open_in_their_views(make_window, checkpoints, tmp_path, monkeypatch):
    folder = tmp_path / "bundled"
    folder.mkdir()
    shutil.copy(checkpoints["gan"], folder / "gan_ring8.safetensors")
    shutil.copy(checkpoints["diffusion"], folder / "ddpm_ring8.safetensors")
    (folder / "dcgan_faces.safetensors").write_bytes(b"not a checkpoint")  # preferred, but broken
    monkeypatch.setenv("GENSTUDIO_CHECKPOINTS", str(folder))
    w = make_window()
    opened = w.load_bundled()
    assert opened == ["gan_ring8.safetensors", "ddpm_ring8.safetensors"]
    assert w.latent.model().kind == "gan" and w.scrubber.model().kind == "diffusion"
    assert w.errors == []  # a broken bundled file is a status-bar note, not a dialog


def test_the_hidden_views_are_built_when_first_shown_with_their_bundled_models(qtbot, make_window, checkpoints,
                                                                              tmp_path, monkeypatch):
    folder = tmp_path / "bundled"
    folder.mkdir()
    shutil.copy(checkpoints["gan"], folder / "gan_ring8.safetensors")
    shutil.copy(checkpoints["diffusion"], folder / "ddpm_ring8.safetensors")
    monkeypatch.setenv("GENSTUDIO_CHECKPOINTS", str(folder))
    w = make_window()
    w.show()
    qtbot.waitExposed(w)
    assert w.load_bundled() == ["gan_ring8.safetensors", "ddpm_ring8.safetensors"]
    assert w.built_views() == []  # the window opens on the Monitor: start-up builds neither
    w.show_view("Scrubber")
    assert w.built_views() == ["Scrubber"] and w.scrubber.model().kind == "diffusion"
    w.tabs.setCurrentIndex(1)  # a click on the Latent tab
    assert w.built_views() == ["Latent", "Scrubber"] and w.latent.model().kind == "gan"
    w.latent.snapshotRequested.emit()  # a view built late still reaches the router
    assert "No run is training" in w.statusBar().currentMessage()
    w.close()  # shuts down what was built


def test_no_bundled_models_leaves_the_views_empty(make_window, monkeypatch):
    monkeypatch.setenv("GENSTUDIO_CHECKPOINTS", "")
    w = make_window()
    assert w.load_bundled() == []
    assert w.latent.model() is None and w.scrubber.model() is None


def test_snapshot_of_the_run_reaches_the_latent_explorer(qtbot, make_window, tmp_path):
    w = make_window()
    # without a run there is nothing to snapshot: a note, no crash
    assert not w.router.request_snapshot(w.latent)
    assert "No run is training" in w.statusBar().currentMessage()
    w.panel.set_fields({"kind": "gan", "data": "ring8", "steps": 20000, "batch": 32, "device": "cpu", "seed": 0})
    w.panel.folder.setText(str(tmp_path / "run"))
    assert w.start_run()
    w.latent._snapshot.click()  # the explorer's "Snapshot of training" button
    qtbot.waitUntil(lambda: w.latent.model() is not None, timeout=20_000)
    assert "on ring8" in w.latent.model().describe()
    assert "Showing the model being trained" in w.statusBar().currentMessage()
    assert w.tabs.currentWidget().isAncestorOf(w.latent)
    assert w.controller.is_running()  # the run goes on
    qtbot.waitUntil(lambda: w.latent.idle() and w.latent.rendered_seq() > 0, timeout=20_000)  # the point lands
    w.stop_run()
    assert w.controller.wait_finished(20)


def test_a_dismissed_hint_stays_dismissed(make_window):
    w = make_window()
    hint = w.hints["Latent"]
    assert not hint.isHidden()
    hint.dismiss()
    assert hint.isHidden()
    w._save_settings()
    w2 = make_window()  # same settings file: a later launch
    assert w2.hints["Latent"].isHidden() and not w2.hints["Monitor"].isHidden()
    w2._show_hints()
    assert not w2.hints["Latent"].isHidden()


def test_one_click_trains_a_gan_on_ring8(qtbot, make_window):
    w = make_window()
    w.hints["Monitor"].button.click()
    assert w.controller.is_running()
    cfg = w.controller.config
    assert (cfg.kind, cfg.data) == ("gan", "ring8")
    qtbot.waitUntil(lambda: w.monitor.points.fake_count() > 0, timeout=30_000)
    w.stop_run()
    assert w.controller.wait_finished(20)


def test_view_keys_act_on_the_focused_view(qtbot, make_window, checkpoints):
    w = make_window()
    w.show()
    w.open_checkpoint(checkpoints["gan"])
    qtbot.waitUntil(w.latent.idle, timeout=10_000)
    w.latent.setFocus()
    seed = w.latent.state.seed
    qtbot.keyClick(w.latent, "r")
    assert w.latent.state.seed != seed  # R draws a new random latent
    w.open_checkpoint(checkpoints["diffusion"])
    w.scrubber.tabs.setCurrentWidget(w.scrubber.forward)
    w.scrubber.setFocus()
    qtbot.keyClick(w.scrubber, " ")
    assert w.scrubber.forward.bar.is_playing()
    qtbot.keyClick(w.scrubber, " ")
    assert not w.scrubber.forward.bar.is_playing()


def test_the_app_warms_up_and_freezes_its_long_lived_objects_once_the_window_is_up(qtbot, monkeypatch):
    import gc

    import torch._dynamo

    from genstudio.gui import app

    monkeypatch.setenv("GENSTUDIO_CHECKPOINTS", "")
    monkeypatch.setattr(app, "_freezer", None)
    gc.unfreeze()
    w = app.create_main_window([])
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: app._freezer is not None and app._freezer.frozen.is_set(), timeout=60_000)
        assert not app._warm_up.is_alive()
        # full collections then skip torch, Qt and the window: no 150-250 ms freezes while training
        assert gc.get_freeze_count() > 10_000
        # ... nor the ~800 modules torch imports when the first run builds its optimiser
        assert all(o is not torch._dynamo for o in gc.get_objects())
    finally:
        gc.unfreeze()
        w.close()


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, make_window):
    import gc
    import threading

    make_window()
    collected_on: list[int] = []

    def note(phase, info):
        if phase == "start":
            collected_on.append(threading.get_ident())

    def churn():  # allocation-heavy work on a worker thread, as a training step is
        for _ in range(50_000):
            cycle: list = []
            cycle.append(cycle)

    gc.callbacks.append(note)
    try:
        worker = threading.Thread(target=churn)
        worker.start()
        worker.join(30)
        qtbot.wait(600)
    finally:
        gc.callbacks.remove(note)
    # a worker's collection would run the C++ destructors of Qt objects in the garbage there:
    # a deadlock between Qt's locks and the interpreter lock
    assert collected_on and set(collected_on) == {threading.main_thread().ident}
