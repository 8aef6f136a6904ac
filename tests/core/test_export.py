"""`genstudio export`: a small sampling-only copy that samples exactly like the original."""

from __future__ import annotations

import pytest
import torch

from genstudio.checkpoint import load_checkpoint
from genstudio.cli import main
from genstudio.loading import load_model


@pytest.mark.parametrize("kind", ["gan", "diffusion"])
def test_export_is_smaller_and_samples_like_the_original(kind, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", kind, "--data", "digits", "--size", "16", "--steps", "2", "--batch", "8",
                 "--width", "8", "--out", str(run), "--quiet"]) == 0
    src = run / "checkpoints" / "last.safetensors"
    out = {}
    for half in (False, True):
        dst = tmp_path / f"small_{half}.safetensors"
        assert main(["export", str(src), "--out", str(dst), *(["--half"] if half else [])]) == 0
        assert "wrote" in capsys.readouterr().out
        out[half] = dst
    sizes = {k: p.stat().st_size for k, p in out.items()}
    assert sizes[True] < sizes[False] < src.stat().st_size  # no optimiser state; float16 halves again
    tensors, meta = load_checkpoint(out[True])
    assert not any(k.startswith("optim") for k in tensors) and meta["exported"]["resumable"] is False
    if kind == "gan":  # sampling needs G only
        assert not any(k.startswith("model/D/") for k in tensors) and list(meta["models"]) == ["G"]
        again = tmp_path / "again.safetensors"  # an export of an export still names the run's file
        assert main(["export", str(out[True]), "--out", str(again)]) == 0
        assert load_checkpoint(again)[1]["exported"] == {"from": "last.safetensors", "half": True,
                                                          "resumable": False}

    def draw(path):
        model = load_model(path, "cpu")
        if kind == "gan":
            return model.generate(model.noise(4, 3))
        return model.sample(4, seed=3, sampler="ddim", steps=5)

    full, small32, small16 = draw(src), draw(out[False]), draw(out[True])
    assert torch.equal(full, small32)  # exporting without --half changes nothing
    assert (full - small16).abs().max() < 0.05  # float16 weights: close, not identical
