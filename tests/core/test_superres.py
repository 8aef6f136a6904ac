"""Super-resolution ×4 (issue 17): SRResNet and SRGAN as they are defined in Ledig et al. (2017),
the metrics they are judged by, and that a short run of the pixel-loss stage already beats bicubic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genstudio.config import RunConfig
from genstudio.data import Dataset, load_dataset
from genstudio.models.srresnet import SRDiscriminator, SRResNet, SubPixelUp
from genstudio.superres.degrade import bicubic_up, downsample, held_out
from genstudio.superres.metrics import BORDER, gaussian_window, luma, psnr, psnr_y, sharpness, ssim, ssim_y
from genstudio.superres.trainer import SRGANTrainer, SRResNetTrainer


def _n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("c,w,b", [(3, 32, 6), (1, 8, 2), (3, 64, 16)])
def test_srresnet_parameter_count_is_the_papers_layers(c, w, b):
    head = c * w * 81 + w + w  # 9×9 conv (+ bias) and its PReLU
    block = 2 * (9 * w * w + w) + 2 * 2 * w + w  # two 3×3 convs, two BNs (γ, β), one PReLU
    body_end = 9 * w * w + w + 2 * w  # conv3 + BN before the long skip
    up = 9 * w * 4 * w + 4 * w + w  # conv3 w → 4w, PReLU after the shuffle
    tail = 81 * w * c + c
    assert _n_params(SRResNet(c, w, b)) == head + b * block + body_end + 2 * up + tail
    assert _n_params(SRResNet(3, 32, 6)) == 210_915  # the small default: ≈ 0.2 M


def test_pixel_shuffle_stages_double_each_side_and_the_generator_quadruples():
    x = torch.randn(2, 8, 5, 7)
    assert SubPixelUp(8)(x).shape == (2, 8, 10, 14)  # conv to 4·8 channels, shuffled to 8 at 2×
    g = SRResNet(3, 8, 2)
    assert g(torch.randn(2, 3, 5, 7)).shape == (2, 3, 20, 28)  # any size, ×4
    d = SRDiscriminator(3, 8)
    assert d(torch.randn(4, 3, 64, 64)).shape == (4,)
    assert [f.shape[-1] for f in d.features(torch.randn(1, 3, 64, 64))] == [32, 16, 8, 4]


def test_lr_images_are_a_quarter_size_and_a_tenth_is_held_out():
    hr = torch.rand(3, 3, 64, 64) * 2 - 1
    lr = downsample(hr)
    assert lr.shape == (3, 3, 16, 16) and bicubic_up(lr).shape == hr.shape
    flat = torch.full((1, 1, 16, 16), 0.25)
    assert torch.allclose(downsample(flat), torch.full((1, 1, 4, 4), 0.25), atol=1e-6)  # a flat image stays flat
    mask = held_out(25)
    assert mask.sum() == 3 and mask[0] and mask[10] and not mask[1]


def test_psnr_of_a_known_error():
    hr = torch.zeros(1, 3, 8, 8) - 1  # 0 in [0, 1] units
    sr = hr + 0.2  # 0.1 in [0, 1] units: MSE 0.01 → 20 dB
    assert psnr(sr, hr).item() == pytest.approx(20.0, abs=1e-4)


def test_ssim_is_one_for_identical_images_and_matches_the_formula_by_hand():
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.allclose(ssim(x, x), torch.ones(2), atol=1e-6)
    # constant images a, b: μ = a, b and σ = 0, so SSIM = (2ab + C1) / (a² + b² + C1)
    a, b = 0.3, 0.7
    c1 = 0.01 ** 2
    got = ssim(torch.full((1, 1, 16, 16), 2 * a - 1), torch.full((1, 1, 16, 16), 2 * b - 1)).item()
    assert got == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-6)
    # one 11×11 window, written out as eq. 13 of Wang et al. (2004) with the Gaussian weights
    rng = np.random.default_rng(0)
    u, v = rng.random((11, 11)), rng.random((11, 11))
    w = gaussian_window().numpy()
    assert w.sum() == pytest.approx(1.0) and w[5, 5] == w.max()
    mu, mv = (w * u).sum(), (w * v).sum()
    su, sv = (w * (u - mu) ** 2).sum(), (w * (v - mv) ** 2).sum()
    suv = (w * (u - mu) * (v - mv)).sum()
    c2 = 0.03 ** 2
    want = (2 * mu * mv + c1) * (2 * suv + c2) / ((mu ** 2 + mv ** 2 + c1) * (su + sv + c2))
    t = lambda a: torch.from_numpy(a * 2 - 1).view(1, 1, 11, 11).float()  # noqa: E731
    assert ssim(t(u), t(v)).item() == pytest.approx(want, abs=1e-5)


def test_y_channel_figures_use_bt601_luma_and_ignore_a_4px_border():
    white, black = torch.ones(1, 3, 16, 16), -torch.ones(1, 3, 16, 16)
    assert luma(white).shape == (1, 1, 16 - 2 * BORDER, 16 - 2 * BORDER)
    # MATLAB rgb2ycbcr: white → Y 235, black → Y 16 (of 255); in [-1, 1] units 2·Y/255 − 1
    assert luma(white).flatten()[0].item() == pytest.approx(2 * 235 / 255 - 1, abs=1e-3)
    assert luma(black).flatten()[0].item() == pytest.approx(2 * 16 / 255 - 1, abs=1e-6)
    hr = torch.rand(2, 3, 24, 24) * 2 - 1
    sr = hr.clone()
    sr[..., :BORDER, :] = -hr[..., :BORDER, :]  # wrong only in the border the papers cut off
    assert torch.all(psnr_y(sr, hr) == 100.0) and torch.allclose(ssim_y(sr, hr), torch.ones(2), atol=1e-6)
    assert torch.all(psnr(sr, hr) < 100.0)  # the RGB figure over the whole image sees it
    gray = torch.rand(1, 1, 24, 24) * 2 - 1  # a gray image is its own Y
    assert torch.allclose(luma(gray), gray[..., BORDER:-BORDER, BORDER:-BORDER])


def test_bicubic_is_less_sharp_than_the_original():
    hr = load_dataset("shapes", size=32, num_images=20).tensor
    assert float(sharpness(bicubic_up(downsample(hr)), hr).mean()) < 0.8
    assert torch.allclose(sharpness(hr, hr), torch.ones(20))


def _config(kind: str, **extra) -> RunConfig:
    return RunConfig(kind=kind, data="shapes", size=32, width=16, batch=16, lr=1e-3, beta1=0.9, steps=10,
                     device="cpu", extra={"blocks": 2, **extra}).validate()


def _shapes(n: int = 400) -> Dataset:
    return load_dataset("shapes", size=32, num_images=n, seed=0)


@pytest.mark.quality
def test_a_tiny_srresnet_beats_bicubic_after_a_short_run():
    data = _shapes()
    torch.manual_seed(0)
    trainer = SRResNetTrainer(_config("srresnet"), data, torch.device("cpu"))
    for _ in range(200):  # ≈ 10 s on one CPU thread; +0.5 to +0.8 dB over seeds 0-2
        trainer.train_step(trainer.next_batch())
    hr = data.tensor[held_out(len(data))]  # never trained on
    lr = downsample(hr)
    trainer.G.eval()
    with torch.no_grad():
        sr = trainer.G(lr).clamp(-1, 1)
    gain = float(psnr(sr, hr).mean() - psnr(bicubic_up(lr), hr).mean())
    assert gain > 0.2, f"SRResNet only {gain:+.2f} dB over bicubic"


def test_adversarial_weight_zero_makes_srgan_the_srresnet_loss():
    data = _shapes(100)
    torch.manual_seed(0)
    a = SRResNetTrainer(_config("srresnet"), data, torch.device("cpu"))
    b = SRGANTrainer(_config("srgan", content="mse", adv_weight=0.0), data, torch.device("cpu"))
    b.G.load_state_dict(a.G.state_dict())
    hr = data.tensor[:16]
    la, lb = a.train_step(hr), b.train_step(hr)
    assert lb["loss_G"].item() == pytest.approx(la["loss_G"].item(), rel=1e-6)
    assert lb["loss_G"].item() == pytest.approx(lb["content"].item(), rel=1e-6)
    for p, q in zip(a.G.parameters(), b.G.parameters()):  # and the same step for G
        assert torch.allclose(p, q, atol=1e-6)
    c = SRGANTrainer(_config("srgan", content="mse", adv_weight=1e-3), data, torch.device("cpu"))
    c.G.load_state_dict(a.G.state_dict())
    sr, adv_logits = c.G(downsample(hr)), torch.zeros(16)
    total, content, adv = c.generator_objective(sr, hr, adv_logits)
    assert total.item() == pytest.approx(content.item() + 1e-3 * math.log(2), rel=1e-5)  # −log σ(0) = log 2


@pytest.mark.parametrize("content", ["random", "disc", "ae"])
def test_each_feature_space_gives_a_finite_content_loss_and_the_header_says_which(content):
    data = _shapes(100)
    t = SRGANTrainer(_config("srgan", content=content, ae_steps=3), data, torch.device("cpu"))
    metrics = t.train_step(data.tensor[:16])
    assert all(math.isfinite(v.item()) for v in metrics.values())
    assert t.state()[1]["content"] == {"kind": content}


def test_photos_are_full_resolution_crops_and_held_out_ones_come_from_their_own_strip():
    from genstudio.data.photos import load_photos, sample_photos

    d = load_photos(32, 40, seed=0)
    assert d.tensor.shape == (40, 3, 32, 32) and d.name == "photos"
    assert torch.equal(d.tensor, load_photos(32, 40, seed=0).tensor)  # deterministic
    photos = sample_photos()
    split = [int(p.shape[0] * 0.8) for p in photos]
    for i in range(40):  # find each crop in its photograph: held-out ones lie below the split
        img = photos[i % 2]
        crop = ((d.tensor[i].permute(1, 2, 0) + 1) * 127.5).round().to(torch.uint8).numpy()
        h, w = img.shape[:2]
        ys, xs = np.nonzero((img[: h - 31, : w - 31] == crop[0, 0]).all(-1))  # candidate corners
        rows = [y for y, x in zip(ys, xs) if (img[y:y + 32, x:x + 32] == crop).all()]
        assert rows, f"crop {i} is not a piece of its photograph"
        assert (min(rows) >= split[i % 2]) == bool(held_out(40)[i])
