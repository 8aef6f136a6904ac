"""A trained GAN generator, ready to sample: what the latent explorer and ``genstudio sample`` use.

The generator runs in eval mode (batch norm uses its running statistics), so an image depends only
on its own z: sample i is the same whether drawn alone or in a batch.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError, load_module
from genstudio.devices import sample_noise
from genstudio.models import build


def checked_generator(tensors: dict[str, torch.Tensor], meta: dict[str, Any], name: str, kind: str,
                      what: str) -> tuple[nn.Module, dict[str, Any]]:
    """The generator G of a ``kind`` checkpoint (``what``: the words for that kind, in errors), built
    from its header and loaded with the averaged weights when the run kept them (RunConfig.g_ema),
    else the raw ones; and the header's network specs. CheckpointError (one line) for anything else."""
    label = name or "checkpoint"
    if meta.get("kind") != kind:
        raise CheckpointError(f"{label} holds a {meta.get('kind')} model, not {what}")
    specs = meta["models"]
    if "G" not in specs:
        raise CheckpointError(f"{label} has no generator")
    try:
        G = build(specs["G"]["arch"], specs["G"]["args"])
    except ValueError as exc:
        raise CheckpointError(f"{label}: {exc}") from None
    load_module(G, "ema/G" if any(k.startswith("ema/G/") for k in tensors) else "model/G", tensors, name)
    return G, specs


class GanModel:
    """G from a GAN checkpoint. ``generate(z)`` maps latents (B, nz) to samples."""

    kind = "gan"

    def __init__(self, G: nn.Module, meta: dict[str, Any], device: torch.device, D: nn.Module | None = None):
        self.G = G.to(device).eval()
        self.D = D.to(device).eval() if D is not None else None
        self.meta = meta
        self.device = device
        self.latent_dim: int = int(G.nz)
        self.is_points: bool = meta.get("data_kind") == "points"

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                        name: str = "") -> "GanModel":
        G, specs = checked_generator(tensors, meta, name, cls.kind, "a GAN")
        try:
            D = build(specs["D"]["arch"], specs["D"]["args"]) if "D" in specs else None
        except ValueError as exc:
            raise CheckpointError(f"{name or 'checkpoint'}: {exc}") from None
        if D is not None:
            try:
                load_module(D, "model/D", tensors, name)
            except CheckpointError:
                D = None  # a generator-only export is fine for sampling
        return cls(G, meta, device, D)

    @functools.cached_property
    def sample_shape(self) -> tuple[int, ...]:
        """What one sample is: (C, H, W) for images, (2,) for points (one look at G's output)."""
        return tuple(self.generate(self.noise(1, 0)).shape[1:])

    def noise(self, n: int, seed: int, start: int = 0) -> torch.Tensor:
        """Latents for samples ``start … start+n-1`` of ``seed``: (n, nz), same on every device."""
        return sample_noise((self.latent_dim,), n, seed, start)

    @torch.inference_mode()
    def generate(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """G(z) for z (B, nz) → (B, C, H, W) in [-1, 1] or (B, 2) points, float32 on the CPU."""
        outs = [self.G(z[i:i + batch].to(self.device, torch.float32)).float().cpu()
                for i in range(0, z.shape[0], batch)]
        return torch.cat(outs) if outs else torch.empty(0)

    def sample(self, n: int, seed: int, start: int = 0) -> torch.Tensor:
        return self.generate(self.noise(n, seed, start))

    def describe(self) -> str:
        g = self.meta["models"]["G"]
        return f"GAN ({g['arch']}, latent {self.latent_dim}) on {self.meta.get('data')}, step {self.meta.get('step')}"
