"""A mini Stable Diffusion (issue 19): the KL autoencoder family, latents scaled to unit variance, and a
latent diffusion model that carries its autoencoder through the safe loader and samples pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.autoencoder.score import reconstruction_scores
from genstudio.autoencoder.trainer import AutoencoderTrainer
from genstudio.checkpoint import CheckpointError, export_for_sampling, read_header, save_checkpoint
from genstudio.cli import main
from genstudio.config import ConfigError, RunConfig
from genstudio.data import load_dataset
from genstudio.ldm.latents import apply_rgb_map, fit_rgb_map, scale_factor
from genstudio.ldm.trainer import LatentDiffusionTrainer
from genstudio.loading import load_model, model_from_state
from genstudio.models.kl_vae import KLAutoencoder
from genstudio.superres.degrade import held_out
from tests.header_edits import with_meta

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def faces16():
    return load_dataset("faces", size=16, num_images=160, seed=0)


def _ae_trainer(data, steps: int = 0, **extra) -> AutoencoderTrainer:
    cfg = RunConfig(kind="autoencoder", data="faces", size=16, batch=16, lr=3e-3, width=8,
                    extra={"mults": [1, 2], **extra}).validate()
    torch.manual_seed(0)
    trainer = AutoencoderTrainer(cfg, data, CPU)
    for _ in range(steps):
        trainer.train_step(trainer.next_batch())
        trainer.step += 1
    return trainer


@pytest.fixture(scope="module")
def ae_file(faces16, tmp_path_factory):
    """A 16 px autoencoder (f = 2, 4 latent channels) after a few steps, saved through the checkpoint writer."""
    tensors, meta = _ae_trainer(faces16, steps=5).state()
    return save_checkpoint(tmp_path_factory.mktemp("ae") / "ae.safetensors", tensors, meta)


def _ldm_trainer(data, ae_path) -> LatentDiffusionTrainer:
    cfg = RunConfig(kind="ldm", data="faces", size=16, batch=8, lr=1e-3, width=8, timesteps=20, n_preview=4,
                    extra={"autoencoder": str(ae_path)}).validate()
    return LatentDiffusionTrainer(cfg, data, CPU)


# ---------------------------------------------------------------------------- the autoencoder
def test_the_vae_maps_64px_images_to_16x16x4_latents_and_back():
    vae = KLAutoencoder(channels=3, width=32, mults=(1, 2, 2), z_channels=4)
    q = vae.encode(torch.zeros(2, 3, 64, 64))
    assert q.mean.shape == q.logvar.shape == (2, 4, 16, 16)
    assert vae.decode(q.mean).shape == (2, 3, 64, 64) and vae.factor == 4
    assert sum(p.numel() for p in vae.parameters()) == 605_959  # the bundled ae_faces' network
    assert KLAutoencoder(3, 32, (1, 2, 2, 2), 4).encode(torch.zeros(1, 3, 64, 64)).mean.shape == (1, 4, 8, 8)
    assert q.kl().shape == (2,) and bool((q.kl() >= 0).all())


def test_a_tiny_vae_learns_to_reconstruct_held_out_faces(faces16):
    x = faces16.tensor[held_out(len(faces16))]  # (16, 3, 16, 16): never trained on

    def held_out_psnr(trainer) -> float:
        tensors, meta = trainer.state()
        return reconstruction_scores(model_from_state(tensors, meta, CPU), x)["psnr"]

    before = held_out_psnr(_ae_trainer(faces16))
    after = held_out_psnr(_ae_trainer(faces16, steps=40))
    assert before < 13.5 < 15.5 < after  # measured: ≈ 12.2 dB untrained, ≈ 16.5 dB after 40 steps


def test_autoencoder_settings_are_checked_with_one_line(faces16):
    with pytest.raises(ConfigError, match="z_channels must be"):
        _ae_trainer(faces16, z_channels=0)
    with pytest.raises(ConfigError, match="multiple of the autoencoder's down-sampling factor 8"):
        _ae_trainer(load_dataset("faces", size=12, num_images=20), mults=[1, 2, 2, 2])


def test_genstudio_score_prints_the_held_out_reconstruction_psnr(ae_file, capsys):
    assert main(["score", str(ae_file), "--n", "8"]) == 0
    out = capsys.readouterr().out
    assert "8 held-out faces images, 16 px → 4×8×8 latents" in out and "reconstruction PSNR:" in out


# ---------------------------------------------------------------------------- latents
def test_the_scale_factor_makes_the_training_latents_unit_variance(faces16, ae_file):
    trainer = _ldm_trainer(faces16, ae_file)
    assert trainer.train_data.shape == (len(faces16), 4, 8, 8)
    assert float(trainer.train_data.std()) == pytest.approx(1.0, abs=1e-4)
    raw = load_model(ae_file).encode(faces16.tensor)
    assert trainer.scale_factor == pytest.approx(1 / float(raw.std()), rel=1e-4)
    with pytest.raises(ValueError, match="no spread"):
        scale_factor(torch.ones(4, 4, 2, 2))


def test_the_linear_rgb_map_recovers_a_linear_decoder():
    z = torch.randn(50, 4, 4, 4)
    w = torch.randn(3, 4) * 0.2
    images = torch.einsum("nchw,kc->nkhw", z, w).repeat_interleave(2, -1).repeat_interleave(2, -2) + 0.1
    rgb = fit_rgb_map(z, images)  # (3, 5)
    assert np.allclose(np.array(rgb)[:, :4], w.numpy(), atol=1e-4) and np.allclose(np.array(rgb)[:, 4], 0.1, atol=1e-4)
    assert apply_rgb_map(z, rgb).shape == (50, 3, 4, 4)


# ---------------------------------------------------------------------------- latent diffusion
@pytest.fixture(scope="module")
def ldm_file(faces16, ae_file, tmp_path_factory):
    trainer = _ldm_trainer(faces16, ae_file)
    trainer.train_step(trainer.next_batch())
    tensors, meta = trainer.state()
    return save_checkpoint(tmp_path_factory.mktemp("ldm") / "ldm.safetensors", tensors, meta)


def test_an_ldm_checkpoint_carries_its_autoencoder_through_the_safe_loader(ldm_file, ae_file, tmp_path):
    model = load_model(ldm_file)
    ae = load_model(ae_file)
    assert model.kind == "ldm" and model.sample_shape == (4, 8, 8) and model.image_shape == (3, 16, 16)
    z = torch.randn(2, 4, 8, 8)
    assert torch.allclose(model.decode_latents(z), ae.decode(z / model.scale_factor))  # the same decoder
    assert model.latent_preview(z).shape == (2, 3, 8, 8)
    header = read_header(ldm_file)
    assert header["latent"]["scale_factor"] == model.scale_factor and header["autoencoder"]["file"] == "ae.safetensors"
    small = tmp_path / "small.safetensors"
    export_for_sampling(ldm_file, small, half=True)  # what checkpoints/ bundles: the autoencoder stays in
    again = load_model(small)
    assert torch.allclose(again.decode_latents(z), model.decode_latents(z), atol=2e-2)


@pytest.mark.parametrize("meta, message", [
    ({"latent": None}, "no latent header"),
    ({"latent": {"scale_factor": -1.0}}, "scale factor must be a positive number"),
    ({"autoencoder": {"arch": "unet", "args": {}}}, "no usable autoencoder header"),
])
def test_a_damaged_ldm_header_is_refused_with_one_line(ldm_file, tmp_path, meta, message):
    header = read_header(ldm_file)
    if isinstance(meta.get("latent"), dict):
        meta = {"latent": {**header["latent"], **meta["latent"]}}
    bad = with_meta(ldm_file, tmp_path / "bad.safetensors", **meta)
    with pytest.raises(CheckpointError, match=message):
        load_model(bad)


def test_a_tiny_ldm_samples_pictures_of_the_image_size_from_the_cli(ldm_file, tmp_path, capsys):
    out = tmp_path / "faces.npy"
    assert main(["sample", str(ldm_file), "--prompt", "a face with red hair", "--guidance", "3", "--n", "2",
                 "--sampler", "ddim", "--steps", "2", "--out", str(out)]) == 0
    pictures = np.load(out)
    assert pictures.shape == (2, 3, 16, 16) and pictures.min() >= -1 and pictures.max() <= 1
    assert main(["info", str(ldm_file)]) == 0
    assert "latent diffusion" in capsys.readouterr().out


def test_ldm_needs_an_autoencoder_of_its_image_size(faces16, ae_file):
    with pytest.raises(ConfigError, match="give --autoencoder FILE"):
        LatentDiffusionTrainer(RunConfig(kind="ldm", data="faces", size=16).validate(), faces16, CPU)
    with pytest.raises(ConfigError, match="train the latent diffusion model at --size 16"):
        _ldm_trainer(load_dataset("faces", size=32, num_images=20), ae_file)
