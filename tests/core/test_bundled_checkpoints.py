"""The models shipped in ``checkpoints/`` load like any user checkpoint, sample sensibly and stay small."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from genstudio.bundled import BUNDLED
from genstudio.loading import load_model

FOLDER = Path(__file__).resolve().parents[2] / "checkpoints"
FILES = sorted(FOLDER.glob("*.safetensors"))
MB = 1e6
EACH_LIMIT, TOTAL_LIMIT = 10 * MB, 40 * MB  # issue 7: each under 10 MB, all under 40 MB


@pytest.mark.parametrize("stem", sorted({s for stems in BUNDLED.values() for s in stems}))
def test_every_model_the_app_opens_on_is_bundled(stem):
    assert (FOLDER / f"{stem}.safetensors").is_file(), f"checkpoints/{stem}.safetensors is missing"


def test_bundled_files_fit_the_size_budget():
    sizes = {p.name: p.stat().st_size for p in FILES}
    assert sizes, "no bundled checkpoints"
    too_big = {name: size for name, size in sizes.items() if size >= EACH_LIMIT}
    assert not too_big, f"over 10 MB: {too_big}"
    assert sum(sizes.values()) < TOTAL_LIMIT, f"bundles total {sum(sizes.values()) / MB:.1f} MB"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bundled_checkpoint_loads_and_samples(path):
    model = load_model(path, "cpu")
    n = 6
    if model.kind == "gan":
        x = model.sample(n, seed=0)
        again = model.sample(n, seed=0)
        assert torch.equal(x, again)  # same seed, same samples
    else:
        x = model.sample(n, seed=0, sampler="ddim", steps=10)
    if model.meta.get("data_kind") == "points":
        assert x.shape == (n, 2)
    else:
        c, s = int(model.meta["channels"]), int(model.meta["size"])
        assert x.shape == (n, c, s, s)
        assert x.abs().max() < 3  # images live in [-1, 1] (diffusion samples are not clipped)
        assert x.flatten(1).std(dim=1).min() > 0.05  # every image has structure, none is flat
    assert x.dtype == torch.float32
    assert torch.isfinite(x).all()
    assert (x - x[0]).abs().flatten(1).max(dim=1).values[1:].min() > 1e-3  # different seeds, different samples
