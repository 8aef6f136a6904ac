"""A trained latent diffusion model: a text-to-image ε-network over latents, and its autoencoder (Qt-free).

Every sampler runs in latent space as for any diffusion model (``sample_shape`` is the latent's,
e.g. 4 × 16 × 16), so the scrubber, guidance, prompt walks and ``genstudio.sampling`` need nothing
new. What makes pictures is the decoder the checkpoint carries:

* :meth:`LatentDiffusionModel.decode_latents` — the exact decode, D(z / scale_factor);
* :meth:`LatentDiffusionModel.latent_preview` — the fast approximate one, a linear latent → RGB map
  fitted to the autoencoder (AUTOMATIC1111's live preview), at latent resolution.

``genstudio sample`` and ``score`` decode with :func:`pictures` (identity for a model in pixel space).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genstudio.checkpoint import CheckpointError, _arg_problem, _brief, load_module
from genstudio.ldm.latents import apply_rgb_map
from genstudio.models import build
from genstudio.text2image.model import Text2ImageModel, check_text_header

__all__ = ["LatentDiffusionModel", "pictures", "check_ldm_header"]


def pictures(model: Any, x: Any) -> Any:
    """What a user sees of samples ``x``: decoded pictures for a model in a latent space, else ``x`` itself
    (a numpy array stays a numpy array, a tensor a tensor)."""
    decode = getattr(model, "decode_latents", None)
    if decode is None:
        return x
    out = decode(torch.as_tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x)
    return out.numpy() if isinstance(x, np.ndarray) else out


class LatentDiffusionModel(Text2ImageModel):
    """Samples scaled latents (``sample_shape``); ``decode_latents`` turns them into pictures."""

    kind = "ldm"

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                        name: str = "") -> "LatentDiffusionModel":
        from genstudio.autoencoder.model import AutoencoderModel

        model = super().from_checkpoint(tensors, meta, device, name)
        spec, latent = meta.get("autoencoder"), meta.get("latent")
        if not isinstance(spec, dict) or not isinstance(latent, dict):
            raise CheckpointError(f"{name or 'checkpoint'} has no autoencoder or no latent header")
        try:
            vae = build(spec["arch"], spec["args"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{name or 'checkpoint'}: its autoencoder: {exc}") from None
        load_module(vae, "autoencoder/vae", tensors, name)
        ae_meta = {"kind": "autoencoder", "size": latent["image_size"], "data": spec.get("data"),
                   "step": spec.get("step"), "kl_weight": spec.get("kl_weight"), "models": {"vae": spec}}
        model.autoencoder = AutoencoderModel(vae, ae_meta, device)
        return model

    @property
    def scale_factor(self) -> float:
        """What the autoencoder's latents were multiplied by to have unit variance (SD's 0.18215)."""
        return float(self.meta["latent"]["scale_factor"])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of a decoded picture."""
        lat = self.meta["latent"]
        return (int(lat["image_channels"]), int(lat["image_size"]), int(lat["image_size"]))

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W) of a decoded picture (the latent hook's optional size, docs/architecture.md)."""
        return self.image_shape[1:]

    def decode_latents(self, z: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Pictures (N, C, H, W) in [−1, 1], float32 on the CPU, of scaled latents ``z`` (N, c, h, w), any device."""
        return self.autoencoder.decode(torch.as_tensor(z).float() / self.scale_factor)

    def latent_preview(self, z: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Approximate pictures (N, C, h, w) in [−1, 1] at the latents' resolution, by the fitted linear
        latent → RGB map: no decoder run (cheap enough for every frame of a filmstrip)."""
        z = torch.as_tensor(z).detach().float().cpu()
        return apply_rgb_map(z / self.scale_factor, self.meta["latent"]["rgb_map"])

    def describe(self) -> str:
        c, h, w = self.sample_shape
        ci, hi, wi = self.image_shape
        sched = self.meta["schedule"]
        return (f"latent diffusion (cond_unet on {c}×{h}×{w} latents of a {ci}×{hi}×{wi} KL autoencoder, "
                f"scale {self.scale_factor:.4g}, {len(self.tokenizer) - 2} words, {sched['kind']} schedule, "
                f"T={sched['num_steps']}) on {self.meta.get('data')}, step {self.meta.get('step')}")


def check_ldm_header(path: Path, meta: dict[str, Any]) -> None:
    """An ldm header's own entries: text2image's, an autoencoder spec, and latent facts that fit the network."""
    check_text_header(path, meta)
    spec, latent = meta.get("autoencoder"), meta.get("latent")
    if not isinstance(spec, dict) or not isinstance(spec.get("args"), dict) or spec.get("arch") != "kl_vae":
        raise CheckpointError(f"{path.name} has no usable autoencoder header (a kl_vae's arch and args)")
    for name, value in spec["args"].items():  # bounded numbers, as every network's arguments
        problem = _arg_problem(name, value)
        if problem:
            raise CheckpointError(f"{path.name}: autoencoder argument {_brief(name)} = {_brief(value)} {problem}")
    if not isinstance(latent, dict):
        raise CheckpointError(f"{path.name} has no latent header (scale factor, image size)")
    s = latent.get("scale_factor")
    if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s) or s <= 0:
        raise CheckpointError(f"{path.name}: the latent scale factor must be a positive number, not {s!r}")
    z = spec["args"].get("z_channels")
    if z != meta.get("channels"):
        raise CheckpointError(f"{path.name}: the autoencoder makes {z}-channel latents but the network takes "
                              f"{meta.get('channels')}")
    rgb = latent.get("rgb_map")
    if not (isinstance(rgb, list) and all(isinstance(r, list) and len(r) == (z or 0) + 1 for r in rgb)):
        raise CheckpointError(f"{path.name}: the latent → RGB map must be rows of {(z or 0) + 1} numbers")
    if not isinstance(latent.get("image_size"), int) or not isinstance(latent.get("image_channels"), int):
        raise CheckpointError(f"{path.name}: the latent header needs whole-number image_size and image_channels")
