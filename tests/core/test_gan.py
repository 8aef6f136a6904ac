"""The GAN engine: losses against a hand computation, models, training steps, sampling."""

from __future__ import annotations

import math

import pytest
import torch

from genstudio.config import RunConfig
from genstudio.gan.losses import discriminator_loss, generator_loss
from genstudio.models.dcgan import DCGANDiscriminator, DCGANGenerator


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_discriminator_loss_matches_hand_computation():
    real = torch.tensor([2.0, -1.0])
    fake = torch.tensor([0.5, -3.0])
    # BCE(D(x), 1) = -mean log σ(r);  BCE(D(G(z)), 0) = -mean log(1 - σ(f)) = -mean log σ(-f)
    expected = -(_log_sigmoid(2.0) + _log_sigmoid(-1.0)) / 2 - (_log_sigmoid(-0.5) + _log_sigmoid(3.0)) / 2
    assert discriminator_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_generator_loss_is_non_saturating_form():
    fake = torch.tensor([0.5, -3.0, 1.0])
    expected = -(_log_sigmoid(0.5) + _log_sigmoid(-3.0) + _log_sigmoid(1.0)) / 3
    assert generator_loss(fake).item() == pytest.approx(expected, rel=1e-6)


def test_losses_stay_finite_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(discriminator_loss(big, -big))
    assert torch.isfinite(generator_loss(-big))


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("nc", [1, 3])
def test_dcgan_shapes(size, nc):
    G = DCGANGenerator(nz=8, ngf=8, nc=nc, size=size)
    D = DCGANDiscriminator(ndf=8, nc=nc, size=size)
    x = G(torch.randn(3, 8))
    assert x.shape == (3, nc, size, size)
    assert x.abs().max() <= 1.0  # tanh output
    assert D(x).shape == (3,)


def test_dcgan_init_is_normal_002():
    G = DCGANGenerator(nz=100, ngf=16, nc=3, size=32)
    w = G.main[0].weight
    assert abs(w.std().item() - 0.02) < 0.002


@pytest.mark.quality
def test_gan_run_on_ring8_moves_towards_the_data(tmp_path):
    from genstudio.runs.folder import RunDir
    from genstudio.runs.loop import run_to_end

    cfg = RunConfig(kind="gan", data="ring8", steps=300, batch=128, lr=1e-3, log_every=50,
                    preview_every=150, checkpoint_every=1000, num_points=2000, seed=1)
    fin = run_to_end(cfg, tmp_path / "run")
    assert fin.reason == "done" and fin.step == 300
    rows = RunDir(tmp_path / "run").read_metrics()
    assert [r["step"] for r in rows] == [50, 100, 150, 200, 250, 300]
    assert {"loss_D", "loss_G", "D(x)", "D(G(z))"} <= set(rows[0])
    from genstudio.loading import load_model

    model = load_model(tmp_path / "run/checkpoints/last.safetensors", "cpu")
    pts = model.sample(500, seed=0)
    # an untrained MLP generator puts points near the origin; after 300 steps they spread out
    # towards the ring of radius 2
    assert pts.norm(dim=1).mean() > 1.0


def test_dcgan_run_writes_previews_and_checkpoints(tmp_path):
    from genstudio.runs.events import PreviewReady, Saved
    from genstudio.runs.folder import RunDir
    from genstudio.runs.loop import train

    cfg = RunConfig(kind="gan", data="digits", size=16, width=8, latent_dim=16, steps=4, batch=8,
                    log_every=2, preview_every=2, checkpoint_every=2, n_preview=4)
    events = list(train(cfg, tmp_path / "r"))
    previews = [e for e in events if isinstance(e, PreviewReady)]
    assert len(previews) == 2 and previews[0].preview.data.shape == (4, 1, 16, 16)
    saved = [e for e in events if isinstance(e, Saved)]
    assert [e.step for e in saved] == [2, 4]
    rd = RunDir(tmp_path / "r")
    assert (rd.previews / "step_000002.png").exists()
    assert (rd.checkpoints / "step_000002.safetensors").exists() and rd.last_checkpoint.exists()


def test_averaged_generator_samples_is_checkpointed_exported_and_resumed(tmp_path):
    """With g_ema the running average of G's weights (Yazıcı et al.) is what previews, files,
    exports and resumes carry; the raw G goes on training beside it."""
    from genstudio.checkpoint import export_for_sampling, load_checkpoint
    from genstudio.loading import load_model
    from genstudio.runs.loop import train

    cfg = RunConfig(kind="gan", data="ring8", steps=30, batch=16, lr=1e-3, g_ema=0.9, num_points=500,
                    checkpoint_every=30, log_every=10, preview_every=30).validate()
    list(train(cfg, tmp_path / "run"))
    last = tmp_path / "run" / "checkpoints" / "last.safetensors"
    tensors, _ = load_checkpoint(last)
    raw = {k[len("model/G/"):]: v for k, v in tensors.items() if k.startswith("model/G/")}
    avg = {k[len("ema/G/"):]: v for k, v in tensors.items() if k.startswith("ema/G/")}
    assert avg.keys() == raw.keys() and any(not torch.equal(avg[k], raw[k]) for k in raw)
    model = load_model(last, "cpu")  # samples from the average
    key = next(k for k in avg if k.endswith("weight"))
    assert torch.equal(dict(model.G.named_parameters())[key].detach(), avg[key])
    export_for_sampling(last, tmp_path / "small.safetensors")
    exported, _ = load_checkpoint(tmp_path / "small.safetensors")
    assert set(exported) == {f"ema/G/{k}" for k in avg}
    # a resume picks the average up where it was, not from the raw weights
    list(train(cfg.replace(steps=31), tmp_path / "run", resume=True))
    after, _ = load_checkpoint(last)
    w = after[f"ema/G/{key}"]
    expect = 0.9 * avg[key] + 0.1 * after[f"model/G/{key}"]
    assert torch.allclose(w, expect, atol=1e-6)


def test_without_g_ema_a_gan_file_holds_only_the_raw_generator(tmp_path):
    from genstudio.checkpoint import load_checkpoint
    from genstudio.runs.loop import train

    cfg = RunConfig(kind="gan", data="ring8", steps=5, batch=16, num_points=500).validate()
    list(train(cfg, tmp_path / "run"))
    tensors, _ = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert not any(k.startswith("ema/") for k in tensors)
