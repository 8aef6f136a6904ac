"""Opt-in speed options: bfloat16 autocast (--amp bf16) and torch.compile (--compile)."""

from __future__ import annotations

import math

import pytest
import torch

from genstudio.checkpoint import read_header
from genstudio.cli import main
from genstudio.config import ConfigError, RunConfig
from genstudio.runs.events import Progress
from genstudio.runs.loop import train


@pytest.mark.parametrize("kind, data", [("gan", "ring8"), ("diffusion", "digits")])
def test_bf16_autocast_trains_with_finite_float32_losses(kind, data, tmp_path):
    cfg = RunConfig(kind=kind, data=data, size=16, steps=6, batch=16, width=8, log_every=1, preview_every=100,
                    checkpoint_every=100, device="cpu", extra={"amp": "bf16"})
    ticks = [e for e in train(cfg, tmp_path / "run") if isinstance(e, Progress)]
    assert len(ticks) == 6
    assert all(math.isfinite(v) for t in ticks for k, v in t.metrics.items() if isinstance(v, float))
    header = read_header(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert header["config"]["extra"] == {"amp": "bf16"}  # a resumed run keeps its precision


def test_bf16_really_autocasts_the_forward_pass(tmp_path):
    from genstudio.runs.start import make_trainer

    seen = []
    cfg = RunConfig(kind="gan", data="ring8", steps=1, batch=8, device="cpu", extra={"amp": "bf16"})
    trainer = make_trainer(cfg, torch.device("cpu"))
    trainer.G.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    trainer.train_step(trainer.next_batch())
    assert seen == [torch.bfloat16]
    assert all(p.dtype == torch.float32 for p in trainer.G.parameters())  # weights stay float32


def test_compile_option_compiles_the_networks_a_step_runs(tmp_path, monkeypatch):
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda module: compiled.append(type(module).__name__) or module)
    assert main(["train", "diffusion", "--data", "ring8", "--steps", "2", "--batch", "8", "--out",
                 str(tmp_path / "run"), "--quiet", "--compile"]) == 0
    assert len(compiled) == 1  # the ε-network
    compiled.clear()
    assert main(["train", "gan", "--data", "ring8", "--steps", "2", "--batch", "8", "--out",
                 str(tmp_path / "run2"), "--quiet", "--compile"]) == 0
    assert len(compiled) == 2  # G and D


@pytest.mark.parametrize("extra", [{"amp": "fp8"}, {"compile": "yes"}])
def test_bad_speed_options_are_refused(extra):
    with pytest.raises(ConfigError):
        RunConfig(extra=extra).validate()
