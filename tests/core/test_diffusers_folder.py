"""Opening diffusers model folders: tiny random UNet2DModels made here, saved with save_pretrained.

GenStudio's samplers drive the diffusers U-Net; their samples must equal diffusers' own pipelines'
for the same noise and scheduler.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from genstudio.checkpoint import CheckpointError
from genstudio.cli import main
from genstudio.diffusion.samplers import ddim_sample, ddpm_sample
from genstudio.loading import load_model
from genstudio.sampling import SampleSpec, sample
from tiny_models import tiny_diffusers_pipeline

diffusers = pytest.importorskip("diffusers")


@pytest.fixture()
def ddpm_folder(tmp_path):
    folder = tmp_path / "ddpm-tiny"
    sched = diffusers.DDPMScheduler(num_train_timesteps=50, beta_start=1e-3, beta_end=0.2,
                                    variance_type="fixed_small", clip_sample=True)
    pipe = tiny_diffusers_pipeline(folder, sched)
    return folder, pipe


def test_a_ddpm_pipeline_folder_opens_with_its_schedule(ddpm_folder):
    folder, pipe = ddpm_folder
    model = load_model(folder, "cpu")
    assert model.kind == "diffusion" and model.sample_shape == (3, 8, 8)
    assert model.schedule.num_steps == 50
    torch.testing.assert_close(model.schedule.betas.double(), pipe.scheduler.betas.double(), rtol=1e-5, atol=1e-7)
    assert model.clip_x0 and "clips x̂₀" in model.describe()


def test_ddpm_samples_equal_the_diffusers_pipeline(ddpm_folder):
    folder, pipe = ddpm_folder
    model = load_model(folder, "cpu")
    ours = ddpm_sample(model.eps, (2, 3, 8, 8), model.schedule, variance="beta_tilde",
                       generator=torch.Generator().manual_seed(3), clip_x0=True)
    ref = pipe(batch_size=2, generator=torch.Generator().manual_seed(3), num_inference_steps=50,
               output_type="np").images  # (N, H, W, C) in [0, 1]
    np.testing.assert_allclose((ours / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).numpy(), ref, atol=2e-4)


def test_the_scrubbers_recording_ends_where_diffusers_ddim_ends(tmp_path):
    folder = tmp_path / "ddim-tiny"
    sched = diffusers.DDIMScheduler(num_train_timesteps=100, clip_sample=False)
    pipe = tiny_diffusers_pipeline(folder, sched, pipeline="DDIMPipeline")
    model = load_model(folder, "cpu")
    assert not model.clip_x0
    x_T = torch.randn((2, 3, 8, 8), generator=torch.Generator().manual_seed(5))  # what the pipeline draws
    result = sample(model, SampleSpec(2, 0, "ddim", steps=10, record=True), start_x=x_T)
    ref = pipe(batch_size=2, generator=torch.Generator().manual_seed(5), num_inference_steps=10, eta=0.0,
               output_type="np").images
    frames = result.trajectory
    assert len(frames) == 10 and frames.x0.shape[1:] == (2, 3, 8, 8)
    np.testing.assert_allclose((np.clip(result.final / 2 + 0.5, 0, 1)).transpose(0, 2, 3, 1), ref, atol=2e-4)
    direct = ddim_sample(model.eps, (2, 3, 8, 8), model.schedule, steps=10, generator=torch.Generator().manual_seed(5))
    np.testing.assert_allclose(direct.numpy(), result.final, atol=1e-5)


@pytest.mark.parametrize("prediction", ["sample", "v_prediction"])
def test_x0_and_v_predicting_unets_become_eps(tmp_path, prediction):
    folder = tmp_path / prediction
    sched = diffusers.DDIMScheduler(num_train_timesteps=100, clip_sample=False, prediction_type=prediction)
    pipe = tiny_diffusers_pipeline(folder, sched, pipeline="DDIMPipeline")
    model = load_model(folder, "cpu")
    x_T = torch.randn((1, 3, 8, 8), generator=torch.Generator().manual_seed(1))
    ours = sample(model, SampleSpec(1, 0, "ddim", steps=5, record=False), start_x=x_T).final
    ref = pipe(batch_size=1, generator=torch.Generator().manual_seed(1), num_inference_steps=5, output_type="np").images
    np.testing.assert_allclose(np.clip(ours / 2 + 0.5, 0, 1).transpose(0, 2, 3, 1), ref, atol=2e-4)


def test_a_bare_unet_folder_opens_with_a_scheduler_beside_it(tmp_path):
    folder = tmp_path / "bare"
    tiny_diffusers_pipeline(tmp_path / "p", channels=1).unet.save_pretrained(folder)
    diffusers.DDPMScheduler(num_train_timesteps=20, beta_schedule="squaredcos_cap_v2").save_pretrained(folder)
    model = load_model(folder, "cpu")
    assert model.sample_shape == (1, 8, 8) and model.schedule.kind == "cosine" and model.schedule.num_steps == 20
    assert model.sample(3, seed=0, sampler="ddim", steps=4).shape == (3, 1, 8, 8)


def test_pickled_weights_and_incomplete_stable_diffusion_folders_are_refused(tmp_path):
    folder = tmp_path / "pickled"
    tiny_diffusers_pipeline(tmp_path / "p").unet.save_pretrained(folder, safe_serialization=False)
    with pytest.raises(CheckpointError, match="pickled weights"):
        load_model(folder, "cpu")
    sd = tmp_path / "sd"
    sd.mkdir()
    (sd / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                     "unet": ["diffusers", "UNet2DConditionModel"],
                                                     "vae": ["diffusers", "AutoencoderKL"],
                                                     "text_encoder": ["transformers", "CLIPTextModel"]}))
    with pytest.raises(CheckpointError, match="has no unet/ folder: a Stable Diffusion pipeline needs"):
        load_model(sd, "cpu")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_model(tmp_path, "cpu")


def test_the_cli_describes_and_samples_a_folder(ddpm_folder, tmp_path, capsys):
    folder, _ = ddpm_folder
    assert main(["info", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "diffusers.UNet2DModel" in text and "format:      diffusers" in text
    out = tmp_path / "grid.png"
    assert main(["sample", str(folder), "--n", "4", "--sampler", "ddim", "--steps", "5", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert main(["sample", str(tmp_path), "--n", "1", "--out", str(tmp_path / "x.png")]) == 1  # not a model
    assert "is a folder" in capsys.readouterr().err


def test_without_diffusers_the_message_says_how_to_install_it(ddpm_folder, monkeypatch):
    folder, _ = ddpm_folder
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers now raises ImportError
    with pytest.raises(CheckpointError, match=r"pip install 'genstudio\[diffusers\]'"):
        load_model(folder, "cpu")
