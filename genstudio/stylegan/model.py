"""A trained style-based generator, ready to sample and to take apart: what ``genstudio sample``, the
Latent view and the mixing measurement use.

``generate(z)`` is G(z) with ψ = 1 and the model's fixed per-layer noise (:attr:`StyleGanModel.noise_maps`,
one seeded image per layer), so an image depends only on its z — as the latent explorer needs. The
style tools work on ``ws`` (B, num_ws, w_dim), one w per layer:

* :meth:`ws_of` — z → w (the mapping), truncated towards the stored mean w by ψ (in W, not Z);
* :meth:`mix` — style mixing: the layers ``layers`` of destination rows take the source rows' ws;
* :meth:`synthesize` — g(ws) with a noise list and, on request, every layer's feature maps.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from genstudio.devices import sample_noise
from genstudio.gan.model import checked_generator

__all__ = ["StyleGanModel", "CROSSOVERS", "crossover_layers", "layer_noise"]

#: The StyleGAN paper's three bands of styles, by resolution (Karras et al. 2019, Fig. 3): coarse
#: 4²–8² (pose, head shape, hair style), middle 16²–32², fine 64² and up (colour scheme, micro-detail).
CROSSOVERS = ("coarse", "middle", "fine")


def crossover_layers(resolutions: list[int], band: str) -> list[int]:
    """The style indices (ws rows) of ``band``: its conv layers and the toRGB each resolution ends with.

    ``resolutions`` is the generator's per-conv-layer resolution; toRGB of a resolution reads the
    index after its last conv, so the ws rows are 0 … num_ws − 1 with row L (= num layers) the last toRGB.
    """
    bounds = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 10**6)}
    if band not in bounds:
        raise ValueError(f"crossover must be one of {', '.join(CROSSOVERS)}, not {band!r}")
    lo, hi = bounds[band]
    res_of = list(resolutions) + [resolutions[-1]]  # ws row i feeds conv i; the last row the last toRGB
    if resolutions[-1] < 64 and band == "fine":
        lo = resolutions[-1]  # a 32-px model: its last resolution is the fine one
    if resolutions[-1] < 64 and band == "middle":
        hi = resolutions[-1] // 2
    return [i for i, r in enumerate(res_of) if lo <= r <= hi]


def layer_noise(resolutions: list[int], seed: int) -> list[torch.Tensor]:
    """One (1, 1, H, W) standard-normal noise image per conv layer, fixed by ``seed``."""
    return [sample_noise((1, r, r), 1, seed, start=i) for i, r in enumerate(resolutions)]


class StyleGanModel:
    """G of a stylegan checkpoint. ``generate(z)`` maps latents (B, nz) to images (B, C, H, W)."""

    kind = "stylegan"
    is_points = False

    def __init__(self, G: nn.Module, meta: dict[str, Any], device: torch.device):
        self.G = G.to(device).eval().float()
        self.meta, self.device = meta, device
        self.latent_dim: int = int(G.nz)
        self.w_dim: int = int(G.w_dim)
        self.num_ws: int = int(G.num_ws)
        self.resolutions: list[int] = list(G.resolutions)
        self.noise_maps = layer_noise(self.resolutions, 0)  # the default, "frozen" noise of every layer

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                        name: str = "") -> "StyleGanModel":
        G, _ = checked_generator(tensors, meta, name, cls.kind, "a style-based GAN")
        return cls(G, meta, device)

    @functools.cached_property
    def sample_shape(self) -> tuple[int, ...]:
        return (int(self.G.nc), int(self.G.size), int(self.G.size))

    @property
    def w_avg(self) -> torch.Tensor:
        """The mean w (w_dim,) over 10,000 draws, stored in the checkpoint."""
        return self.G.w_avg.detach().float().cpu()

    def noise(self, n: int, seed: int, start: int = 0) -> torch.Tensor:
        """Latents z for samples ``start … start+n-1`` of ``seed``: (n, nz), the same on every device."""
        return sample_noise((self.latent_dim,), n, seed, start)

    # ------------------------------------------------------------------ the style tools
    @torch.inference_mode()
    def ws_of(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """f(z) broadcast to every layer and truncated: (B, nz) → (B, num_ws, w_dim) on the CPU."""
        w = self.G.map(torch.as_tensor(z, dtype=torch.float32).to(self.device))
        return self.G.truncate(self.G.broadcast(w), float(psi)).float().cpu()

    def truncate_ws(self, ws: torch.Tensor, psi: float) -> torch.Tensor:
        """w_avg + ψ (ws − w_avg) (B, num_ws, w_dim)."""
        return torch.lerp(self.w_avg, torch.as_tensor(ws, dtype=torch.float32), float(psi))

    def mix(self, dest: torch.Tensor, source: torch.Tensor, layers: list[int]) -> torch.Tensor:
        """Style mixing: ``dest`` ws (B, L, w) with rows ``layers`` taken from ``source`` (B or 1, L, w)."""
        out = torch.as_tensor(dest, dtype=torch.float32).clone()
        out[:, layers] = torch.as_tensor(source, dtype=torch.float32).expand_as(out)[:, layers]
        return out

    @torch.inference_mode()
    def synthesize(self, ws: torch.Tensor, noise: list | str | None = None, *, features: bool = False,
                   batch: int = 256) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """g(ws): (B, num_ws, w_dim) → images (B, C, H, W) float32 on the CPU (unclamped).

        ``noise`` None is the model's fixed noise (:attr:`noise_maps`); else "random", "none" or a list
        of per-layer tensors / None. With ``features`` (one batch only) also each layer's feature maps.
        """
        noise = self.noise_maps if noise is None else noise
        ws = torch.as_tensor(ws, dtype=torch.float32)
        if features:
            img, feats = self.G.synthesis(ws.to(self.device), noise, features=True)
            return img.float().cpu(), [f.float().cpu() for f in feats]
        outs = [self.G.synthesis(ws[i:i + batch].to(self.device), noise).float().cpu()
                for i in range(0, ws.shape[0], batch)]
        return torch.cat(outs) if outs else torch.empty(0)

    def generate(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """G(z) with ψ = 1 and the fixed noise: (B, nz) → (B, C, H, W) in [-1, 1], float32 on the CPU."""
        z = torch.as_tensor(z, dtype=torch.float32)
        outs = [self.synthesize(self.ws_of(z[i:i + batch])).clamp(-1, 1) for i in range(0, z.shape[0], batch)]
        return torch.cat(outs) if outs else torch.empty(0)

    def sample(self, n: int, seed: int, start: int = 0) -> torch.Tensor:
        return self.generate(self.noise(n, seed, start))

    def describe(self) -> str:
        return (f"style-based GAN (width {self.G.width}, z {self.latent_dim}, w {self.w_dim}, {self.num_ws} styles, "
                f"toRGB skips from {self.G.skips_from}²) "
                f"on {self.meta.get('data')}, step {self.meta.get('step')}")
