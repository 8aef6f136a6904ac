"""The latent explorer's state without Qt: seeds, locks, ψ, directions, paste and the A → B walk."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.views.latent import LatentState


class FakeG:
    """What the state needs of a GAN: the latent size and seeded noise."""

    is_points = False

    def __init__(self, nz: int = 6) -> None:
        self.latent_dim = nz

    def noise(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)


def state_with(model=None) -> tuple[LatentState, list]:
    s, seen = LatentState(), []
    s.changed.connect(lambda what, index: seen.append((what, index)))
    s.set_model(model or FakeG())
    return s, seen


def test_a_seed_draws_the_same_z_and_locks_keep_their_values():
    s, seen = state_with()
    s.set_seed(7)
    z7 = s.current_z()
    np.testing.assert_array_equal(z7, FakeG().noise(1, 7)[0])
    assert ("drawn", None) in seen and not s.z_edited()
    s.set_locked(2)
    s.set_dim(2, 1.5)
    assert s.z_edited()
    s.set_seed(8)
    z8 = s.current_z()
    assert z8[2] == np.float32(1.5)  # locked: kept
    np.testing.assert_array_equal(np.delete(z8, 2), np.delete(FakeG().noise(1, 8)[0], 2))
    s.reset()  # back to the seed's draw everywhere, locks included
    np.testing.assert_array_equal(s.current_z(), FakeG().noise(1, 8)[0])


def test_psi_scales_z_and_directions_add_to_it():
    s, _ = state_with()
    z = s.current_z()
    s.set_psi(0.5)
    np.testing.assert_allclose(s.current_z(), 0.5 * z, rtol=1e-6)
    with pytest.raises(ValueError, match="ψ"):
        s.set_psi(1.5)
    s.set_psi(1.0)
    s.set_directions(np.eye(6)[:2], np.array([2.0, 1.0]))
    s.set_alpha(1, 0.25)
    np.testing.assert_allclose(s.current_z(), z + 0.25 * np.eye(6)[1], rtol=1e-6)
    assert s.z_edited()


def test_paste_sets_z_and_bad_text_leaves_it():
    s, _ = state_with()
    before = s.current_z()
    with pytest.raises(ValueError):
        s.paste("[1, 2]")  # wrong length
    np.testing.assert_array_equal(s.current_z(), before)
    s.set_psi(0.3)
    s.paste("[1, 2, 3, 4, 5, 6]")
    np.testing.assert_array_equal(s.current_z(), np.arange(1, 7, dtype=np.float32))
    assert s.psi == 1.0 and s.z_edited()


def test_a_model_of_the_same_latent_size_keeps_seed_z_locks_and_ends():
    s, _ = state_with()
    s.set_seed(3)
    s.set_locked(0)
    s.set_endpoint("A")
    s.set_dim(1, 2.0)
    s.set_psi(0.4)
    z = s.dims.copy()
    assert s.set_model(FakeG()) is True
    np.testing.assert_array_equal(s.dims, z)
    assert s.seed == 3 and s.locked[0] and s.endpoint("A") is not None and s.psi == 1.0
    assert s.set_model(FakeG(nz=4)) is False  # another size: a fresh draw, no ends
    assert s.dims.shape == (4,) and s.endpoint("A") is None and not s.locked.any()


def test_the_walk_runs_from_a_to_b():
    s, seen = state_with()
    s.set_seed(1)
    a = s.current_z()
    s.set_endpoint("A")
    s.set_seed(2)
    b = s.current_z()
    assert not s.walk_ready()
    s.set_endpoint("B")
    for method in ("linear", "slerp"):
        s.set_method(method)
        walk = s.walk(8)
        np.testing.assert_array_equal(walk[0], a)
        np.testing.assert_array_equal(walk[-1], b)
        s.set_t(1.0)
        np.testing.assert_array_equal(s.walk_at()[0], b)
    assert ("walk", None) in seen and ("t", None) in seen
    with pytest.raises(ValueError, match="linear"):
        s.set_method("cubic")
    with pytest.raises(ValueError, match="'A' or 'B'"):
        s.set_endpoint("C")
