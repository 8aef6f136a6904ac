"""SRGAN's stage two from the app: the run panel's SRGAN fields and the view's "Fine-tune as SRGAN"."""

from __future__ import annotations

import torch

from genstudio.checkpoint import save_checkpoint
from genstudio.config import RunConfig
from genstudio.data import load_dataset
from genstudio.gui.widgets.run_panel import RunPanel
from genstudio.superres.trainer import SRResNetTrainer


def _srresnet(path):
    cfg = RunConfig(kind="srresnet", data="shapes", size=32, width=4, batch=4, device="cpu",
                    extra={"blocks": 1}).validate()
    trainer = SRResNetTrainer(cfg, load_dataset("shapes", size=32, num_images=30), torch.device("cpu"))
    return save_checkpoint(path, *trainer.state())


def test_the_srgan_fields_show_for_srgan_only_with_their_errors_underneath(qtbot, tmp_path):
    panel = RunPanel(tmp_path)
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.init.isVisible() and not panel.adv_weight.isVisible() and not panel.content.isVisible()
    panel.kind.setCurrentIndex(panel.kind.findData("srgan"))
    assert panel.init.isVisible() and panel.adv_weight.text() == "1e-3"
    assert panel._errors["init"].isVisible() and "SRResNet checkpoint" in panel._errors["init"].text()
    assert not panel.is_valid()
    panel.init.setText(str(_srresnet(tmp_path / "sr.safetensors")))
    panel.data.setCurrentIndex(panel.data.findData("shapes"))
    assert not panel._errors["init"].isVisible() and panel.is_valid()
    panel.adv_weight.setText("x")
    assert panel._errors["adv_weight"].isVisible() and not panel.is_valid()
    panel.adv_weight.setText("0")
    panel.content.setCurrentIndex(panel.content.findData("mse"))
    assert panel.config().extra["content"] == "mse" and panel.config().extra["adv_weight"] == 0
    panel.kind.setCurrentIndex(panel.kind.findData("srresnet"))
    assert not panel.init.isVisible() and not panel._errors["adv_weight"].isVisible()


def test_fine_tune_as_srgan_fills_the_run_form_from_the_shown_srresnet(make_window, tmp_path):
    w = make_window()
    sr = _srresnet(tmp_path / "sr.safetensors")
    w.open_checkpoint(sr)
    view = w._pages["Super-resolution"].view()
    assert view.fine_tune.isEnabled()
    view.fine_tune.click()
    assert w.panel.form["kind"] == "srgan" and w.panel.form["data"] == "shapes"
    assert w.panel.init.text() == str(sr) and w.panel.is_valid(), w.panel.form.errors
    assert w.act_start.isEnabled()


def test_the_perception_distortion_plot_puts_bicubic_and_each_model_seen_on_it(qtbot):
    from tests.gui.test_superres_view import _model

    from genstudio.gui.widgets.superres_view import SuperResView

    view = SuperResView()
    qtbot.addWidget(view)
    view.show()
    view.set_model(_model("srresnet"))
    view.set_model(_model("srgan"))  # cancels the first job: the plot shows the latest set
    qtbot.waitUntil(lambda: not view.pd_plot.job.is_busy(), timeout=20000)
    names = [p.name for p in view.pd_plot.points]
    assert names == ["bicubic", "SRResNet (training, step 1)", "SRGAN (training, step 1)"]
    assert len(view.pd_plot._labels) == 3 and "methods" in view.pd_plot.caption.text()
    assert view.pd_plot.bar.isHidden()
    view.shutdown()


def test_the_monitor_shows_no_empty_discriminator_plot_for_an_srresnet(qtbot):
    from genstudio.gui.widgets.monitor import MonitorView

    monitor = MonitorView()
    qtbot.addWidget(monitor)
    monitor.show()
    monitor.begin("srresnet", False)
    assert monitor.gan_losses.isVisible() and not monitor.gan_probs.isVisible()
    monitor.begin("srgan", False)
    assert monitor.gan_probs.isVisible()
    monitor.begin("gan", True)
    assert monitor.gan_probs.isVisible()
