"""A trained autoencoder, ready to encode, decode and reconstruct (Qt-free).

What ``genstudio info`` / ``score`` and the app's Autoencoder tab use, and what a latent diffusion
model carries inside it (:mod:`genstudio.ldm`): the encoder maps images to the posterior mean
(deterministic, as SD's ``encode(x).latent_dist.mean``), the decoder maps latents back.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError, load_module
from genstudio.models import build


class AutoencoderModel:
    """A :class:`~genstudio.models.kl_vae.KLAutoencoder` and its header."""

    kind = "autoencoder"
    path = None  # the checkpoint file, when loaded from one (genstudio.loading.load_model sets it)

    def __init__(self, vae: nn.Module, meta: dict[str, Any], device: torch.device):
        self.vae = vae.to(device).eval().requires_grad_(False)
        self.meta = meta
        self.device = device
        self.channels: int = int(vae.channels)
        self.size: int = int(meta.get("size", 64))
        self.z_channels: int = int(vae.z_channels)
        self.factor: int = int(vae.factor)
        self.latent_shape = (self.z_channels, self.size // self.factor, self.size // self.factor)

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                        name: str = "", prefix: str = "model/vae") -> "AutoencoderModel":
        """From ``(tensors, meta)`` of an autoencoder checkpoint (or a snapshot of its run)."""
        label = name or "checkpoint"
        if meta.get("kind") != cls.kind:
            raise CheckpointError(f"{label} holds a {meta.get('kind')} model, not an autoencoder")
        spec = meta.get("models", {}).get("vae")
        if spec is None:
            raise CheckpointError(f"{label} has no autoencoder network")
        try:
            vae = build(spec["arch"], spec["args"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{label}: {exc}") from None
        load_module(vae, prefix, tensors, name)
        return cls(vae, meta, device)

    @torch.inference_mode()
    def encode(self, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Posterior means (B, z_channels, S/f, S/f) of images x (B, C, S, S) in [−1, 1], on the CPU."""
        out = [self.vae.encode(x[i:i + batch].to(self.device, torch.float32)).mean.float().cpu()
               for i in range(0, x.shape[0], batch)]
        return torch.cat(out) if out else torch.empty(0, *self.latent_shape)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Images (B, C, S, S) clipped to [−1, 1], on the CPU, from latents (B, z_channels, S/f, S/f)."""
        out = [self.vae.decode(z[i:i + batch].to(self.device, torch.float32)).clamp(-1, 1).float().cpu()
               for i in range(0, z.shape[0], batch)]
        return torch.cat(out) if out else torch.empty(0, self.channels, self.size, self.size)

    def reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstructions, latents) of images x (B, C, S, S)."""
        z = self.encode(x)
        return self.decode(z), z

    def describe(self) -> str:
        c, h, w = self.latent_shape
        return (f"KL autoencoder ({self.channels}×{self.size}×{self.size} → {c}×{h}×{w}, f = {self.factor}, "
                f"KL weight {self.meta.get('kl_weight')}) on {self.meta.get('data')}, step {self.meta.get('step')}")
