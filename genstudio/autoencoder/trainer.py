"""Training the KL-regularised autoencoder of latent diffusion (Rombach et al. 2022, appendix G).

Each step: x → q(z|x) = N(μ, σ²) → a sample z → D(z) = x̂, and the loss

    L = |x − x̂|₁ (mean over pixels) + kl_weight · KL(q(z|x) ‖ N(0, I)) / (pixels per image)

LDM sums the L1 over an image's pixels and weights the summed KL by 10⁻⁶; dividing both by the pixel
count keeps their ratio and an Adam learning rate of the usual size. The perceptual (LPIPS) and patch
adversarial terms of the paper are left out: at 64 px on cartoon faces L1 alone reconstructs well
(``genstudio score`` prints the held-out PSNR), and they would double a CPU step.

Every tenth image (:func:`genstudio.superres.degrade.held_out`) is never trained on; the preview shows
held-out images as input | reconstruction pairs (``extra["psnr_held_out"]``: their mean PSNR).

``config.extra``: ``z_channels`` (4, SD's), ``kl_weight`` (1e-6), ``mults`` (``[1, 2, 2]``: f = 4, a
64 px face → 16 × 16 × 4), ``blocks`` (1 residual block per level).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from genstudio.config import ConfigError, RunConfig
from genstudio.data import Dataset
from genstudio.models import build
from genstudio.trainer import Preview, Trainer

N_PREVIEW = 16  # held-out images in the preview (input | reconstruction: an 8 × 4 grid)
DEFAULTS = {"z_channels": 4, "kl_weight": 1e-6, "mults": [1, 2, 2], "blocks": 1}
WIDTH = 32


def _int_list(value: Any) -> list[int] | None:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split()]
    try:
        out = [int(v) for v in value]
    except (TypeError, ValueError):
        return None
    return out if out and all(1 <= v <= 8 for v in out) else None


def vae_spec(config: RunConfig, channels: int, size: int) -> dict[str, Any]:
    """``{"arch": "kl_vae", "args"}`` for ``config`` (its ``extra`` checked: ConfigError, one line)."""
    extra = {**DEFAULTS, **{k: config.extra[k] for k in DEFAULTS if k in config.extra}}
    z = extra["z_channels"]
    if not isinstance(z, int) or isinstance(z, bool) or not 1 <= z <= 16:
        raise ConfigError(f"z_channels must be a whole number from 1 to 16, not {z!r}", field="extra")
    mults = _int_list(extra["mults"])
    if mults is None or len(mults) > 5:
        raise ConfigError(f"mults must be 1 to 5 whole numbers from 1 to 8 (e.g. 1,2,2), not {extra['mults']!r}",
                          field="extra")
    blocks = extra["blocks"]
    if not isinstance(blocks, int) or isinstance(blocks, bool) or not 1 <= blocks <= 4:
        raise ConfigError(f"blocks must be a whole number from 1 to 4, not {blocks!r}", field="extra")
    factor = 2 ** (len(mults) - 1)
    if size % factor:
        raise ConfigError(f"the image size {size} must be a multiple of the autoencoder's down-sampling "
                          f"factor {factor}", field="size")
    width = config.width or WIDTH
    if not 8 <= width <= 256:
        raise ConfigError(f"width must be from 8 to 256 for the autoencoder, not {width}", field="width")
    return {"arch": "kl_vae", "args": {"channels": channels, "width": width, "mults": mults,
                                       "z_channels": z, "blocks": blocks}}


def kl_weight(config: RunConfig) -> float:
    w = config.extra.get("kl_weight", DEFAULTS["kl_weight"])
    if not isinstance(w, (int, float)) or isinstance(w, bool) or not 0 <= w <= 1:
        raise ConfigError(f"kl_weight must be a number from 0 to 1, not {w!r}", field="extra")
    return float(w)


def defining(config: RunConfig) -> list[tuple[str, Any]]:
    """What defines an autoencoder run beyond kind, data and size (resuming compares these)."""
    args = vae_spec(config, 3, max(config.size, 64))["args"]
    return [("width", args["width"]), ("mults", args["mults"]), ("latent channels", args["z_channels"]),
            ("blocks", args["blocks"]), ("KL weight", kl_weight(config))]


class AutoencoderTrainer(Trainer):
    """One step of reconstruction + KL on a batch of training images."""

    kind = "autoencoder"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        from genstudio.superres.degrade import held_out

        super().__init__(config, data, device, rank=rank, world_size=world_size)
        if data.kind != "images":
            raise ConfigError("the autoencoder needs images: use faces, digits, shapes, photos or folder:PATH",
                              field="data")
        self.specs = {"vae": vae_spec(config, data.channels, data.size)}
        self.kl_weight = kl_weight(config)
        mask = held_out(len(data))
        if int((~mask).sum()) < 1:
            raise ConfigError("the data set has no images left to train on after the held-out split", field="data")
        self.train_data = self.train_data[(~mask).to(self.train_data.device)]  # held-out images never train
        self.preview_x = data.tensor[mask][:N_PREVIEW].to(device)  # (N, C, H, W)
        self.vae = build(**self.specs["vae"]).to(device)
        self.vae_run: nn.Module = self.vae
        self.opt = torch.optim.Adam(self.vae.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))

    def modules(self) -> dict[str, nn.Module]:
        return {"vae": self.vae}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.opt}

    def compile_modules(self) -> None:
        self.vae_run = torch.compile(self.vae_run)

    def wrap_distributed(self) -> None:
        from genstudio.runs.distributed import wrap

        self.vae_run = wrap(self.vae, self.device)

    def train_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.autocast():
            q = self.vae.encode(x)
            z = q.mean + (0.5 * q.logvar).exp() * self.draw_normal(x.shape[0], tuple(q.mean.shape[1:]))
            x_hat = self.vae.decode(z)  # (B, C, H, W)
        rec = (x_hat.float() - x).abs().mean()
        kl = q.kl().float().mean() / x[0].numel()  # per pixel, as the L1 is
        loss = rec + self.kl_weight * kl
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "rec": rec.detach(), "kl": kl.detach()}

    @torch.inference_mode()
    def preview(self) -> Preview:
        """input | reconstruction (from the posterior mean) for each held-out preview image, in pairs."""
        from genstudio.superres.metrics import psnr

        was = self.vae.training
        self.vae.eval()
        try:
            x_hat = self.vae.decode(self.vae.encode(self.preview_x).mean).clamp(-1, 1)
        finally:
            self.vae.train(was)
        pairs = torch.stack([self.preview_x, x_hat], 1).flatten(0, 1)  # (2N, C, H, W)
        return Preview(kind="images", data=pairs.float().cpu().numpy(),
                       extra={"psnr_held_out": float(psnr(x_hat, self.preview_x).mean())})

    def extra_meta(self) -> dict[str, Any]:
        from genstudio.superres.degrade import HELD_OUT_EVERY

        return {"kl_weight": self.kl_weight, "held_out_every": HELD_OUT_EVERY, "loss": "L1 + kl_weight·KL"}
