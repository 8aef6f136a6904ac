"""The run form trains SRGAN's stage two: init (an SRResNet checkpoint), adversarial weight, content loss."""

from __future__ import annotations

from pathlib import Path

import torch

from genstudio.checkpoint import save_checkpoint
from genstudio.config import RunConfig
from genstudio.data import load_dataset
from genstudio.superres.trainer import SRResNetTrainer
from genstudio.views.run_form import RunForm


def _srresnet(path: Path) -> Path:
    cfg = RunConfig(kind="srresnet", data="shapes", size=32, width=4, batch=4, device="cpu",
                    extra={"blocks": 1}).validate()
    trainer = SRResNetTrainer(cfg, load_dataset("shapes", size=32, num_images=30), torch.device("cpu"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(path, *trainer.state())


def test_srgan_needs_an_srresnet_to_start_from_and_says_so_under_init(tmp_path):
    form = RunForm(tmp_path, devices=("auto", "cpu"))
    form.set("kind", "srgan")
    assert not form.valid and "SRResNet checkpoint" in form.errors["init"]
    form.set("init", str(tmp_path / "nope.safetensors"))
    assert "No such file" in form.errors["init"]
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint at all")
    form.set("init", str(tmp_path / "junk.safetensors"))
    assert "init" in form.errors
    gan = RunConfig(kind="gan", data="ring8", width=8, device="cpu").validate()
    from genstudio.gan.trainer import GanTrainer
    g = GanTrainer(gan, load_dataset("ring8", num_points=64), torch.device("cpu"))
    save_checkpoint(tmp_path / "gan.safetensors", *g.state())
    form.set("init", str(tmp_path / "gan.safetensors"))
    assert "gan model, not an SRResNet" in form.errors["init"]
    sr = _srresnet(tmp_path / "sr.safetensors")
    form.set("init", str(sr))
    form.set("data", "shapes")
    assert "init" not in form.errors and form.valid, form.errors
    form.set("adv_weight", "lots")
    assert "adv_weight" in form.errors and not form.valid
    form.set("adv_weight", "0.01")
    form.set("content", "disc")
    extra = form.config().extra
    assert extra == {"init": str(sr), "adv_weight": 0.01, "content": "disc"}


def test_init_defaults_to_the_srresnet_run_the_person_trained_and_fine_tune_fills_the_form(tmp_path):
    form = RunForm(tmp_path, devices=("auto", "cpu"))
    form.set_fields({"init": str(tmp_path / "an older one.safetensors")})  # restored from last session
    form.set("kind", "srresnet")
    form.set("data", "shapes")
    run = form.run_folder()
    form.set_running(True)
    _srresnet(run / "checkpoints" / "last.safetensors")
    form.use_new_folder()  # the window does this when a run is done, before unlocking the form
    form.set_running(False)
    form.set("kind", "srgan")
    assert form["init"] == str(run / "checkpoints" / "last.safetensors")
    assert form.config().kind == "srgan" and form.valid, form.errors
    # the Super-resolution view's "Fine-tune as SRGAN": kind, data, size and init from the shown model
    other = RunForm(tmp_path, devices=("auto", "cpu"))
    other.fine_tune(run / "checkpoints" / "last.safetensors", "shapes", 32)
    assert (other["kind"], other["data"], other["size"]) == ("srgan", "shapes", 32)
    assert other.valid and "fine-tune" in other.message
    assert other.config().extra["init"].endswith("last.safetensors")
    # an SRResNet run has none of SRGAN's settings
    other.set("kind", "srresnet")
    assert other.valid and "init" not in other.config().extra
