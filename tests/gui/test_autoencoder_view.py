"""The Autoencoder tab: held-out faces as input | reconstruction | error | latent channels, with PSNR."""

from __future__ import annotations

import torch

from genstudio.autoencoder.model import AutoencoderModel
from genstudio.gui.widgets.autoencoder_view import AutoencoderView
from genstudio.models.kl_vae import KLAutoencoder


def _model() -> AutoencoderModel:
    torch.manual_seed(0)
    args = {"channels": 3, "width": 8, "mults": [1, 2], "z_channels": 4, "blocks": 1}
    meta = {"kind": "autoencoder", "data": "faces", "size": 16, "step": 3, "kl_weight": 1e-6,
            "models": {"vae": {"arch": "kl_vae", "args": args}}}
    return AutoencoderModel(KLAutoencoder(**args), meta, torch.device("cpu"))


def test_the_view_shows_one_row_per_image_with_its_latent_channels_and_psnr(qtbot):
    view = AutoencoderView()
    qtbot.addWidget(view)
    view.set_model(_model())
    p = view.panel
    assert p.columns == ("input", "recon.", "error x4", "z1", "z2", "z3", "z4") and len(p.psnr) == 4
    assert p.latent_shape == (4, 8, 8)
    height = view.picture.pixmap().height()
    view.rows.setValue(2)  # fewer rows: a shorter picture, two PSNRs
    assert len(view.panel.psnr) == 2 and view.picture.pixmap().height() < height
    assert "Mean PSNR of these rows" in view.caption.text()


def test_an_autoencoder_checkpoint_opens_in_the_autoencoder_tab(make_window, tmp_path):
    from genstudio.checkpoint import save_checkpoint
    from genstudio.checkpoint import module_tensors

    model = _model()
    save_checkpoint(tmp_path / "ae.safetensors", module_tensors("model/vae", model.vae), model.meta)
    w = make_window()
    w.open_checkpoint(tmp_path / "ae.safetensors")
    assert w.tabs.tabText(w.tabs.currentIndex()) == "Autoencoder"
    assert w._pages["Autoencoder"].view().panel is not None
