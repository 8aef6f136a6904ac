"""SRGAN's options from ESRGAN (Wang et al. 2018): the relativistic average loss, a PatchGAN
discriminator and a pixel L1 term, and a D warm-up — each as its formula says, refused clearly when misspelt,
recorded in the checkpoint and shown by ``genstudio info``."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from genstudio.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from genstudio.cli import main
from genstudio.config import ConfigError, RunConfig
from genstudio.data import load_dataset
from genstudio.gan.losses import relativistic_discriminator_loss, relativistic_generator_loss
from genstudio.models.srresnet import PatchDiscriminator
from genstudio.runs.folder import RunDir
from genstudio.superres.degrade import downsample
from genstudio.superres.trainer import SRGANTrainer, SRResNetTrainer


def _config(kind: str, **extra) -> RunConfig:
    return RunConfig(kind=kind, data="shapes", size=32, width=16, batch=16, lr=1e-3, beta1=0.9, steps=10,
                     device="cpu", extra={"blocks": 2, **extra}).validate()


def test_ragan_losses_are_esrgans_formulas_on_given_logits():
    cr, cf = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([0.0, 1.0, -3.0])  # C(xr), C(xf)

    def d_ra(a, b):  # σ(C(a) − E[C(b)])
        return torch.sigmoid(a - b.mean())

    want_d = -torch.log(d_ra(cr, cf)).mean() - torch.log(1 - d_ra(cf, cr)).mean()
    want_g = -torch.log(1 - d_ra(cr, cf)).mean() - torch.log(d_ra(cf, cr)).mean()
    assert relativistic_discriminator_loss(cr, cf).item() == pytest.approx(want_d.item(), rel=1e-6)
    assert relativistic_generator_loss(cr, cf).item() == pytest.approx(want_g.item(), rel=1e-6)
    # equal logits: D cannot tell, each half is log 2
    z = torch.zeros(4)
    assert relativistic_discriminator_loss(z, z).item() == pytest.approx(2 * math.log(2))


def test_a_patch_discriminator_gives_one_logit_per_34px_patch():
    d = PatchDiscriminator(3, 8).eval()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    logits = d(x)
    assert logits.shape == (2, 14 * 14) and d(torch.randn(2, 3, 32, 32)).shape == (2, 6 * 6)
    logits[0, 7 * 14 + 7].backward()  # one patch in the middle of the first image
    seen = x.grad[0].abs().sum(0) > 0  # (64, 64): the pixels that logit depends on
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 <= PatchDiscriminator.receptive_field
    assert cols.max() - cols.min() + 1 <= PatchDiscriminator.receptive_field
    assert x.grad[1].abs().sum() == 0  # nor on the other image (eval: BN is a fixed map)


@pytest.mark.parametrize("adv_loss,d_arch", [("ragan", "vgg"), ("bce", "patch"), ("ragan", "patch")])
def test_adversarial_weight_zero_still_makes_srgan_the_srresnet_loss(adv_loss, d_arch):
    data = load_dataset("shapes", size=32, num_images=60, seed=0)
    torch.manual_seed(0)
    a = SRResNetTrainer(_config("srresnet"), data, torch.device("cpu"))
    b = SRGANTrainer(_config("srgan", content="mse", adv_weight=0.0, adv_loss=adv_loss, d_arch=d_arch),
                     data, torch.device("cpu"))
    b.G.load_state_dict(a.G.state_dict())
    hr = data.tensor[:8]
    la, lb = a.train_step(hr), b.train_step(hr)
    assert lb["loss_G"].item() == pytest.approx(la["loss_G"].item(), rel=1e-6)
    assert all(math.isfinite(v.item()) for v in lb.values())
    for p, q in zip(a.G.parameters(), b.G.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_the_l1_term_adds_its_weight_times_the_pixel_l1_to_the_content_loss():
    data = load_dataset("shapes", size=32, num_images=60, seed=0)
    t = SRGANTrainer(_config("srgan", content="mse", l1_weight=1e-2), data, torch.device("cpu"))
    hr = data.tensor[:8]
    sr = t.G(downsample(hr))
    _, content, _ = t.generator_objective(sr, hr, torch.zeros(8))
    want = F.mse_loss(sr, hr) + 1e-2 * F.l1_loss(sr, hr)
    assert content.item() == pytest.approx(want.item(), rel=1e-6)


def test_during_the_d_warmup_only_d_learns():
    data = load_dataset("shapes", size=32, num_images=60, seed=0)
    t = SRGANTrainer(_config("srgan", content="mse", d_warmup=2, d_arch="patch"), data, torch.device("cpu"))
    g0 = [p.detach().clone() for p in t.G.parameters()]
    d0 = [p.detach().clone() for p in t.D.parameters()]
    for _ in range(2):
        metrics = t.train_step(data.tensor[:8])
        t.step += 1
    assert all(torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d0, t.D.parameters()))
    assert math.isfinite(metrics["loss_G"].item())  # still measured
    t.train_step(data.tensor[:8])  # step 3: G moves
    assert not all(torch.equal(a, b) for a, b in zip(g0, t.G.parameters()))


@pytest.mark.parametrize("extra,message", [({"adv_loss": "wgan"}, "adv_loss must be bce or ragan"),
                                           ({"d_warmup": -1}, "d_warmup must be a whole number"),
                                           ({"d_arch": "unet"}, "d_arch must be vgg or patch"),
                                           ({"l1_weight": -1.0}, "l1_weight must be a number")])
def test_bad_option_values_are_refused_in_one_line(extra, message):
    data = load_dataset("shapes", size=32, num_images=60, seed=0)
    with pytest.raises(ConfigError, match=message):
        SRGANTrainer(_config("srgan", **extra), data, torch.device("cpu"))


def test_the_options_go_into_the_header_and_info_shows_them(tmp_path, capsys):
    common = ["--data", "shapes", "--size", "32", "--width", "8", "--blocks", "1", "--batch", "4",
              "--quiet", "--device", "cpu"]
    assert main(["train", "srresnet", *common, "--steps", "1", "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "srgan", *common, "--steps", "1", "--init", str(RunDir(tmp_path / "a").last_checkpoint),
                 "--adv-loss", "ragan", "--d-arch", "patch", "--l1-weight", "0.01", "--d-warmup", "1", "--out", str(tmp_path / "b")]) == 0
    last = RunDir(tmp_path / "b").last_checkpoint
    meta = read_header(last)
    assert meta["adv_loss"] == "ragan" and meta["l1_weight"] == 0.01 and meta["models"]["D"]["arch"] == "sr_patch_d"
    capsys.readouterr()
    assert main(["info", str(last)]) == 0
    out = capsys.readouterr().out
    assert "adversarial loss ragan" in out and "L1 weight 0.01" in out and "sr_patch_d" in out
    assert "D alone for the first 1 steps" in out and meta["d_warmup"] == 1
    tensors, meta = load_checkpoint(last)
    meta["adv_loss"] = "hinge"  # a value no trainer writes
    save_checkpoint(tmp_path / "odd.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match="invalid adv_loss"):
        read_header(tmp_path / "odd.safetensors")
