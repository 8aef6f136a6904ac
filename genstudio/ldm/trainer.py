"""Training latent diffusion: the text-to-image DDPM on an autoencoder's scaled latents (Qt-free).

Rombach et al. (2022): train the autoencoder first (the ``autoencoder`` family), then the diffusion
model on z = scale · E(x) instead of x. Here the run

1. loads the autoencoder named by ``config.extra["autoencoder"]`` (``--autoencoder FILE``) through
   the safe loader and checks it was made for images of the run's size and channels;
2. captions the data set (held-out phrases removed, as text2image does) and encodes every image once to
   its posterior mean (deterministic: LDM samples q(z|x) instead, but with a KL weight of 10⁻⁶ its
   σ is tiny);
3. computes the scale factor 1 / std(z) from these latents (SD's 0.18215) and fits the linear
   latent → RGB preview map (:mod:`genstudio.ldm.latents`);
4. trains :class:`~genstudio.text2image.trainer.Text2ImageTrainer`'s conditional U-Net on the scaled
   latents, unchanged: the same captions, null-caption dropout, EMA and schedule.

The checkpoint carries the autoencoder's weights (``autoencoder/vae/…``) and header
(``meta["autoencoder"]``) and the latent facts (``meta["latent"]``: ``scale_factor``, ``rgb_map``,
the image size and channels), so a file samples pictures by itself. Previews are decoded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from genstudio.checkpoint import CheckpointError, load_checkpoint, module_tensors
from genstudio.config import ConfigError, RunConfig
from genstudio.data import Dataset
from genstudio.ldm.latents import fit_rgb_map, scale_factor
from genstudio.text2image.trainer import Text2ImageTrainer, _hold_out
from genstudio.trainer import Preview

RGB_FIT_IMAGES = 2000  # images the latent → RGB preview map is fitted on


def load_autoencoder(path: Any, device: torch.device):
    """The :class:`~genstudio.autoencoder.model.AutoencoderModel` in ``path`` and its header (ConfigError, one line)."""
    from genstudio.autoencoder.model import AutoencoderModel

    if not path:
        raise ConfigError("latent diffusion needs a trained autoencoder: give --autoencoder FILE "
                          "(made by genstudio train autoencoder)", field="extra")
    p = Path(str(path)).expanduser()
    try:
        tensors, meta = load_checkpoint(p)
        if meta.get("kind") != "autoencoder":
            raise CheckpointError(f"{p.name} holds a {meta.get('kind')} model, not an autoencoder")
        return AutoencoderModel.from_checkpoint(tensors, meta, device, p.name)
    except (CheckpointError, OSError) as exc:
        raise ConfigError(f"--autoencoder: {exc}", field="extra") from None


class LatentDiffusionTrainer(Text2ImageTrainer):
    """Text-to-image DDPM steps on scaled autoencoder latents; previews decoded to pictures."""

    kind = "ldm"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        from genstudio.data.captions import captioned

        self.ae = load_autoencoder(config.extra.get("autoencoder"), device)
        if data.kind != "images" or (data.size, data.channels) != (self.ae.size, self.ae.channels):
            raise ConfigError(f"the autoencoder was trained on {self.ae.channels}-channel {self.ae.size} px images; "
                              f"train the latent diffusion model at --size {self.ae.size}", field="size")
        data = captioned(data, _hold_out(config))
        z = self.ae.encode(data.tensor)  # (N, c, h, w) posterior means, unscaled
        self.scale_factor = scale_factor(z)
        self.rgb_map = fit_rgb_map(z[:RGB_FIT_IMAGES], data.tensor[:RGB_FIT_IMAGES])
        self.image_size, self.image_channels = data.size, data.channels
        latent = Dataset(data.name, "images", (z * self.scale_factor).contiguous(), data.labels, data.info)
        super().__init__(config, latent, device, rank=rank, world_size=world_size)

    def network_specs(self, config: RunConfig, data: Dataset) -> dict[str, dict[str, Any]]:
        specs = super().network_specs(config, data)  # text2image's conditional U-Net, on c × h × w latents
        return {"eps": {**specs["eps"], "arch": "ldm_unet"}}

    def decode(self, z_scaled: torch.Tensor) -> torch.Tensor:
        """Pictures (N, C, H, W) in [−1, 1] of scaled latents."""
        return self.ae.decode(z_scaled / self.scale_factor)

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        return {**super().extra_tensors(), **module_tensors("autoencoder/vae", self.ae.vae)}

    def extra_meta(self) -> dict[str, Any]:
        ae = self.ae.meta
        path = Path(str(self.config.extra.get("autoencoder")))
        return {**super().extra_meta(),
                "latent": {"scale_factor": self.scale_factor, "rgb_map": self.rgb_map,
                           "image_size": self.image_size, "image_channels": self.image_channels},
                "autoencoder": {**ae["models"]["vae"], "file": path.name, "step": ae.get("step"),
                                "data": ae.get("data"), "kl_weight": ae.get("kl_weight")}}

    def preview(self) -> Preview:
        """The text2image preview (rows of fixed prompts, guidance 3), decoded through the autoencoder."""
        p = super().preview()
        images = self.decode(torch.from_numpy(p.data))
        return Preview(kind="images", data=images.numpy(), extra=p.extra)
