"""Run folders with saved previews, written through RunDir as a run writes them (for the time-lapse tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genstudio.config import RunConfig
from genstudio.runs.folder import RunDir
from genstudio.trainer import Preview

#: One solid colour per preview, so a shown or exported frame says which preview it is.
COLOURS = ((230, 40, 40), (40, 200, 60), (50, 90, 240), (240, 220, 30), (200, 60, 220), (40, 220, 220))


def solid_images(colour: tuple[int, int, int], n: int = 4, size: int = 8) -> np.ndarray:
    """(n, 3, size, size) float in [-1, 1] of one colour."""
    c = np.asarray(colour, np.float32) / 127.5 - 1.0
    return np.broadcast_to(c[None, :, None, None], (n, 3, size, size)).astype(np.float32).copy()


def image_run(path: Path, preview_steps=(20, 40, 60, 80, 100), log_every: int = 10) -> RunDir:
    """A GAN run on digits: losses logged every ``log_every`` steps (loss_D = step / 1000) and a
    solid-colour preview grid at each of ``preview_steps`` (COLOURS in order), written newest first."""
    rd = RunDir(path)
    rd.write_config(RunConfig(kind="gan", data="digits", steps=max(preview_steps), size=16))
    for s in range(log_every, max(preview_steps) + 1, log_every):
        rd.append_metrics(s, {"loss_D": s / 1000, "loss_G": 2.0, "D(x)": 0.5, "D(G(z))": 0.5})
    for i, s in reversed(list(enumerate(preview_steps))):
        add_image_preview(rd, s, COLOURS[i % len(COLOURS)])
    return rd


def add_image_preview(rd: RunDir, step: int, colour: tuple[int, int, int]) -> Path:
    return rd.write_preview(step, Preview("images", solid_images(colour)))


def points_run(path: Path, preview_steps=(50, 100, 150)) -> RunDir:
    """A GAN run on ring8 whose previews are points (shifting right) over D's field (all "real")."""
    rd = RunDir(path)
    rd.write_config(RunConfig(kind="gan", data="ring8", steps=max(preview_steps)))
    for s in preview_steps:
        rd.append_metrics(s, {"loss_D": s / 1000, "loss_G": 1.0, "D(x)": 0.5, "D(G(z))": 0.5})
        pts = np.random.default_rng(s).normal(0, 0.3, (200, 2)).astype(np.float32) + [s / 100, 0]
        heat = np.ones((16, 16), np.float32)
        rd.write_preview(s, Preview("points", pts, {"heatmap": heat, "extent": (-3.0, 3.0, -3.0, 3.0)}))
    return rd
