"""A sampler's recorded steps: x_t, ε̂ and x̂_0 of every step, as CPU numpy arrays (Qt-free)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch


class Frame(NamedTuple):
    """One recorded step as float32 arrays."""

    t: int
    x_t: np.ndarray  # (N, ...)
    eps: np.ndarray  # (N, ...)
    x0: np.ndarray  # (N, ...)


@dataclass
class Trajectory:
    """Every step a sampler visited: x_t, ε̂ and x̂_0, as CPU numpy arrays in sampling order.

    Stored as float16 by default (``record_dtype``): 16 images of 3×32×32 over 1,000 DDPM steps take
    3 arrays × 1000 × 16 × 3072 values × 2 bytes ≈ 295 MB (:meth:`estimate_nbytes`). float16 keeps
    about 3 significant digits — plenty to display, to plot and to branch from a step. Values are
    clamped to ±65504 (float16's range); only x̂_0 at the noisiest steps, blown up by 1/√ᾱ_t, gets
    near it. ``final`` is kept in float32.
    """

    timesteps: np.ndarray  # (K,) int64: the t of each recorded step, in sampling order
    x_t: np.ndarray  # (K, N, ...)
    eps: np.ndarray  # (K, N, ...)
    x0: np.ndarray  # (K, N, ...)
    final: np.ndarray  # (N, ...) float32: the samples
    info: dict = field(default_factory=dict)  # sampler, steps, eta, variance, seed, start_index, schedule
    # (K, N, ...) classifier-free guidance's direction ε̂_c − ε̂_∅ at each step; None when unguided
    guidance: np.ndarray | None = None

    def direction(self, k: int) -> np.ndarray | None:
        """Recorded step ``k``'s guidance direction ε̂_c − ε̂_∅ (float32 (N, ...)); None when unguided."""
        return None if self.guidance is None else self.guidance[k].astype(np.float32)

    def __len__(self) -> int:
        return int(self.timesteps.shape[0])

    def frame(self, k: int) -> Frame:
        """Recorded step ``k`` (0 = the first step sampled) as float32 arrays."""
        return Frame(int(self.timesteps[k]), self.x_t[k].astype(np.float32),
                     self.eps[k].astype(np.float32), self.x0[k].astype(np.float32))

    @property
    def nbytes(self) -> int:
        extra = self.guidance.nbytes if self.guidance is not None else 0
        return extra + sum(a.nbytes for a in (self.timesteps, self.x_t, self.eps, self.x0, self.final))

    @staticmethod
    def estimate_nbytes(steps: int, shape: tuple[int, ...], dtype: torch.dtype = torch.float16) -> int:
        """Bytes of the three (steps, *shape) arrays a recording of ``shape`` = (N, ...) needs."""
        return 3 * steps * math.prod(shape) * torch.empty((), dtype=dtype).element_size()

    def save_npz(self, path: str | os.PathLike) -> Path:
        """Write an uncompressed ``.npz`` (via a temporary file renamed into place)."""
        from genstudio.atomic import atomic_open

        path = Path(path)
        with atomic_open(path) as fh:
            more = {} if self.guidance is None else {"guidance": self.guidance}
            np.savez(fh, timesteps=self.timesteps, x_t=self.x_t, eps=self.eps, x0=self.x0,
                     final=self.final, info=np.array(json.dumps(self.info)), **more)
        return path

    @classmethod
    def load_npz(cls, path: str | os.PathLike) -> "Trajectory":
        with np.load(path, allow_pickle=False) as f:
            guidance = f["guidance"] if "guidance" in f.files else None
            return cls(f["timesteps"], f["x_t"], f["eps"], f["x0"], f["final"], json.loads(str(f["info"])),
                       guidance)

    @staticmethod
    def recorder(steps: int, shape: tuple[int, ...], dtype: torch.dtype = torch.float16, *,
                 guidance: bool = False) -> "_Recorder":
        """Buffers for ``steps`` steps; ``guidance``: a fourth array, the guidance direction."""
        return _Recorder(steps, shape, dtype, 4 if guidance else 3)


class _Recorder:
    """Preallocated CPU buffers a sampler's steps are copied into, one ``copy_`` per array a step.

    The float16 clamp to ±65504 runs once over the buffers at :meth:`finish`, not per step (the same
    numbers: a value past the range becomes ±inf on the copy, which the clamp brings back). From a
    CUDA device the buffers are pinned and the copies ``non_blocking``: a step queues its copies and
    goes on; :meth:`finish` waits for them.
    """

    def __init__(self, steps: int, shape: tuple[int, ...], dtype: torch.dtype, arrays: int = 3):
        self.k = 0
        self.timesteps = np.zeros(steps, dtype=np.int64)
        self.shape, self.dtype, self.count = (steps, *shape), dtype, arrays
        self.arrays: list[torch.Tensor] = []  # x_t, eps, x0 (and the guidance direction); made at the first add
        self.limit = torch.finfo(dtype).max
        self.async_copy = False

    def _allocate(self, source: torch.Tensor) -> None:
        self.async_copy = source.device.type == "cuda"  # pinned host memory: the copies need not wait
        self.arrays = [torch.empty(self.shape, dtype=self.dtype, pin_memory=self.async_copy)
                       for _ in range(self.count)]

    def add(self, t: int, *tensors: torch.Tensor) -> None:
        if not self.arrays:
            self._allocate(tensors[0])
        self.timesteps[self.k] = t
        for buf, x in zip(self.arrays, tensors):
            buf[self.k].copy_(x, non_blocking=self.async_copy)
        self.k += 1

    def finish(self, final: torch.Tensor, info: dict) -> Trajectory:
        if self.async_copy:
            torch.cuda.synchronize()
        if not self.arrays:
            self.arrays = [torch.empty((0, *self.shape[1:]), dtype=self.dtype) for _ in range(self.count)]
        for a in self.arrays:
            a[:self.k].clamp_(-self.limit, self.limit)  # float16: what overflowed to ±inf on the copy
        x_t, eps, x0, *guidance = (a[:self.k].numpy() for a in self.arrays)
        return Trajectory(self.timesteps[:self.k], x_t, eps, x0, final.float().cpu().numpy(), info,
                          guidance[0] if guidance else None)
