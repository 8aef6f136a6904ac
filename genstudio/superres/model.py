"""A trained ×4 generator (SRResNet or SRGAN), ready to upscale images of any size.

The network is fully convolutional and, in eval mode, batch norm is a fixed per-channel affine
map, so each output pixel depends only on the LR pixels within ``G.receptive_radius`` of it. A
large image is therefore cut into LR tiles that overlap by that radius (+1), each tile is upscaled
alone, and only each tile's centre is kept: the result equals the untiled one up to float rounding,
while memory stays bounded by the tile size (:meth:`SRModel.upscale`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError, load_module
from genstudio.models import build
from genstudio.superres.degrade import SCALE

TILE = 128  # LR pixels a side per tile: 512 × 512 px out, ≈ 0.3 GB of activations at width 64


class SRModel:
    """G from an ``srresnet`` or ``srgan`` checkpoint. ``upscale(lr)`` maps (B, C, h, w) → (B, C, 4h, 4w)."""

    kinds = ("srresnet", "srgan")
    path = None  # the checkpoint file, when loaded from one (genstudio.loading.load_model sets it)

    def __init__(self, G: nn.Module, meta: dict[str, Any], device: torch.device):
        self.G = G.to(device).eval()
        self.meta = meta
        self.kind = meta["kind"]
        self.device = device
        self.channels: int = int(G.channels)
        self.scale = SCALE

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                        name: str = "") -> "SRModel":
        if meta.get("kind") not in cls.kinds:
            raise CheckpointError(f"{name or 'checkpoint'} holds a {meta.get('kind')} model, not a "
                                  "super-resolution one")
        spec = meta["models"].get("G")
        if spec is None:
            raise CheckpointError(f"{name or 'checkpoint'} has no generator")
        try:
            G = build(spec["arch"], spec["args"])
        except ValueError as exc:
            raise CheckpointError(f"{name or 'checkpoint'}: {exc}") from None
        load_module(G, "model/G", tensors, name)
        return cls(G, meta, device)

    @property
    def content(self) -> str:
        """The content loss it was trained with, in words ("pixel MSE" for an SRResNet)."""
        c = self.meta.get("content")
        if self.kind == "srresnet" or not isinstance(c, dict):
            return "pixel MSE"
        return str(c.get("kind")) + (f" ({c['file']})" if c.get("file") else "")

    @torch.inference_mode()
    def upscale(self, lr: torch.Tensor, tile: int = TILE) -> torch.Tensor:
        """SR of ``lr`` (B, C, h, w) in [-1, 1] → (B, C, 4h, 4w) float32 on the CPU, clamped to [-1, 1].

        Images larger than ``tile`` LR px a side go through in overlapping tiles (see the module notes).
        """
        if lr.shape[1] != self.channels:
            raise ValueError(f"this model upscales {self.channels}-channel images, not {lr.shape[1]}-channel ones")
        b, c, h, w = lr.shape
        s = self.scale
        if h <= tile and w <= tile:
            return self.G(lr.to(self.device, torch.float32)).clamp(-1, 1).float().cpu()
        pad = self.G.receptive_radius + 1
        out = torch.empty(b, c, h * s, w * s)
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                ya, xa = max(0, y0 - pad), max(0, x0 - pad)  # the tile with its margins
                yb, xb = min(h, y1 + pad), min(w, x1 + pad)
                piece = self.G(lr[:, :, ya:yb, xa:xb].to(self.device, torch.float32)).float().cpu()
                oy, ox = (y0 - ya) * s, (x0 - xa) * s
                out[:, :, y0 * s:y1 * s, x0 * s:x1 * s] = piece[:, :, oy:oy + (y1 - y0) * s, ox:ox + (x1 - x0) * s]
        return out.clamp(-1, 1)

    def describe(self) -> str:
        a = self.meta["models"]["G"]["args"]
        label = "SRGAN" if self.kind == "srgan" else "SRResNet"
        return (f"{label} ×{self.scale} ({a['width']} ch × {a['blocks']} blocks, content: {self.content}) "
                f"on {self.meta.get('data')}, step {self.meta.get('step')}")


def check_sr_header(path: Any, meta: dict[str, Any]) -> None:
    """An SRResNet / SRGAN header's own entries (``Family.header``): the scale, and how it was trained
    (content loss, adversarial weight, the checkpoint it started from), so that ``genstudio info``
    and the app show only well-formed values."""
    import math

    def bad(what: str) -> CheckpointError:
        from genstudio.checkpoint import _brief

        return CheckpointError(f"{path.name} has an invalid {what} {_brief(meta.get(what.split()[0]))}")

    if meta.get("scale", SCALE) != SCALE or isinstance(meta.get("scale"), bool):
        raise bad("scale")
    w = meta.get("adv_weight", 0.0)
    if not isinstance(w, (int, float)) or isinstance(w, bool) or not math.isfinite(w) or not 0 <= w <= 1e3:
        raise bad("adv_weight")
    if meta.get("adv_loss", "bce") not in ("bce", "ragan"):
        raise bad("adv_loss")
    w = meta.get("l1_weight", 0.0)
    if not isinstance(w, (int, float)) or isinstance(w, bool) or not math.isfinite(w) or not 0 <= w <= 1e3:
        raise bad("l1_weight")
    w = meta.get("d_warmup", 0)
    if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 10**6:
        raise bad("d_warmup")
    content = meta.get("content", {"kind": "mse"})
    if (not isinstance(content, dict) or content.get("kind") not in ("mse", "random", "ae", "disc", "vgg19")
            or not isinstance(content.get("file", ""), str) or len(content.get("file", "")) > 300):
        raise bad("content")
    init = meta.get("init", {})
    if (not isinstance(init, dict) or not all(isinstance(init.get(k, ""), str) and len(init.get(k, "")) <= 300
                                              for k in ("file", "kind", "data"))
            or not isinstance(init.get("step", 0), int) or isinstance(init.get("step", 0), bool)):
        raise bad("init")
