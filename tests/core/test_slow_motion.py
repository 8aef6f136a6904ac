"""Slow motion: Step runs exactly one training step of a paused run, which pauses again and shows the
force on every generated point, −∂ℓ_G/∂x, pointing where that point's generator loss decreases."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from genstudio.config import RunConfig
from genstudio.gan.slow_motion import SLOW_MOTION_POINTS, generator_forces
from genstudio.models import build
from genstudio.runs.control import RunControl
from genstudio.runs.events import Finished, Paused, PreviewReady, Progress, Tick
from genstudio.runs.loop import train

CONFIG = RunConfig(kind="gan", data="ring8", steps=50, batch=16, width=16, num_points=300, log_every=1,
                   preview_every=1000, checkpoint_every=1000, device="cpu")


def test_step_runs_exactly_one_step_and_shows_a_force_per_generated_point(tmp_path):
    control = RunControl()
    control.pause()
    run = train(CONFIG, tmp_path / "run", control=control, on_fault="pause")
    events = []
    for event in run:  # Started, then paused before step 1
        events.append(event)
        if isinstance(event, Paused):
            break
    assert events[-1].step == 0
    control.step_once()
    after = []
    for event in run:
        after.append(event)
        if isinstance(event, Paused):
            break
    steps = [e.step for e in after if isinstance(e, (Tick, Progress))]
    assert steps == [1]  # exactly one step
    assert isinstance(after[-1], Paused) and after[-1].step == 1 and control.paused
    slow = [e for e in after if isinstance(e, PreviewReady)]
    assert len(slow) == 1 and slow[0].step == 1
    preview = slow[0].preview
    forces = preview.extra["forces"]
    assert preview.data.shape == forces.shape == (SLOW_MOTION_POINTS, 2)  # one arrow per generated point
    assert np.isfinite(forces).all() and np.abs(forces).max() > 0
    assert preview.extra["heatmap"].shape == (64, 64)  # over D's field
    control.request_stop()
    assert isinstance(list(run)[-1], Finished)


def test_each_force_points_where_that_points_generator_loss_decreases():
    torch.manual_seed(0)
    G = build("mlp_g", {"nz": 2, "hidden": 16, "depth": 3, "out_dim": 2})
    D = build("mlp_d", {"hidden": 16, "depth": 3, "in_dim": 2})
    z = torch.randn(40, 2)
    points, forces = generator_forces(G, D, z)
    np.testing.assert_allclose(points, G(z).detach().numpy(), atol=1e-6)

    D64 = copy.deepcopy(D).double().eval()

    def loss(x: np.ndarray) -> np.ndarray:  # each point's own non-saturating loss, −log σ(D(x)), float64
        with torch.no_grad():
            return F.softplus(-D64(torch.from_numpy(x.astype(np.float64))).reshape(-1)).numpy()

    eps = 1e-5
    for axis in (0, 1):  # central differences: the force is minus the gradient
        step = np.zeros_like(points)
        step[:, axis] = eps
        fd = (loss(points + step) - loss(points - step)) / (2 * eps)
        np.testing.assert_allclose(-forces[:, axis], fd, rtol=1e-3, atol=1e-6)
    unit = forces / np.linalg.norm(forces, axis=1, keepdims=True)
    assert (loss(points + 1e-2 * unit) < loss(points)).all()  # a small move along the arrow helps every point
