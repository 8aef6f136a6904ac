"""The MLP GAN actually learns ring8: a small-budget version of issue 2's mode-coverage goal.

The full figure (5,000 steps, 3 seeds, ≥ 85 % within 0.1 and 8/8 modes) is measured by
``benchmarks/ring8_gan_coverage.py`` and quoted in the README. Here 1,500 steps of the same recipe
(lr 1e-3, batch 256, width 128, nz 2) must already put most samples on the modes; a broken loss,
optimiser or sampler (e.g. a flipped label) leaves the samples off the ring and fails.
"""

from __future__ import annotations

import pytest
import torch

from genstudio.config import RunConfig
from genstudio.devices import sample_noise
from genstudio.metrics import mode_coverage
from genstudio.training import make_trainer

STEPS, SEED = 1500, 2  # seed 2 was the slowest to converge at 5,000 steps (89 %); 87 % here


@pytest.mark.slow
@pytest.mark.quality
def test_mlp_gan_covers_ring8_after_a_short_run():
    cfg = RunConfig(kind="gan", data="ring8", steps=STEPS, batch=256, lr=1e-3, seed=SEED).validate()
    trainer = make_trainer(cfg, torch.device("cpu"))
    for _ in range(STEPS):
        trainer.train_step(trainer.next_batch())
    G = trainer.G.eval()
    with torch.inference_mode():
        points = G(sample_noise((G.nz,), 2000, seed=0))  # (2000, 2)
    frac, modes = mode_coverage(points, trainer.data.centers, radius=0.1)
    assert modes >= 7 and frac >= 0.6, f"{100 * frac:.1f} % within 0.1 of a mode, {modes}/8 modes"
