"""Device choice and reproducible randomness.

``auto`` picks CUDA, then Apple MPS, then the CPU. Random numbers for *samples* come from
per-sample CPU generators seeded from (seed, index), so sample i is the same whatever the batch
size and whatever the device.
"""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    """Device names usable on this machine, best first (always ends with "cpu")."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    names.append("cpu")
    return names


def resolve_device(name: str = "auto") -> torch.device:
    """Turn "auto" | "cpu" | "cuda" | "mps" into a ``torch.device``; error if absent."""
    if name == "auto":
        return torch.device(available_devices()[0])
    if name not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or mps")
    if name not in available_devices():
        raise ValueError(f"device {name!r} is not available on this machine "
                         f"(available: {', '.join(available_devices())})")
    return torch.device(name)


def sample_noise(shape_per_sample: tuple[int, ...], n: int, seed: int, start: int = 0,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard normal noise, one independent stream per sample index.

    Sample ``start + i`` always gets the same values for a given ``seed``, so drawing 1 or 100
    samples gives the same first sample. Drawn on the CPU so every device agrees.

    Returns a tensor of shape ``(n, *shape_per_sample)``.
    """
    out = torch.empty((n, *shape_per_sample))
    g = torch.Generator()
    for i in range(n):
        g.manual_seed(_mix(seed, start + i))
        out[i] = torch.randn(shape_per_sample, generator=g)
    return out.to(device)


def _mix(seed: int, index: int) -> int:
    """A 63-bit seed for (seed, index) pairs that do not collide for nearby values."""
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(index) * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB)
    x &= (1 << 64) - 1
    x ^= x >> 31
    x = (x * 0xD6E8FEB86659FD93) & ((1 << 64) - 1)
    x ^= x >> 32
    return x & ((1 << 63) - 1)
