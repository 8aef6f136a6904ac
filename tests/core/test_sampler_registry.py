"""The sampler registry: one registration reaches the CLI and the core's one sampling API.

Issue 15's done-when test (CLI half; the app half is ``tests/gui/test_sampler_registry_app.py``):
the ``toy_sampler`` fixture (``tests/conftest.py``) registers a sampler, and nothing else is edited.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from genstudio.cli import build_parser, main
from genstudio.config import RunConfig
from genstudio.diffusion.samplers import ddim_sample, ddpm_sample
from genstudio.runs.loop import run_to_end
from genstudio.sampling import SAMPLERS, SampleSpec, get_sampler, register_sampler, sample, sampler_names

from tiny_models import tiny_image_model


@pytest.fixture(scope="module")
def ddpm_ckpt(tmp_path_factory):
    cfg = RunConfig(kind="diffusion", data="ring8", steps=1, batch=8, lr=1e-3, beta1=0.9, width=8, timesteps=20,
                    num_points=100, log_every=1, preview_every=100, checkpoint_every=100, device="cpu")
    return Path(run_to_end(cfg, tmp_path_factory.mktemp("ddpm") / "run").checkpoint)


def _choices(verb: str) -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    return list(next(a for a in sub.choices[verb]._actions if a.dest == "sampler").choices)


def test_ddpm_and_ddim_are_registered_with_what_they_take():
    assert sampler_names()[:2] == ("ddpm", "ddim")
    assert not get_sampler("ddpm").takes_steps and get_sampler("ddim").takes_eta
    assert SampleSpec(sampler="ddpm", steps=7).total_steps(40) == 40 and SampleSpec(sampler="ddim", steps=7).total_steps(40) == 7
    assert SampleSpec(16, 0, "ddim", 50).describe() == "DDIM 50 steps, η = 0, 16 samples, seed 0"
    assert SampleSpec(16, 0, "ddpm").describe() == "DDPM, 16 samples, seed 0"
    with pytest.raises(ValueError, match="'ddpm' or 'ddim', not 'nope'"):
        get_sampler("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_sampler(SAMPLERS["ddim"])


@pytest.mark.parametrize("spec", [SampleSpec(3, 5, "ddpm", record=False), SampleSpec(3, 5, "ddim", 10, 0.5, record=False)])
def test_the_one_api_draws_exactly_what_the_samplers_draw(spec):
    model = tiny_image_model()
    got = sample(model, spec).final
    shape = (spec.n, *model.sample_shape)
    if spec.sampler == "ddpm":
        want = ddpm_sample(model.net, shape, model.schedule, seed=spec.seed)
    else:
        want = ddim_sample(model.net, shape, model.schedule, steps=spec.steps, eta=spec.eta, seed=spec.seed)
    np.testing.assert_array_equal(got, want.numpy())


def test_a_registered_sampler_is_a_cli_choice_and_samples_through_the_cli(toy_sampler, ddpm_ckpt, tmp_path):
    assert toy_sampler in _choices("sample") and toy_sampler in _choices("score")
    assert main(["sample", str(ddpm_ckpt), "--n", "4", "--out", str(tmp_path / "toy.npy"), "--sampler", "toy",
                 "--steps", "5", "--eta", "0.5", "--trajectory", str(tmp_path / "toy.npz")]) == 0
    assert main(["sample", str(ddpm_ckpt), "--n", "4", "--out", str(tmp_path / "ddim.npy"), "--sampler", "ddim",
                 "--steps", "5", "--eta", "0.5"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "toy.npy"), np.load(tmp_path / "ddim.npy"))  # DDIM renamed
    with np.load(tmp_path / "toy.npz") as f:
        assert f["x_t"].shape[0] == 5 and '"sampler": "toy"' in str(f["info"])


def test_an_unregistered_sampler_is_no_choice(ddpm_ckpt, tmp_path, capsys):
    assert "toy" not in _choices("sample")
    with pytest.raises(SystemExit):
        main(["sample", str(ddpm_ckpt), "--n", "2", "--out", str(tmp_path / "x.npy"), "--sampler", "toy"])
    assert "invalid choice: 'toy'" in capsys.readouterr().err


def test_model_sample_goes_through_the_registry(toy_sampler):
    model = tiny_image_model()
    a = model.sample(2, seed=1, sampler="toy", steps=4, eta=0.3)
    b = model.sample(2, seed=1, sampler="ddim", steps=4, eta=0.3)
    assert isinstance(a, torch.Tensor) and torch.equal(a, b)
