"""The two training stages of Ledig et al. (2017), as two model families:

* ``srresnet`` — the generator alone on the pixel-wise MSE between SR = G(LR) and HR (§3.2: their
  SRResNet, 10⁶ updates at lr 10⁻⁴);
* ``srgan`` — the same generator, started from a trained SRResNet (``init``: "to avoid undesired
  local optima"), fine-tuned on the perceptual loss l^SR = l^SR_X + 10⁻³ · l^SR_Gen (eq. 3): a
  content loss in a feature space (:mod:`genstudio.superres.content`) plus the adversarial loss
  −log D(G(LR)) of the GAN family (:mod:`genstudio.gan.losses`), with D trained on BCE as there.

LR inputs are made on the fly from the HR batch (:func:`~genstudio.superres.degrade.downsample`);
every tenth image is held out and never trained on. Settings beyond ``RunConfig`` live in
``config.extra``: ``blocks`` (B, default 6), ``bicubic_skip`` (default true: see
:mod:`genstudio.models.srresnet`), and for SRGAN ``content`` (default ``random``),
``adv_weight`` (default 10⁻³), ``init`` (an SRResNet checkpoint), ``ae_steps`` (300), ``d_width``
(D's base width, default half G's), ``d_lr`` (D's learning rate, default G's), and three options from
ESRGAN (Wang et al. 2018) that the paper does not have: ``adv_loss`` (``bce``, the paper's, default; or
``ragan``, the relativistic average loss), ``d_arch`` (``vgg``, the paper's strided D, default; or
``patch``, a PatchGAN that gives one logit per 34 px patch) and ``l1_weight`` (a pixel L1 term added
to the content loss, ESRGAN's η = 10⁻²; default 0). ``d_warmup`` (default 0) trains D alone for that
many first steps, G held fixed, so that G's first adversarial gradients come from a D that has
already learnt what the SRResNet's output looks like, rather than from one at chance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.checkpoint import CheckpointError, load_checkpoint, load_module, module_tensors
from genstudio.config import ConfigError, RunConfig
from genstudio.data import Dataset
from genstudio.gan.losses import (discriminator_loss, generator_loss, relativistic_discriminator_loss,
                                  relativistic_generator_loss)
from genstudio.models import build
from genstudio.superres import content as contents
from genstudio.superres.degrade import HELD_OUT_EVERY, SCALE, bicubic_up, downsample, held_out
from genstudio.trainer import Preview, Trainer

DEFAULT_WIDTH = 32
DEFAULT_BLOCKS = 6
DEFAULT_ADV_WEIGHT = 1e-3  # the paper's weight of the adversarial loss
DEFAULT_CONTENT = "random"
ADV_LOSSES = ("bce", "ragan")  # the paper's BCE; ESRGAN's relativistic average GAN
D_ARCHS = {"vgg": "sr_d", "patch": "sr_patch_d"}  # the paper's strided D; a PatchGAN
N_PREVIEW = 12  # held-out images; the preview shows bicubic | SR | HR for each (a 6 × 6 grid)


def generator_spec(config: RunConfig, channels: int) -> dict[str, Any]:
    blocks = config.extra.get("blocks", DEFAULT_BLOCKS)
    if not isinstance(blocks, int) or isinstance(blocks, bool) or not 1 <= blocks <= 64:
        raise ConfigError(f"blocks (residual blocks B) must be a whole number from 1 to 64, not {blocks!r}",
                          field="extra")
    width = config.width or DEFAULT_WIDTH
    if width > 256:
        raise ConfigError(f"width must be at most 256 for SRResNet, not {width}", field="width")
    skip = config.extra.get("bicubic_skip", True)
    if not isinstance(skip, bool):
        raise ConfigError(f"bicubic_skip must be true or false, not {skip!r}", field="extra")
    return {"arch": "srresnet", "args": {"channels": channels, "width": width, "blocks": blocks,
                                         "bicubic_skip": skip}}


class SRResNetTrainer(Trainer):
    """Stage one: G on the pixel-wise MSE (the paper's SRResNet)."""

    kind = "srresnet"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        super().__init__(config, data, device, rank=rank, world_size=world_size)
        if data.kind != "images":
            raise ConfigError("super-resolution needs images: use faces, digits, shapes, photos or folder:PATH",
                              field="data")
        if data.size % SCALE or data.size < 4 * SCALE:
            raise ConfigError(f"super-resolution ×{SCALE} needs an HR size of 16, 32 or 64 px, not {data.size}",
                              field="size")
        mask = held_out(len(data))
        if int((~mask).sum()) < 1:
            raise ConfigError("the data set has no images left to train on after the held-out split", field="data")
        self.train_data = self.train_data[(~mask).to(self.train_data.device)]  # held-out images never train
        preview_hr = data.tensor[mask][:N_PREVIEW]
        self.preview_hr = preview_hr.to(device)  # (N, C, H, W)
        self.specs = {"G": self.init_generator_spec(config, data.channels)}
        self.G = build(**self.specs["G"]).to(device)
        self.G_run = self.G
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
        self.after_build()

    # -- hooks for SRGAN ----------------------------------------------------------------------
    def init_generator_spec(self, config: RunConfig, channels: int) -> dict[str, Any]:
        return generator_spec(config, channels)

    def after_build(self) -> None:
        pass

    # -- Trainer interface ----------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"G": self.opt_G}

    def compile_modules(self) -> None:
        self.G_run = torch.compile(self.G_run)

    def wrap_distributed(self) -> None:
        from genstudio.runs.distributed import wrap

        self.G_run = wrap(self.G, self.device)

    def pixel_loss(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        """l^SR_MSE (eq. 4): the mean squared pixel difference."""
        return F.mse_loss(sr.float(), hr.float())

    def train_step(self, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        lr = downsample(hr)  # (B, C, H/4, W/4)
        with self.autocast():
            sr = self.G_run(lr)  # (B, C, H, W)
        loss = self.pixel_loss(sr, hr)
        self.opt_G.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_G.step()
        return {"loss_G": loss.detach()}

    @torch.inference_mode()
    def preview(self) -> Preview:
        """bicubic | SR | HR for each held-out preview image: (3N, C, H, W) in [-1, 1]."""
        was = self.G.training
        self.G.eval()
        try:
            lr = downsample(self.preview_hr)
            sr = self.G(lr).clamp(-1, 1)
        finally:
            self.G.train(was)
        triples = torch.stack([bicubic_up(lr), sr, self.preview_hr], 1)  # (N, 3, C, H, W)
        return Preview(kind="images", data=triples.flatten(0, 1).float().cpu().numpy())

    def extra_meta(self) -> dict[str, Any]:
        return {"scale": SCALE, "held_out_every": HELD_OUT_EVERY}


class SRGANTrainer(SRResNetTrainer):
    """Stage two: G on content + adv_weight × adversarial loss, D on BCE (the paper's SRGAN)."""

    kind = "srgan"

    def init_generator_spec(self, config: RunConfig, channels: int) -> dict[str, Any]:
        self.init_tensors: dict[str, torch.Tensor] | None = None
        self.init_note: dict[str, Any] = {}
        init = config.extra.get("init")
        if not init:
            return {**generator_spec(config, channels), "arch": "srgan_g"}
        path = Path(str(init)).expanduser()
        try:
            tensors, meta = load_checkpoint(path)
        except CheckpointError as exc:
            raise ConfigError(f"init: {exc}", field="extra") from None
        if meta["kind"] not in ("srresnet", "srgan") or "G" not in meta["models"]:
            raise ConfigError(f"init: {path.name} holds a {meta['kind']} model, not an SRResNet", field="extra")
        spec = meta["models"]["G"]
        if spec["args"].get("channels") != channels:
            raise ConfigError(f"init: {path.name} works on {spec['args'].get('channels')}-channel images, "
                              f"the data has {channels}", field="extra")
        spec = {"arch": "srgan_g", "args": dict(spec["args"])}  # the same network, SRGAN's name for it
        self.init_tensors = tensors
        self.init_note = {"file": path.name, "kind": meta["kind"], "step": meta.get("step", 0),
                          "data": meta.get("data", "")}
        return spec

    def after_build(self) -> None:
        cfg = self.config
        if self.init_tensors is not None:
            load_module(self.G, "model/G", self.init_tensors, self.init_note["file"])
            self.init_tensors = None
        self.adv_weight = cfg.extra.get("adv_weight", DEFAULT_ADV_WEIGHT)
        if not isinstance(self.adv_weight, (int, float)) or not 0 <= self.adv_weight <= 1e3:
            raise ConfigError(f"adv_weight must be a number from 0 to 1000, not {self.adv_weight!r}", field="extra")
        self.content_kind = contents.check_kind(str(cfg.extra.get("content", DEFAULT_CONTENT)))
        c = self.data.channels
        # D's base width: half G's by default (16 for the default G): the paper's D has 64 channels to G's 64,
        # but D runs three times a step, and at 16–64 px a CPU-sized run cannot pay for that
        d_width = cfg.extra.get("d_width", max(8, self.specs["G"]["args"]["width"] // 2))
        if not isinstance(d_width, int) or isinstance(d_width, bool) or not 1 <= d_width <= 256:
            raise ConfigError(f"d_width must be a whole number from 1 to 256, not {d_width!r}", field="extra")
        self.adv_loss = cfg.extra.get("adv_loss", "bce")
        if self.adv_loss not in ADV_LOSSES:
            raise ConfigError(f"adv_loss must be bce or ragan, not {self.adv_loss!r}", field="extra")
        d_arch = cfg.extra.get("d_arch", "vgg")
        if d_arch not in D_ARCHS:
            raise ConfigError(f"d_arch must be vgg or patch, not {d_arch!r}", field="extra")
        self.l1_weight = cfg.extra.get("l1_weight", 0.0)
        if (not isinstance(self.l1_weight, (int, float)) or isinstance(self.l1_weight, bool)
                or not 0 <= self.l1_weight <= 1e3):
            raise ConfigError(f"l1_weight must be a number from 0 to 1000, not {self.l1_weight!r}", field="extra")
        self.d_warmup = cfg.extra.get("d_warmup", 0)
        if not isinstance(self.d_warmup, int) or isinstance(self.d_warmup, bool) or not 0 <= self.d_warmup <= 10**6:
            raise ConfigError(f"d_warmup must be a whole number of steps from 0, not {self.d_warmup!r}", field="extra")
        self.specs["D"] = {"arch": D_ARCHS[d_arch], "args": {"channels": c, "width": d_width}}
        self.D = build(**self.specs["D"]).to(self.device)
        self.D_run = self.D
        # D's own learning rate (two time-scale updates, Heusel et al. 2017); default G's, as the paper
        d_lr = cfg.extra.get("d_lr", cfg.lr)
        if not isinstance(d_lr, (int, float)) or isinstance(d_lr, bool) or not 0 < d_lr <= 1:
            raise ConfigError(f"d_lr must be a number in (0, 1], not {d_lr!r}", field="extra")
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=(cfg.beta1, cfg.beta2))
        self.phi: nn.Module | None = None  # a fixed feature network (random, ae, vgg19), checkpointed
        probe = self.train_data[:32]
        if self.content_kind == "mse":
            self.content = self.pixel_loss
            return
        if self.content_kind == "disc":
            self.content = contents.feature_loss(self.D.features, contents.feature_scale(self.D.features, probe))
            return
        if self.content_kind == "random":
            phi = contents.random_cnn(c)
        elif self.content_kind == "ae":
            steps = cfg.extra.get("ae_steps", 300)
            if not isinstance(steps, int) or not 1 <= steps <= 100_000:
                raise ConfigError(f"ae_steps must be a whole number from 1 to 100000, not {steps!r}", field="extra")
            phi = contents.train_autoencoder(self.train_data, steps, cfg.seed)
        else:
            phi = contents.vgg19_features(self.content_kind[len("vgg19:"):], c)
        self.phi = phi.to(self.device).eval().requires_grad_(False)
        self.content = contents.feature_loss(self.phi, contents.feature_scale(self.phi, probe))

    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    def compile_modules(self) -> None:
        self.G_run, self.D_run = torch.compile(self.G_run), torch.compile(self.D_run)

    def wrap_distributed(self) -> None:
        from genstudio.runs.distributed import wrap

        self.G_run, self.D_run = wrap(self.G, self.device), wrap(self.D, self.device)

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        return module_tensors("content/phi", self.phi) if self.phi is not None else {}

    def load_extra(self, tensors: dict[str, torch.Tensor]) -> None:
        if self.phi is not None and any(k.startswith("content/phi/") for k in tensors):
            load_module(self.phi, "content/phi", tensors)

    def extra_meta(self) -> dict[str, Any]:
        kind = self.content_kind
        note = {"kind": "vgg19", "file": Path(kind[6:]).name} if kind.startswith("vgg19:") else {"kind": kind}
        meta = {**super().extra_meta(), "content": note, "adv_weight": float(self.adv_weight),
                "adv_loss": self.adv_loss, "l1_weight": float(self.l1_weight), "d_warmup": self.d_warmup}
        if self.init_note:
            meta["init"] = self.init_note
        return meta

    def generator_objective(self, sr: torch.Tensor, hr: torch.Tensor, fake_logits: torch.Tensor,
                            real_logits: torch.Tensor | None = None
                            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(l^SR, l^SR_X, l^SR_Gen): the perceptual loss of eq. 3, its content and adversarial parts.

        The content part holds ``l1_weight`` × the pixel L1 when that is set (ESRGAN's η); ``ragan``
        needs D's logits on the HR batch (``real_logits``) too."""
        content = self.content(sr, hr)
        if self.l1_weight:
            content = content + self.l1_weight * F.l1_loss(sr.float(), hr.float())
        if self.adv_loss == "ragan":
            adv = relativistic_generator_loss(real_logits, fake_logits)
        else:
            adv = generator_loss(fake_logits)  # −log D(G(LR)), eq. 6, on logits
        return content + self.adv_weight * adv, content, adv

    def train_step(self, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        lr = downsample(hr)
        with self.autocast():
            sr = self.G_run(lr)  # (B, C, H, W)

        # (1) D: maximise log D(HR) + log(1 − D(G(LR)))
        self.opt_D.zero_grad(set_to_none=True)
        with self.autocast():
            real_logits = self.D_run(hr).float()
            fake_logits = self.D_run(sr.detach()).float()
        d_loss = relativistic_discriminator_loss if self.adv_loss == "ragan" else discriminator_loss
        loss_D = d_loss(real_logits, fake_logits)
        loss_D.backward()
        self.opt_D.step()

        # (2) G: content + adv_weight · (−log D(G(LR))); during the D warm-up only measured
        warming = self.step < self.d_warmup
        self.opt_G.zero_grad(set_to_none=True)
        with self.autocast(), torch.set_grad_enabled(not warming):
            gen_logits = self.D_run(sr).float()
            real_now = None
            if self.adv_loss == "ragan":  # the HR logits of the D that G is now judged by
                with torch.no_grad():
                    real_now = self.D_run(hr).float()
        loss_G, content, adv = self.generator_objective(sr, hr, gen_logits, real_now)
        if not warming:
            loss_G.backward()
            self.opt_G.step()
        return {"loss_G": loss_G.detach(), "content": content.detach(), "adv": adv.detach(),
                "loss_D": loss_D.detach(), "D(x)": torch.sigmoid(real_logits).mean().detach(),
                "D(G(z))": torch.sigmoid(fake_logits).mean().detach()}


def defining(config: RunConfig) -> list[tuple[str, Any]]:
    """What defines an SRResNet / SRGAN run beyond kind, data and size (``Family.defining``): resuming
    compares these, defaults resolved as the trainers resolve them."""
    extra = config.extra
    rows: list[tuple[str, Any]] = [("width", config.width or DEFAULT_WIDTH),
                                   ("residual blocks", extra.get("blocks", DEFAULT_BLOCKS)),
                                   ("bicubic skip", extra.get("bicubic_skip", True))]
    if config.kind == "srgan":
        rows += [("content loss", extra.get("content", DEFAULT_CONTENT)),
                 ("adversarial weight", extra.get("adv_weight", DEFAULT_ADV_WEIGHT)),
                 ("adversarial loss", extra.get("adv_loss", "bce")),
                 ("discriminator", extra.get("d_arch", "vgg")),
                 ("L1 weight", extra.get("l1_weight", 0.0)),
                 ("D warm-up steps", extra.get("d_warmup", 0))]
    return rows
