"""Opening Stable Diffusion pipeline folders: a tiny random pipeline made here (CLIP text encoder,
tokenizer from a vocabulary written by the test, UNet2DConditionModel, AutoencoderKL; 32 px
pictures from 8×8×4 latents), saved with save_pretrained (safetensors).

GenStudio's DDIM drives the diffusers U-Net; with the same x_T, prompt, negative prompt, guidance
and steps its latents at every step and its decoded pictures must equal diffusers' own
StableDiffusionPipeline's.
"""

from __future__ import annotations

import builtins
import shutil
import sys

import numpy as np
import pytest
import torch

from genstudio.checkpoint import CheckpointError
from genstudio.cli import main
from genstudio.latent_images import LinearPreview, is_latent_model, to_pictures
from genstudio.loading import kind_of, load_model
from genstudio.sampling import SampleSpec, sample
from tiny_models import tiny_sd_pipeline

diffusers = pytest.importorskip("diffusers")
pytest.importorskip("transformers")

TOL = 1e-4  # float32, the same operations in a different order (one batched forward of 2N rows here)


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sd") / "sd-tiny"
    pipe = tiny_sd_pipeline(folder)
    return folder, pipe


def test_an_sd_folder_opens_as_a_latent_text_to_image_model(sd_folder):
    folder, pipe = sd_folder
    model = load_model(folder, "cpu")
    assert kind_of(folder) == "text2image" and model.kind == "text2image"
    assert model.sample_shape == (4, 8, 8) and model.image_size == (32, 32)
    assert is_latent_model(model) and model.step_seconds > 0
    torch.testing.assert_close(model.schedule.betas.double(), pipe.scheduler.betas.double(), rtol=1e-5, atol=1e-8)
    assert "Stable Diffusion" in model.describe() and "32×32 px" in model.describe()


def test_sampling_equals_diffusers_stable_diffusion_pipeline(sd_folder):
    folder, pipe = sd_folder
    model = load_model(folder, "cpu")
    spec = SampleSpec(n=2, seed=4, sampler="ddim", steps=10, prompt="a red circle", guidance=5.0,
                      negative="blue square")
    result = sample(model, spec)
    traj = result.trajectory
    x_T = torch.from_numpy(traj.x_t[0].copy())  # the seed's x_T: given to diffusers too
    seen = []

    def keep(_pipe, _i, _t, kwargs):  # diffusers' latents after each step
        seen.append(kwargs["latents"].clone())
        return kwargs

    ref = pipe(["a red circle"] * 2, negative_prompt=["blue square"] * 2, num_inference_steps=10,
               guidance_scale=5.0, latents=x_T.clone(), height=32, width=32, eta=0.0, output_type="np",
               callback_on_step_end=keep).images  # (N, H, W, 3) in [0, 1]
    assert len(seen) == len(traj) == 10
    np.testing.assert_array_equal(traj.timesteps, pipe.scheduler.timesteps.numpy())
    for k in range(1, len(traj)):  # x_t of our step k is diffusers' latents after its step k − 1
        np.testing.assert_allclose(traj.x_t[k], seen[k - 1].numpy(), atol=TOL)
    np.testing.assert_allclose(result.final, seen[-1].numpy(), atol=TOL)
    ours = (model.decode_latents(torch.from_numpy(result.final)) / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)
    np.testing.assert_allclose(ours.numpy(), ref, atol=TOL)
    # x̂₀ is kept for every step; SD's grid is shifted by steps_offset = 1 and ends on ᾱ_0 (set_alpha_to_one=False)
    assert traj.x0.shape == traj.x_t.shape and traj.guidance is not None and np.isfinite(traj.x0).all()
    assert traj.timesteps[-1] == 1 and model.schedule.steps_offset == 1 and not model.schedule.final_alpha_one
    assert "DDIM uses" not in model.describe()  # nothing of the scheduler's DDIM settings is left out


