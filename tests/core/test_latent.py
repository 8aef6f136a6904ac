"""Latent-space helpers: walks, truncation, GANSpace directions, grids and clipboard text (Qt-free)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from genstudio.latent import (
    decode_z,
    default_layer,
    direction_sweep,
    encode_z,
    interpolate,
    latent_grid_lines,
    lerp,
    map_latents,
    neighbourhood,
    principal_directions,
    slerp,
    truncate,
)
from genstudio.models.dcgan import DCGANGenerator
from genstudio.models.mlp import MLPGenerator


def structured_dcgan(nz: int = 16, seed: int = 0) -> nn.Module:
    """An untrained 32 px DCGAN G whose output varies visibly, and more along some z than others.

    DCGAN's N(0, 0.02) init shrinks activations layer by layer (the output is a flat grey), so
    weights are redrawn with He scaling, and the first layer listens mostly to six of the latent
    dimensions (weights scaled 1 … 0.75 for them, 0.05 for the rest): the uneven sensitivity a
    trained generator has, which PCA should find.
    """
    torch.manual_seed(seed)
    G = DCGANGenerator(nz=nz, ngf=8, nc=3, size=32)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, nn.ConvTranspose2d):
                cin, _, k, _ = m.weight.shape
                fan = cin * k * k / (m.stride[0] ** 2)
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan))
        scale = torch.full((nz,), 0.05)
        scale[:6] = torch.linspace(1.0, 0.75, 6)
        G.main[0].weight.mul_(scale[:, None, None, None])
    return G.eval()


# --------------------------------------------------------------------------- walks
def test_lerp_and_slerp_hit_the_ends_exactly():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(32).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    for fn in (lerp, slerp):
        np.testing.assert_array_equal(fn(a, b, 0.0), a)
        np.testing.assert_array_equal(fn(a, b, 1.0), b)
        assert fn(a, b, 0.5).dtype == np.float32
    walk = interpolate(a, b, [0.0, 0.25, 1.0], "slerp")
    assert walk.shape == (3, 32)
    np.testing.assert_array_equal(walk[0], a)
    np.testing.assert_array_equal(walk[-1], b)
    np.testing.assert_allclose(lerp(a, b, 0.5), (a + b) / 2, rtol=1e-6)
    with pytest.raises(ValueError):
        interpolate(a, b, [0.5], "cubic")


def test_slerp_keeps_the_norm_and_handles_parallel_vectors():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(64)
    b = rng.standard_normal(64)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    for t in (0.1, 0.5, 0.9):
        assert np.linalg.norm(slerp(a, b, t)) == pytest.approx(np.linalg.norm(a), rel=1e-9)
        assert np.linalg.norm(lerp(a, b, t)) < np.linalg.norm(a)  # the straight line cuts inside
    for other in (a * 2.0, a * (1 + 1e-9), -a, np.zeros_like(a)):  # parallel, nearly, opposite, zero
        mid = slerp(a, other, 0.3)
        assert np.isfinite(mid).all()
        np.testing.assert_allclose(mid, lerp(a, other, 0.3), atol=1e-6)


def test_truncation():
    z = np.random.default_rng(2).standard_normal(10).astype(np.float32)
    np.testing.assert_array_equal(truncate(z, 1.0), z)
    np.testing.assert_array_equal(truncate(z, 0.0), np.zeros_like(z))
    np.testing.assert_allclose(truncate(z, 0.5), 0.5 * z)
    np.testing.assert_allclose(truncate(z, 0.5, mean=1.0), 1.0 + 0.5 * (z - 1.0), rtol=1e-6)


# --------------------------------------------------------------------------- GANSpace
def test_principal_directions_are_unit_sorted_and_reproducible():
    G = structured_dcgan()
    assert default_layer(G) == "main.2"  # the first block's ReLU
    V, var = principal_directions(G, n_samples=300, n_components=8, seed=3)
    assert V.shape == (8, 16) and V.dtype == np.float32 and var.shape == (8,)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, atol=1e-5)
    assert np.all(np.diff(var) <= 0) and var[-1] > 0
    V2, var2 = principal_directions(G, n_samples=300, n_components=8, seed=3)
    np.testing.assert_array_equal(V, V2)
    np.testing.assert_array_equal(var, var2)
    assert principal_directions(G, n_samples=100, n_components=50)[0].shape == (16, 16)  # capped at nz
    assert principal_directions(G, n_samples=100, n_components=3, layer="")[0].shape == (3, 16)
    with pytest.raises(ValueError, match="no layer"):
        principal_directions(G, n_samples=50, layer="nope")


def test_top_directions_change_the_image_more_than_random_ones():
    G = structured_dcgan()
    V, _ = principal_directions(G, n_samples=1000, n_components=5, seed=0)
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((6, 16)).astype(np.float32)
    base = map_latents(G, Z)  # (8, 3, 32, 32)

    def effect(v: np.ndarray) -> float:
        return float(np.abs(map_latents(G, Z + 2.0 * v[None, :]) - base).mean())

    R = rng.standard_normal((12, 16))
    R /= np.linalg.norm(R, axis=1, keepdims=True)  # random unit directions, the same length
    random_effect = np.mean([effect(r.astype(np.float32)) for r in R])
    effects = [effect(v) for v in V]
    assert all(e > random_effect for e in effects), (effects, random_effect)


def test_style_generator_directions_are_principal_axes_of_w():
    """For a style-based G, GANSpace analyses w = f(z) (as the paper does for StyleGAN), not the picture:
    the first z direction moves w along its principal axis, more than any random direction does."""
    from genstudio.models.stylegan import StyleGenerator

    torch.manual_seed(0)
    G = StyleGenerator(nz=16, w_dim=16, mapping_layers=2, width=16, size=16).eval()
    assert default_layer(G) == "mapping"
    V, var = principal_directions(G, n_samples=500, n_components=4, seed=1)
    Z = torch.randn(64, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        W = G.map(Z)
        moved = lambda v: float((G.map(Z + 2.0 * torch.as_tensor(v)) - W).norm(dim=1).mean())  # noqa: E731
        R = torch.nn.functional.normalize(torch.randn(20, 16, generator=torch.Generator().manual_seed(3)), dim=1)
        assert moved(V[0]) > max(moved(r) for r in R)


def test_progress_is_reported_and_can_cancel():
    G = structured_dcgan()
    seen = []
    principal_directions(G, n_samples=400, n_components=4, batch=100, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 4

    class Cancelled(Exception):
        pass

    def cancel(_fraction):
        raise Cancelled

    with pytest.raises(Cancelled):
        principal_directions(G, n_samples=400, progress=cancel)
    assert not G.main[2]._forward_hooks  # the capture hook is gone


def test_2d_generator_directions():
    torch.manual_seed(0)
    G = MLPGenerator(nz=2, hidden=32, depth=2, out_dim=2).eval()
    V, var = principal_directions(G, n_samples=500, n_components=5)
    assert V.shape == (2, 2) and np.all(np.diff(var) <= 0)


# --------------------------------------------------------------------------- sweeps and grids
def test_sweeps_and_neighbourhood():
    z = np.arange(4, dtype=np.float32)
    d = np.array([1, 0, 0, 0], np.float32)
    sweep = direction_sweep(z, d, [-3, 0, 3])
    assert sweep.shape == (3, 4)
    np.testing.assert_array_equal(sweep[:, 0], [-3, 0, 3])
    np.testing.assert_array_equal(sweep[1], z)
    hood = neighbourhood(z, np.eye(4, dtype=np.float32)[:2], np.linspace(-3, 3, 7))
    assert hood.shape == (14, 4)
    np.testing.assert_array_equal(hood[7 + 6], z + np.array([0, 3, 0, 0], np.float32))


def test_grid_lines_map_through_G():
    lines = latent_grid_lines(2.0, n=5, points=9)
    assert lines.shape == (10, 9, 2)
    np.testing.assert_array_equal(lines[0, :, 1], -2.0)  # first row line at z2 = -2
    np.testing.assert_array_equal(lines[5, :, 0], -2.0)  # first column line at z1 = -2
    assert lines[:, :, 0].min() == -2.0 and lines[:, :, 0].max() == 2.0
    rect = latent_grid_lines((0, 1, 10, 20), n=3, points=4)
    assert rect[..., 1].min() == 10 and rect[..., 1].max() == 20
    torch.manual_seed(0)
    G = MLPGenerator(nz=2, hidden=16, depth=2, out_dim=2).eval()
    warped = map_latents(G, lines)
    assert warped.shape == (10, 9, 2)
    with torch.inference_mode():
        np.testing.assert_allclose(warped[3, 4], G(torch.from_numpy(lines[3, 4][None]))[0].numpy(), rtol=1e-5)


# --------------------------------------------------------------------------- clipboard text
def test_encode_decode_round_trip_is_exact():
    z = np.random.default_rng(3).standard_normal(100).astype(np.float32)
    text = encode_z(z)
    assert text.startswith("[") and " " not in text and len(text) < 1200
    np.testing.assert_array_equal(decode_z(text, 100), z)
    np.testing.assert_array_equal(decode_z("1, 2.5 -3", 3), [1, 2.5, -3])
    np.testing.assert_array_equal(decode_z('{"z": [0.5, 1]}', 2), [0.5, 1])
    np.testing.assert_array_equal(decode_z("(1;2)"), [1, 2])


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("hello world", "not a number"),
    ("[1, 2, oops]", "not a number"),
    ("[1, NaN]", "NaN"),
    ('{"seed": 3}', "list of numbers"),
    ("[true, false]", "list of numbers"),
    ("[1, 2, 3]", "has 4 numbers"),
])
def test_decode_rejects_bad_text_with_a_clear_message(text, match):
    with pytest.raises(ValueError, match=match):
        decode_z(text, nz=4)


def test_latent_module_is_qt_free():
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import genstudio.latent\n"
            "print('OK')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-2000:]
