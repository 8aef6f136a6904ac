"""The perception–distortion points: which models, and their scores on the held-out images."""

from __future__ import annotations

from pathlib import Path

import torch

from genstudio.models.srresnet import SRResNet
from genstudio.superres.perception import BICUBIC, PDPoint, PDProgress, SeenModels, pd_points
from genstudio.superres.model import SRModel


def _model(kind: str, step: int = 1, path: str | None = None) -> SRModel:
    torch.manual_seed(0)
    meta = {"kind": kind, "data": "shapes", "size": 32, "step": step,
            "models": {"G": {"arch": "srresnet", "args": {"channels": 3, "width": 4, "blocks": 1}}}}
    m = SRModel(SRResNet(3, 4, 1), meta, torch.device("cpu"))
    if path:
        m.path = Path(path)
    return m


def test_seen_models_keep_one_point_per_file_and_one_moving_point_per_training_run(tmp_path):
    seen = SeenModels()
    assert seen.add(_model("srresnet", path=str(tmp_path / "a.safetensors"))) == "SRResNet (a)"
    seen.add(_model("srresnet", path=str(tmp_path / "a.safetensors")))  # opened again: the same point
    seen.add(_model("srgan", path=str(tmp_path / "b.safetensors")))
    seen.add(_model("srresnet", step=10))
    assert seen.add(_model("srresnet", step=20)) == "SRResNet (training, step 20)"
    assert list(seen.labelled()) == ["SRResNet (a)", "SRGAN (b)", "SRResNet (training, step 20)"]
    assert seen.labelled(channels=1) == {}


def test_pd_points_score_bicubic_then_each_model_with_progress_between():
    hr = torch.rand(4, 3, 32, 32) * 2 - 1
    events = list(pd_points({"SRResNet (a)": _model("srresnet"), "SRGAN (b)": _model("srgan")}, hr))
    assert [type(e) for e in events] == [PDProgress, PDPoint] * 3
    points = [e for e in events if isinstance(e, PDPoint)]
    assert [p.name for p in points] == [BICUBIC, "SRResNet (a)", "SRGAN (b)"]
    assert [p.kind for p in points] == [BICUBIC, "srresnet", "srgan"]
    assert all(p.psnr > 0 and p.sharpness > 0 for p in points)
    assert events[2] == PDProgress(1, 3, "SRResNet (a)")