def test_a_v_prediction_pipeline_samples_as_diffusers_does(tmp_path):
    folder = tmp_path / "sd-v"
    sched = diffusers.DDIMScheduler(num_train_timesteps=100, beta_schedule="scaled_linear", beta_start=0.00085,
                                    beta_end=0.012, clip_sample=False, set_alpha_to_one=False, steps_offset=1,
                                    prediction_type="v_prediction")  # SD 2.x 768-v's kind of model
    pipe = tiny_sd_pipeline(folder, sched)
    model = load_model(folder, "cpu")
    result = sample(model, SampleSpec(n=1, seed=2, sampler="ddim", steps=8, prompt="a cat", guidance=3.0, negative=""))
    ref = pipe("a cat", num_inference_steps=8, guidance_scale=3.0, latents=torch.from_numpy(result.trajectory.x_t[0].copy()),
               height=32, width=32, output_type="latent").images  # (1, 4, 8, 8): the final latents
    np.testing.assert_allclose(result.final, ref.numpy(), atol=TOL)


def test_the_preview_approximates_the_vae_and_attention_maps_are_per_word(sd_folder):
    folder, _ = sd_folder
    model = load_model(folder, "cpu")
    z = torch.randn((3, 4, 8, 8), generator=torch.Generator().manual_seed(1))
    exact = torch.nn.functional.adaptive_avg_pool2d(model.decode_latents(z), (8, 8))
    approx = model.latent_preview(z)
    assert approx.shape == (3, 3, 8, 8) and approx.abs().max() <= 1
    fitted = ((approx - exact) ** 2).mean()  # a linear map fitted to the VAE beats predicting its mean colour
    assert fitted < ((exact - exact.mean((0, 2, 3), keepdim=True)) ** 2).mean()
    assert to_pictures(model, z.numpy()).shape == (3, 3, 8, 8)
    words, maps = model.attention_maps(z[:1], torch.tensor([50]), "a big red dog")
    assert words == ["a", "big", "red", "dog"] and maps.shape == (1, 4, 8, 8) and (maps >= 0).all()
    m = LinearPreview(np.eye(5, 3))
    assert m(np.full((1, 4, 2, 2), 0.5, np.float32))[0, :, 0, 0].tolist() == [0.5, 0.5, 0.5]


def test_a_folder_with_pickled_weights_is_refused(sd_folder, tmp_path):
    folder, _ = sd_folder
    copy = tmp_path / "pickled"
    shutil.copytree(folder, copy)
    (copy / "unet" / "diffusion_pytorch_model.safetensors").rename(copy / "unet" / "diffusion_pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"pickled weights \(diffusion_pytorch_model.bin\).*refuses"):
        load_model(copy, "cpu")
    shutil.rmtree(copy / "vae")
    with pytest.raises(CheckpointError, match="no vae/ folder"):
        load_model(copy, "cpu")


def test_without_transformers_opening_says_how_to_install_it(sd_folder, monkeypatch):
    folder, _ = sd_folder
    real = builtins.__import__

    def no_transformers(name, *args, **kwargs):
        if name == "transformers" or name.startswith("transformers."):
            raise ImportError("No module named 'transformers'", name="transformers")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_transformers)
    with pytest.raises(CheckpointError, match=r"needs transformers: pip install 'genstudio\[diffusers\]'"):
        load_model(folder, "cpu")


def test_cli_info_and_sample_a_pipeline_folder(sd_folder, tmp_path, capsys, monkeypatch):
    folder, _ = sd_folder
    monkeypatch.setattr(sys, "argv", ["genstudio"])
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "text2image" in out and "diffusers.UNet2DConditionModel" in out and "transformers.CLIPTextModel" in out
    assert "pictures:    32x32 px from 4x8x8 latents" in out and "one guided U-Net step" in out
    png = tmp_path / "s.png"
    assert main(["sample", str(folder), "--prompt", "a red circle", "--guidance", "4", "--negative-prompt", "blue",
                 "--n", "2", "--out", str(png), "--px", "0"]) == 0
    captured = capsys.readouterr()
    assert "about" in captured.err and "U-Net step" in captured.err  # the estimate, before it starts
    from PIL import Image

    with Image.open(png) as picture:  # decoded 32 px pictures, not 8×8 latents
        assert picture.size == (2 * 32 + 3 * 2, 32 + 2 * 2)
