"""The model-family registry: what a family declares is what the core uses.

Issue 15's done-when test (CLI half; the app half is ``tests/gui/test_family_registry_app.py``): the
``toy_family`` fixture (``tests/conftest.py``) registers a family, and nothing else is edited.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.checkpoint import CheckpointError, read_header
from genstudio.cli import build_parser, main
from genstudio.config import RunConfig
from genstudio.families import FAMILIES, Family, family_names, get_family, register_family
from genstudio.loading import load_model
from genstudio.models import ARCHS
from genstudio.runs.folder import RunDir
from genstudio.runs.start import make_trainer


def test_gan_and_diffusion_are_registered_and_every_architecture_belongs_to_one():
    assert family_names()[:2] == ("gan", "diffusion")
    assert get_family("gan").view == "latent" and get_family("diffusion").view == "scrubber"
    assert get_family("diffusion").uses_samplers and not get_family("gan").uses_samplers
    owners = {a: [f.name for f in FAMILIES.values() if a in f.archs] for a in ARCHS}
    assert all(len(names) == 1 for names in owners.values()), owners  # none unchecked, none shared
    with pytest.raises(ValueError, match="kind must be one of gan, diffusion"):
        get_family("nope")
    with pytest.raises(ValueError, match="unknown architectures"):
        register_family(Family("x", "X", "x", object, object, archs=("nope",)))
    with pytest.raises(ValueError, match="unknown plot"):
        register_family(Family("x", "X", "x", object, object, metrics=(get_family("gan").metrics[0].__class__(
            "m", "m", "nowhere"),)))
    assert "x" not in FAMILIES


@pytest.mark.parametrize("kind", ["gan", "diffusion"])
def test_every_number_a_trainer_logs_is_declared_by_its_family(kind):
    """A renamed metric fails here instead of silently vanishing from the Monitor."""
    cfg = RunConfig(kind=kind, data="ring8", steps=1, batch=16, num_points=200, width=16, timesteps=20,
                    device="cpu").validate()
    trainer = make_trainer(cfg, torch.device("cpu"))
    logged = set(trainer.train_step(trainer.next_batch()))
    assert logged == {m.name for m in get_family(kind).metrics}


def test_a_registered_family_trains_samples_and_loads_from_the_cli(toy_family, tmp_path, capsys):
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    assert toy_family in next(a for a in sub.choices["train"]._actions if a.dest == "kind").choices
    out = tmp_path / "toy"
    assert main(["train", "toy", "--data", "ring8", "--steps", "4", "--batch", "16", "--log-every", "2",
                 "--out", str(out), "--quiet"]) == 0
    ckpt = RunDir(out).last_checkpoint
    assert read_header(ckpt)["kind"] == "toy"
    logged = [r for r in RunDir(out).read_metrics() if "loss_toy" in r]
    assert logged and np.isfinite(logged[-1]["loss_toy"])
    model = load_model(ckpt, "cpu")
    assert type(model).__name__ == "ToyModel" and model.kind == "toy"
    assert main(["sample", str(ckpt), "--n", "5", "--out", str(tmp_path / "toy.npy")]) == 0
    assert np.load(tmp_path / "toy.npy").shape == (5, 2)
    assert main(["sample", str(ckpt), "--n", "5", "--out", str(tmp_path / "x.npy"), "--sampler", "ddim"]) != 0
    assert "--sampler is for diffusion models" in capsys.readouterr().err  # it samples in one pass
    with pytest.raises(CheckpointError, match="holds a toy model, not a GAN model"):
        read_header(ckpt, kind="gan")


def test_an_unregistered_kind_is_refused(tmp_path):
    from genstudio.config import ConfigError

    with pytest.raises(ConfigError, match="kind must be one of"):
        RunConfig(kind="toy", data="ring8").validate()


def test_what_defines_a_run_is_the_familys_to_say(toy_family):
    """Resuming compares what the family declares (``Family.defining``), not a table keyed by kind."""
    from genstudio.config import RunConfig
    from genstudio.families import FAMILIES
    from genstudio.runs.identity import defining_differences

    toy = RunConfig(kind=toy_family, data="ring8")
    assert defining_differences(toy, toy.replace(latent_dim=8, width=7)) == []  # declares nothing
    gan = RunConfig(kind="gan", data="ring8")
    assert FAMILIES["gan"].defining_values(gan) == [("architecture", "mlp"), ("width", 128), ("latent dimension", 2)]
    assert defining_differences(gan, gan.replace(width=7)) == ["width: 128 in the folder, 7 in the form"]
    digits = RunConfig(kind="diffusion", data="digits", size=32)
    assert defining_differences(digits, digits.replace(arch="unet", width=32)) == []  # the defaults, spelt out
