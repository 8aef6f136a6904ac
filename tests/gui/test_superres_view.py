"""The Super-resolution view: bicubic | SRResNet | SRGAN | original with scores, a wipe and zoom."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from genstudio.gui.widgets.superres_view import SuperResView
from genstudio.models.srresnet import SRResNet
from genstudio.superres.compare import wipe, zoom
from genstudio.superres.model import SRModel


def _model(kind: str) -> SRModel:
    torch.manual_seed(0)
    g = SRResNet(3, 4, 1)
    meta = {"kind": kind, "data": "shapes", "size": 32, "models": {"G": {"arch": "srresnet",
            "args": {"channels": 3, "width": 4, "blocks": 1}}}, "step": 1}
    return SRModel(g, meta, torch.device("cpu"))


def test_two_models_make_four_columns_with_scores_and_a_wipe(qtbot, tmp_path):
    view = SuperResView()
    qtbot.addWidget(view)
    view.set_model(_model("srresnet"))
    view.set_model(_model("srgan"))
    assert [p.name for p in view.panels] == ["bicubic", "SRResNet", "SRGAN", "original"]
    assert all(p.psnr is not None and np.isfinite(p.psnr) for p in view.panels[:3])
    assert view.panels[3].psnr is None
    assert view.left.currentText() == "bicubic" and view.right.currentText() == "SRGAN"
    view.zoom.setCurrentIndex(0)  # 1×: the picture is the 32 px image itself
    assert view.picture.pixmap().width() == 32
    view.index.setValue(3)  # another held-out image
    view.errors.setChecked(True)
    assert view.picture.pixmap().width() == 32
    Image.fromarray(np.zeros((50, 70, 3), np.uint8)).save(tmp_path / "x.png")
    view.open_image(str(tmp_path / "x.png"))
    assert view.panels[0].image.shape == (48, 68, 3)  # cut to a multiple of 4


def test_wipe_and_zoom_are_what_they_say():
    a, b = np.zeros((4, 10, 3), np.uint8), np.full((4, 10, 3), 200, np.uint8)
    w = wipe(a, b, 0.3)
    assert (w[:, :3] == 0).all() and (w[:, 3] == 255).all() and (w[:, 4:] == 200).all()
    assert zoom(a, 3).shape == (12, 30, 3)


def test_an_sr_checkpoint_opens_in_the_super_resolution_tab(make_window, tmp_path):
    from genstudio.config import RunConfig
    from genstudio.checkpoint import save_checkpoint
    from genstudio.data import load_dataset
    from genstudio.superres.trainer import SRResNetTrainer

    cfg = RunConfig(kind="srresnet", data="shapes", size=32, width=4, batch=4, device="cpu",
                    extra={"blocks": 1}).validate()
    trainer = SRResNetTrainer(cfg, load_dataset("shapes", size=32, num_images=30), torch.device("cpu"))
    save_checkpoint(tmp_path / "sr.safetensors", *trainer.state())
    w = make_window()
    model = w.open_checkpoint(tmp_path / "sr.safetensors")
    assert model is not None and model.kind == "srresnet"
    view = w._pages["Super-resolution"].view()
    assert w.tabs.tabText(w.tabs.currentIndex()) == "Super-resolution"
    assert [p.name for p in view.panels] == ["bicubic", "SRResNet", "original"]
