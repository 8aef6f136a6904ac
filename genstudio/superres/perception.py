"""The perception–distortion plane (Blau & Michaeli, CVPR 2018): every super-resolution model seen in
a session as one point, x = PSNR (distortion: higher is better), y = sharpness (a perceptual
figure: gradient energy of SR over that of HR; 1 is the originals' own), with bicubic as the
reference point. SRResNet lands far right but low; SRGAN gives up PSNR for sharpness — the
paper's trade-off, drawn.

Qt-free: :class:`SeenModels` keeps which models the session has shown (opened files, the bundled
two, snapshots of the run being trained), and :func:`pd_points` scores them on the same held-out
images as a generator, yielding :class:`PDProgress` before each model and a :class:`PDPoint` after,
so the GUI runs it on a worker thread with progress (and can cancel between two models).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genstudio.superres.degrade import bicubic_up, downsample
from genstudio.superres.score import score_images, upscale_all

__all__ = ["PDPoint", "PDProgress", "SeenModels", "pd_points", "BICUBIC"]

BICUBIC = "bicubic"


@dataclass(frozen=True)
class PDPoint:
    """One model on the plane: means over the held-out images."""

    name: str
    kind: str  # "bicubic", "srresnet" or "srgan"
    psnr: float
    sharpness: float
    ssim: float


@dataclass(frozen=True)
class PDProgress:
    """About to score model ``done + 1`` of ``total`` (``name``)."""

    done: int
    total: int
    name: str


class SeenModels:
    """The super-resolution models shown this session, by a label a person recognises.

    A model loaded from a file is labelled by its kind and file name (opening the same file again
    replaces it); a snapshot of the run being trained by its kind and step, replacing the previous
    snapshot of that kind, so a training run is one point that moves.
    """

    def __init__(self) -> None:
        self.models: dict[str, Any] = {}

    def add(self, model: Any) -> str:
        """Remember ``model``; the label it is plotted under."""
        kind = "SRGAN" if model.kind == "srgan" else "SRResNet"
        path = getattr(model, "path", None)
        if path is not None:
            key, label = f"file:{Path(path).resolve()}", f"{kind} ({Path(path).stem})"
        else:
            key, label = f"live:{kind}", f"{kind} (training, step {model.meta.get('step', 0)})"
        self.models.pop(key, None)
        self.models[key] = (label, model)
        return label

    def labelled(self, channels: int | None = None) -> dict[str, Any]:
        """label -> model, in the order seen (only those of ``channels`` image channels if given)."""
        return {label: m for label, m in self.models.values() if channels is None or m.channels == channels}

    def __len__(self) -> int:
        return len(self.models)


def pd_points(models: dict[str, Any], hr: torch.Tensor) -> Iterator[PDProgress | PDPoint]:
    """Score bicubic and each of ``models`` (label -> SRModel) on ``hr`` (N, C, H, W) in [-1, 1].

    Yields ``PDProgress`` before each and its ``PDPoint`` after: bicubic first, then the models in
    the order given. H and W must be multiples of 4.
    """
    lr = downsample(hr)
    total = len(models) + 1
    yield PDProgress(0, total, BICUBIC)
    s = score_images(BICUBIC, bicubic_up(lr), hr)
    yield PDPoint(BICUBIC, BICUBIC, s.psnr, s.sharpness, s.ssim)
    for i, (label, model) in enumerate(models.items(), 1):
        yield PDProgress(i, total, label)
        with torch.inference_mode():
            sr = upscale_all(model, lr)
        s = score_images(label, sr, hr)
        yield PDPoint(label, model.kind, s.psnr, s.sharpness, s.ssim)
