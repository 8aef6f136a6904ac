"""Built-in data sets: shapes, ranges, dtypes, determinism, known structure, channel conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genstudio.data import BUILTIN, DataError, Dataset, dataset_names, is_points, load_dataset
from genstudio.data.faces import HEAD_HALF, SKIN

POINTS = ("ring8", "grid25", "spiral", "moons")


def test_names_and_kinds():
    assert dataset_names() == BUILTIN
    assert set(POINTS) < set(BUILTIN) and {"digits", "shapes", "faces"} < set(BUILTIN)
    assert all(is_points(n) for n in POINTS)
    assert not any(is_points(n) for n in ("digits", "shapes", "faces", "folder:/x"))


@pytest.mark.parametrize("name", POINTS)
def test_point_sets(name):
    data = load_dataset(name, num_points=3000, seed=1)
    assert isinstance(data, Dataset) and data.kind == "points" and data.name == name
    assert data.tensor.shape == (3000, 2) and data.tensor.dtype == torch.float32
    assert len(data) == 3000 and data.channels == 0
    assert torch.isfinite(data.tensor).all()
    extent = data.tensor.abs().max().item()
    assert 1.5 < extent < 2.5  # about [-2, 2], in data units
    again = load_dataset(name, num_points=3000, seed=1)
    assert torch.equal(data.tensor, again.tensor)
    assert not torch.equal(data.tensor, load_dataset(name, num_points=3000, seed=2).tensor)
    assert load_dataset(name, num_points=10, size=64, channels=1).tensor.shape == (10, 2)  # ignored


@pytest.mark.parametrize("name,k", [("ring8", 8), ("grid25", 25)])
def test_mixtures_sit_on_their_centres(name, k):
    data = load_dataset(name, num_points=8000, seed=0)
    c = data.centers
    assert c is not None and c.shape == (k, 2) and c.dtype == torch.float32
    if name == "ring8":
        angles = torch.tensor([2 * math.pi * i / 8 for i in range(8)])
        assert torch.allclose(c, 2 * torch.stack([angles.cos(), angles.sin()], 1), atol=1e-6)
    else:
        assert sorted(set(c.flatten().tolist())) == [-2.0, -1.0, 0.0, 1.0, 2.0]
    dist = torch.cdist(data.tensor, c)  # (N, K)
    nearest = dist.argmin(1)
    # distance to a 2-D isotropic Gaussian's centre is Rayleigh: mean std * sqrt(pi / 2)
    expected = 0.02 * math.sqrt(math.pi / 2)
    assert dist.min(1).values.mean().item() == pytest.approx(expected, rel=0.05)
    assert torch.equal(nearest, data.labels) and data.labels.dtype == torch.int64
    assert torch.bincount(nearest, minlength=k).min() > 8000 / k * 0.7  # every mode is used


def test_moons_have_two_labelled_halves():
    data = load_dataset("moons", num_points=2000)
    assert set(data.labels.tolist()) == {0, 1}
    upper = data.tensor[data.labels == 0, 1].mean()
    lower = data.tensor[data.labels == 1, 1].mean()
    assert upper > lower


def test_digits():
    data = load_dataset("digits", size=32)
    assert data.kind == "images" and data.tensor.shape == (1797, 1, 32, 32)
    assert data.tensor.dtype == torch.float32 and data.channels == 1 and data.size == 32
    assert data.tensor.min() >= -1 and data.tensor.max() <= 1
    assert data.tensor.min() == -1 and data.tensor.max() > 0.9  # black background, white strokes
    assert data.labels.dtype == torch.int64 and sorted(set(data.labels.tolist())) == list(range(10))
    assert load_dataset("digits", size=16).tensor.shape == (1797, 1, 16, 16)
    sub = load_dataset("digits", size=16, num_images=100, seed=3)
    assert sub.tensor.shape == (100, 1, 16, 16)
    assert torch.equal(sub.tensor, load_dataset("digits", size=16, num_images=100, seed=3).tensor)


def test_shapes():
    data = load_dataset("shapes", size=32, num_images=200, seed=5)
    assert data.tensor.shape == (200, 3, 32, 32) and data.tensor.dtype == torch.float32
    assert data.tensor.min() >= -1 and data.tensor.max() <= 1
    assert sorted(set(data.labels.tolist())) == list(range(len(data.info["classes"])))
    assert torch.equal(data.tensor, load_dataset("shapes", size=32, num_images=200, seed=5).tensor)
    f = data.info["factors"]
    assert all(len(v) == 200 for v in f.values())
    assert np.array_equal(f["shape"], data.labels.numpy())
    img = ((data.tensor + 1) * 127.5).round().permute(0, 2, 3, 1).numpy()  # (N, H, W, 3) 0..255
    for i in range(200):  # the corner shows the background, the shape's centre its fill colour
        assert np.abs(img[i, 0, 0] - f["background"][i]).max() <= 2
        cy, cx = int(f["y"][i] * 32), int(f["x"][i] * 32)
        assert np.abs(img[i, cy, cx] - f["colour"][i]).max() <= 12
    assert load_dataset("shapes", size=64, num_images=3).tensor.shape == (3, 3, 64, 64)


def test_faces():
    data = load_dataset("faces", size=64, num_images=40, seed=2)
    assert data.tensor.shape == (40, 3, 64, 64) and data.labels is None
    assert data.tensor.min() >= -1 and data.tensor.max() <= 1
    assert torch.equal(data.tensor, load_dataset("faces", size=64, num_images=40, seed=2).tensor)
    f = data.info["factors"]
    for key in ("skin", "hair_colour", "hair_style", "eye_size", "mouth_curve", "head_shape"):
        assert len(f[key]) == 40
    assert {"skin", "hair_colour", "hair_style", "head_shape"} <= set(data.info["factor_names"])
    assert f["mouth_curve"].min() < -0.3 and f["mouth_curve"].max() > 0.3  # frowns and smiles
    assert set(f["hair_style"].tolist()) == set(range(4))
    img = ((data.tensor + 1) * 127.5).round().permute(0, 2, 3, 1).numpy()  # (N, H, W, 3) 0..255
    for i in range(40):  # background in the corner, skin colour on a cheek
        assert np.abs(img[i, 0, 0] - f["background"][i]).max() <= 2
        k = f["scale"][i] * 64
        hw = HEAD_HALF[f["head_shape"][i]][0]
        x = (0.5 + f["dx"][i]) * 64 - 0.55 * hw * k
        y = (0.47 + f["dy"][i]) * 64 + 0.075 * k
        assert np.abs(img[i, int(y), int(x)] - SKIN[f["skin"][i]]).max() <= 12
    assert load_dataset("faces", size=32, num_images=4).tensor.shape == (4, 3, 32, 32)


def test_channel_conversion():
    rgb = load_dataset("digits", size=16, channels=3)
    assert rgb.tensor.shape == (1797, 3, 16, 16) and rgb.channels == 3
    assert torch.equal(rgb.tensor[:, 0], rgb.tensor[:, 2])
    colour = load_dataset("shapes", size=16, num_images=20)
    gray = load_dataset("shapes", size=16, num_images=20, channels=1)
    assert gray.tensor.shape == (20, 1, 16, 16) and gray.labels is not None
    luma = (colour.tensor * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    assert torch.allclose(gray.tensor, luma, atol=1e-6)
    assert load_dataset("shapes", size=16, num_images=2, channels=3).tensor.shape[1] == 3


def test_bad_requests():
    with pytest.raises(DataError, match=r"unknown data set 'mnist': choose from ring8, grid25.*folder:PATH"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="channels"):
        load_dataset("digits", channels=2)
    with pytest.raises(DataError, match="num_points"):
        load_dataset("ring8", num_points=0)
