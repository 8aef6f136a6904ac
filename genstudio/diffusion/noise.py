"""Seeded noise for the samplers: x_T and each step's z, per sample (Qt-free).

With ``seed=`` sample i's initial noise is ``devices.sample_noise`` stream (seed, i) and its step
noise z at step index j is a counter-based normal keyed by (seed, i, j) (splitmix64 hash +
Box–Muller, vectorised in numpy): sample i is the same drawn alone or in a batch, on any device, and
a run branched from step k with the same seed retraces the original. With ``generator=`` all noise
is drawn from that one torch generator in the order diffusers draws it (x_T first, then one
``randn(shape)`` per noisy step).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genstudio.devices import _mix, sample_noise


_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # splitmix64 increment (golden ratio)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic; arrays never warn)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def counter_normal(keys: np.ndarray, counter: int, size: int) -> np.ndarray:
    """Standard normals (len(keys), size) float64: element d of row i hashes (keys[i], counter·size + d).

    A counter-based generator: any (key, counter) block is drawn directly, without drawing the ones
    before it. 32+32 hash bits feed Box–Muller (tails reach 6.7σ).
    """
    offs = (np.arange(size, dtype=np.uint64) + np.uint64(counter * size + 1)) * _GAMMA  # (size,)
    h = _splitmix64(keys.astype(np.uint64)[:, None] + offs[None, :])  # (n, size)
    # In place, and the cosine in torch (vectorised; numpy's float64 cos took half the time of a
    # DDPM step's noise, benchmarks/b5_sampling.py). Within 1 ulp of libm: float32 draws unchanged.
    u1 = (h >> np.uint64(32)).astype(np.float64)
    u1 += 0.5
    u1 *= 2.0**-32
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float64)
    u2 += 0.5
    u2 *= 2.0 * np.pi / 2.0**32
    r = np.log(u1)
    r *= -2.0
    np.sqrt(r, out=r)
    r *= torch.from_numpy(u2).cos_().numpy()
    return r


class NoiseSource:
    """The initial x_T and each step's z for a batch, from a seed (per sample) or one generator."""

    def __init__(self, shape: tuple[int, ...], device: torch.device, *, seed: int | None = None,
                 start: int = 0, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        if seed is not None and generator is not None:
            raise ValueError("give either seed (per-sample streams) or generator, not both")
        self.shape, self.device, self.seed, self.start, self.generator = shape, device, seed, start, generator
        self.dtype = dtype
        if seed is not None:  # one 63-bit key per sample for the step noise, distinct from x_T's seed
            self.keys = np.array([_mix(_mix(seed, start + i), 1) for i in range(shape[0])], dtype=np.uint64)

    def initial(self) -> torch.Tensor:
        """x_T ~ N(0, I): (N, ...) on the device."""
        if self.seed is not None:
            return sample_noise(self.shape[1:], self.shape[0], self.seed, self.start).to(self.device, self.dtype)
        return self._randn()

    def step(self, index: int) -> torch.Tensor:
        """z ~ N(0, I) for step ``index`` of the sampling schedule: (N, ...) on the device."""
        if self.seed is not None:
            z = counter_normal(self.keys, index, math.prod(self.shape[1:]))
            return torch.from_numpy(z.astype(np.float32)).reshape(self.shape).to(self.device, self.dtype)
        return self._randn()

    def _randn(self) -> torch.Tensor:
        if self.generator is None:
            return torch.randn(self.shape, device=self.device, dtype=self.dtype)
        return torch.randn(self.shape, generator=self.generator, device=self.generator.device,
                           dtype=self.dtype).to(self.device)
