"""DDIM inversion (genstudio.diffusion.inversion) and ``genstudio invert``: an image run back to the
model's noise regenerates the image; a variation from there keeps less of it."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.bundled import bundled_path
from genstudio.cli import main
from genstudio.metrics import psnr
from genstudio.data import load_dataset
from genstudio.diffusion.inversion import ddim_invert
from genstudio.imaging import save_png, to_uint8
from genstudio.loading import load_model
from genstudio.sampling import SampleSpec, sample


@pytest.fixture(scope="module")
def digits_model():
    return load_model(bundled_path("ddpm_digits"), "cpu")


def test_inverting_then_sampling_ddim_eta_0_reconstructs_real_digits(digits_model):
    """Measured 34.7 dB over these 16 digits at 50 steps; an unrelated sample scores about 10 dB."""
    images = load_dataset("digits", size=digits_model.sample_shape[-1]).tensor[:16].numpy()
    inversion = ddim_invert(digits_model, images, steps=50)
    assert inversion.states.shape == (50, 16, 1, 16, 16) and inversion.timesteps[0] > inversion.timesteps[-1]
    back = sample(digits_model, SampleSpec(n=16, sampler="ddim", steps=50, record=False),
                  start_x=inversion.noise).final
    assert psnr(back, images) > 30
    unrelated = sample(digits_model, SampleSpec(n=16, sampler="ddim", steps=50, record=False)).final
    assert psnr(unrelated, images) < 20
    # from an intermediate inverted state too: fewer steps back, closer still
    k = 25
    half = sample(digits_model, SampleSpec(n=16, sampler="ddim", steps=50, record=False),
                  start_x=inversion.states[k], start_index=k).final
    assert psnr(half, images) > psnr(back, images) - 0.5


def test_an_image_of_another_shape_is_refused(digits_model):
    with pytest.raises(ValueError, match="do not fit"):
        ddim_invert(digits_model, np.zeros((1, 3, 16, 16), np.float32))


def test_invert_command_writes_image_reconstruction_and_variation(tmp_path, capsys):
    digit = load_dataset("digits", size=64).tensor[7:8].numpy()
    save_png(tmp_path / "seven.png", to_uint8(digit)[0])
    out = tmp_path / "inv.png"
    assert main(["invert", str(bundled_path("ddpm_digits")), str(tmp_path / "seven.png"), "--out", str(out),
                 "--eta", "1", "--noise-out", str(tmp_path / "xT.npy"), "--px", "0", "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    recon_db = float(said.split("reconstruction ")[1].split(" dB")[0])
    variation_db = float(said.split("variation (η = 1, seed 0): ")[1].split(" dB")[0])
    assert recon_db > 28 and variation_db < recon_db - 5, said
    assert np.load(tmp_path / "xT.npy").shape == (1, 1, 16, 16)
    from PIL import Image

    with Image.open(out) as picture:
        assert picture.size == (3 * 17 + 1, 18) and "variation" in picture.text["genstudio:panels"]


@pytest.mark.parametrize("stem, says", [("gan_ring8", "a 2-D point model"), ("ddpm_ring8", "a 2-D point model")])
def test_invert_refuses_models_it_cannot_invert(tmp_path, capsys, stem, says):
    save_png(tmp_path / "x.png", np.zeros((8, 8, 3), np.uint8))
    assert main(["invert", str(bundled_path(stem)), str(tmp_path / "x.png"), "--out", str(tmp_path / "o.png"),
                 "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("genstudio: error: invert works on image models") and says in err, err


def test_invert_says_what_is_wrong_with_a_broken_image(tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["invert", str(bundled_path("ddpm_digits")), str(tmp_path / "broken.png"),
                 "--out", str(tmp_path / "o.png"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.png" in err and "not an image, or a corrupt one" in err, err


def test_gan_projection_descends_and_finds_an_image_the_gan_made():
    """On 3 images G itself made, from the best of 64 random z: 37.7 dB measured on the first."""
    from genstudio.gan.projection import project

    model = load_model(bundled_path("dcgan_digits"), "cpu")
    target = model.sample(1, seed=123).numpy()[0]
    result = project(model, target, steps=150)
    losses = np.array(result.losses)
    assert losses[-1] < 0.25 * losses[0]
    # descends on average: every 30-step window ends lower than the one before
    windows = losses[1:].reshape(5, 30).mean(1)
    assert (np.diff(windows) < 0).all(), windows
    assert psnr(result.image, target) > 28 and result.z.shape == (model.latent_dim,)
    with pytest.raises(ValueError, match="does not fit"):
        project(model, np.zeros((3, 32, 32), np.float32))


def test_invert_on_a_gan_projects_and_saves_z(tmp_path, capsys):
    digit = load_dataset("digits", size=64).tensor[3:4].numpy()
    save_png(tmp_path / "three.png", to_uint8(digit)[0])
    assert main(["invert", str(bundled_path("dcgan_digits")), str(tmp_path / "three.png"), "--steps", "60",
                 "--out", str(tmp_path / "p.png"), "--noise-out", str(tmp_path / "z.npy"), "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "GAN projection, 60 Adam steps" in said and "dB PSNR" in said
    assert np.load(tmp_path / "z.npy").shape == (1, 100)
    assert main(["invert", str(bundled_path("dcgan_digits")), str(tmp_path / "three.png"), "--eta", "1",
                 "--out", str(tmp_path / "p.png"), "--device", "cpu"]) == 1
    assert "--eta is for diffusion models" in capsys.readouterr().err


def test_an_inverted_picture_is_a_recording_that_branches_back_to_it(digits_model):
    """genstudio.inverted: the inversion in sampling order, its reconstruction as the final sample
    (measured 35.4 dB for this 7 at 50 steps; 34.5 dB over the first 8 digits, 28.3 dB at 20 steps);
    the scrubber's branch from x_T with η = 0 retraces it exactly."""
    from genstudio.inverted import invert_picture
    from genstudio.sampling import branch_start

    image = load_dataset("digits", size=16).tensor[7].numpy()
    picture = invert_picture(digits_model, image, "seven", steps=50)
    r = picture.result
    assert r.trajectory.x_t.shape == (50, 1, 1, 16, 16) and r.trajectory.timesteps[0] > r.trajectory.timesteps[-1]
    assert np.allclose(r.trajectory.x_t[0], ddim_invert(digits_model, image[None], 50).noise, atol=1e-5)
    assert picture.psnr > 32 and "seven inverted (DDIM 50 steps): reconstruction" in picture.describe()
    x, index = branch_start(r.trajectory, 0)
    again = sample(digits_model, r.spec, start_x=x, start_index=index).final
    assert np.abs(again - r.final).max() < 1e-5
    with pytest.raises(ValueError, match="text-conditioned"):
        invert_picture(digits_model, image, prompt="seven")
