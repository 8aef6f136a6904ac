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
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # splitmix64's multipliers
_EXP = np.uint64(0x4330000000000000)  # the bits of 2**52: OR-ing k < 2**32 into them gives the double 2**52 + k
_LOW = np.uint64(0xFFFFFFFF)
_UNBIAS = 2.0**52 - 0.5  # (2**52 + k) − (2**52 − ½) = k + ½, exactly


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic; arrays never warn)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def counter_normal(keys: np.ndarray, counter: int, size: int) -> np.ndarray:
    """Standard normals (len(keys), size) float64: element d of row i hashes (keys[i], counter·size + d).

    A counter-based generator: any (key, counter) block is drawn directly, without drawing the ones
    before it. 32+32 hash bits feed Box–Muller (tails reach 6.7σ): u₁ = (hi + ½)/2³², u₂ = (lo + ½)/2³²,
    z = √(−2 ln u₁)·cos(2π u₂).

    Written for speed in two arrays, in place (issue 24; the numbers are bit for bit the plain
    formula's, ``tests/core/test_fast_sampling.py``): the hash without temporaries, each 32-bit half
    made a float64 by OR-ing it into the bits of 2⁵² (numpy's uint64 → float64 cast is slow), the
    cosine in torch (numpy's float64 cos took half the time of a DDPM step's noise). Torch's cosine
    is within 1 ulp of libm, so float32 draws are unchanged.
    """
    offs = (np.arange(size, dtype=np.uint64) + np.uint64(counter * size + 1)) * _GAMMA  # (size,)
    x = keys.astype(np.uint64)[:, None] + offs[None, :]  # (n, size): splitmix64, in place
    t = x >> np.uint64(30)
    x ^= t
    x *= _M1
    np.right_shift(x, np.uint64(27), out=t)
    x ^= t
    x *= _M2
    np.right_shift(x, np.uint64(31), out=t)
    x ^= t
    np.right_shift(x, np.uint64(32), out=t)  # the high half → u₁ in (0, 1)
    t |= _EXP
    u1 = t.view(np.float64)
    u1 -= _UNBIAS
    u1 *= 2.0**-32
    x &= _LOW  # the low half → the angle 2π u₂
    x |= _EXP
    u2 = x.view(np.float64)
    u2 -= _UNBIAS
    u2 *= 2.0 * np.pi / 2.0**32
    r = np.log(u1, out=u1)
    r *= -2.0
    np.sqrt(r, out=r)
    r *= torch.from_numpy(u2).cos_().numpy()
    return r


def _as_signed(value: np.uint64) -> int:
    """A uint64 constant as the int64 with the same bits (torch has no uint64 arithmetic)."""
    return int(np.array(value, dtype=np.uint64).view(np.int64))


def counter_normal_torch(keys: torch.Tensor, counter: int, size: int) -> torch.Tensor:
    """:func:`counter_normal` in torch, on the device of ``keys`` (int64 (n,), the uint64 keys' bits).

    For a GPU: the step noise drawn where the network runs, no host work or copy per step. int64
    arithmetic wraps as uint64's does; right shifts are made logical by a mask. The hash is
    :func:`counter_normal`'s bit for bit; torch's log (and CUDA's log and cos) are within an ulp of
    numpy's, which the float32 draws the samplers take almost never show (tested on the CPU, where
    numpy is the faster and draws them).
    """
    def shr(x: torch.Tensor, k: int) -> torch.Tensor:  # logical shift
        return (x >> k) & ((1 << (64 - k)) - 1)

    offs = torch.arange(size, dtype=torch.int64, device=keys.device)
    offs = (offs + (counter * size + 1)) * _as_signed(_GAMMA)  # (size,)
    x = keys[:, None] + offs[None, :]  # (n, size)
    x = (x ^ shr(x, 30)) * _as_signed(_M1)
    x = (x ^ shr(x, 27)) * _as_signed(_M2)
    x = x ^ shr(x, 31)
    exp = _as_signed(_EXP)
    u1 = (shr(x, 32) | exp).view(torch.float64)
    u1 -= _UNBIAS
    u1 *= 2.0**-32
    u2 = ((x & 0xFFFFFFFF) | exp).view(torch.float64)
    u2 -= _UNBIAS
    u2 *= 2.0 * np.pi / 2.0**32
    r = u1.log_().mul_(-2.0).sqrt_()
    return r.mul_(u2.cos_())


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
            # on a GPU the step noise is drawn there (counter_normal_torch): no host work, no copy, no sync
            self.device_keys = (torch.from_numpy(self.keys.view(np.int64)).to(device)
                                if torch.device(device).type == "cuda" else None)

    def initial(self) -> torch.Tensor:
        """x_T ~ N(0, I): (N, ...) on the device."""
        if self.seed is not None:
            return sample_noise(self.shape[1:], self.shape[0], self.seed, self.start).to(self.device, self.dtype)
        return self._randn()

    def step(self, index: int) -> torch.Tensor:
        """z ~ N(0, I) for step ``index`` of the sampling schedule: (N, ...) on the device."""
        if self.seed is not None and self.device_keys is not None:
            z = counter_normal_torch(self.device_keys, index, math.prod(self.shape[1:]))
            return z.to(torch.float32).to(self.dtype).reshape(self.shape)
        if self.seed is not None:
            z = counter_normal(self.keys, index, math.prod(self.shape[1:]))
            return torch.from_numpy(z.astype(np.float32)).reshape(self.shape).to(self.device, self.dtype)
        return self._randn()

    def _randn(self) -> torch.Tensor:
        if self.generator is None:
            return torch.randn(self.shape, device=self.device, dtype=self.dtype)
        return torch.randn(self.shape, generator=self.generator, device=self.generator.device,
                           dtype=self.dtype).to(self.device)
