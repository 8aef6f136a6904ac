"""Training a GAN as in Goodfellow et al. (2014), with the DCGAN recipe of Radford et al. (2015).

A D step then a G step on the losses of :mod:`genstudio.gan.losses`. Each step reports ``loss_D``, ``loss_G``, ``D(x)`` and ``D(G(z))`` (mean
probabilities), as in the PyTorch DCGAN example. The remedies for mode collapse of
:mod:`genstudio.gan.remedies` (more D steps, unrolled D, R1, spectral norm, minibatch std) are
options of the run; ``loss_D`` is then what D minimises (with R1: BCE + the penalty).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from genstudio.checkpoint import load_module, module_tensors
from genstudio.config import RunConfig
from genstudio.data import Dataset
from genstudio.devices import sample_noise
from genstudio.gan.losses import discriminator_loss, generator_loss
from genstudio.gan.remedies import GanOptions, gan_options, r1_penalty
from genstudio.models import build
from genstudio.trainer import Preview, Trainer, update_ema


# ---------------------------------------------------------------------------- architectures
WIDTH = {"mlp": 128, "dcgan": 64}  # hidden width (MLP) or ngf = ndf (DCGAN) when config.width is 0
LATENT_DIM = {"mlp": 2, "dcgan": 100}  # nz when config.latent_dim is 0


def _arch(config: RunConfig, points: bool) -> str:
    return config.arch if config.arch != "auto" else ("mlp" if points else "dcgan")


def defining(config: RunConfig) -> list[tuple[str, Any]]:
    """What defines a GAN run beyond kind, data and size, defaults resolved as :func:`gan_specs` does."""
    from genstudio.data import is_points

    arch = _arch(config, is_points(config.data))
    return [("architecture", arch), ("width", config.width or WIDTH.get(arch, 0)),
            ("latent dimension", config.latent_dim or LATENT_DIM.get(arch, LATENT_DIM["dcgan"]))]


def gan_specs(config: RunConfig, data: Dataset) -> dict[str, dict[str, Any]]:
    """``{"G": {"arch", "args"}, "D": {...}}`` for what ``config`` asks on ``data``."""
    arch = _arch(config, data.kind == "points")
    if arch == "mlp":
        if data.kind != "points":
            raise ValueError("the MLP GAN is for 2-D point data; use dcgan for images")
        width = config.width or WIDTH["mlp"]
        return {"G": {"arch": "mlp_g", "args": {"nz": config.latent_dim or LATENT_DIM["mlp"], "hidden": width,
                                                "depth": 3, "out_dim": 2}},
                "D": {"arch": "mlp_d", "args": {"hidden": width, "depth": 3, "in_dim": 2,
                                                **gan_options(config).d_args()}}}
    if arch == "dcgan":
        if data.kind != "images":
            raise ValueError("DCGAN is for images; use the MLP GAN for 2-D point data")
        width = config.width or WIDTH["dcgan"]
        return {"G": {"arch": "dcgan_g", "args": {"nz": config.latent_dim or LATENT_DIM["dcgan"], "ngf": width,
                                                  "nc": data.channels, "size": config.size}},
                "D": {"arch": "dcgan_d", "args": {"ndf": width, "nc": data.channels, "size": config.size,
                                                  **gan_options(config).d_args()}}}
    raise ValueError(f"unknown GAN architecture {arch!r}: use auto, dcgan or mlp")


class TwoPlayers:
    """What a checkpoint holds of a two-player trainer (``G``, ``D``, ``opt_G``, ``opt_D`` and
    ``G_ema``, the running average of G's weights or None): the GAN and StyleGAN families share it."""

    G: nn.Module
    D: nn.Module
    D_run: nn.Module  # D as the step calls it (compiled or DDP-wrapped)
    G_ema: nn.Module | None
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer

    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"G": self.opt_G, "D": self.opt_D}

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        return module_tensors("ema/G", self.G_ema) if self.G_ema is not None else {}

    def generator_step(self, fake: torch.Tensor) -> torch.Tensor:
        """G's update on ``fake`` = G(z) (its graph kept): the non-saturating loss −log σ(D(G(z)))
        (Goodfellow et al.), one optimiser step; returns the loss."""
        self.opt_G.zero_grad(set_to_none=True)
        with self.autocast():
            gen_logits = self.D_run(fake).float()
        loss_G = generator_loss(gen_logits)
        loss_G.backward()
        self.opt_G.step()
        return loss_G

    def load_extra(self, tensors: dict[str, torch.Tensor]) -> None:
        if self.G_ema is None:
            return
        if any(k.startswith("ema/G/") for k in tensors):
            load_module(self.G_ema, "ema/G", tensors)
        else:  # a checkpoint without averaged weights: start the average from the raw ones
            self.G_ema.load_state_dict(self.G.state_dict())


class GanTrainer(TwoPlayers, Trainer):
    """One GAN training step at a time: D step then G step, each with its own Adam."""

    kind = "gan"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        super().__init__(config, data, device, rank=rank, world_size=world_size)
        self._options_of: RunConfig | None = None
        self.specs = gan_specs(config, data)
        self.G = build(**self.specs["G"]).to(device)
        self.D = build(**self.specs["D"]).to(device)
        self.G_run, self.D_run = self.G, self.D  # DDP-wrapped in multi-process runs
        betas = (config.beta1, config.beta2)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=self.options.d_lr, betas=betas)
        # G's weights averaged over the steps (Yazıcı et al. 2019) sample when config.g_ema > 0: the
        # average damps the oscillation of the two-player game, so a mode the raw G just left stays
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if config.g_ema > 0 else None
        n_fixed = 2000 if data.kind == "points" else config.n_preview
        # the fixed noise batch makes preview grids comparable over time (as in the DCGAN example)
        self.fixed_z = sample_noise((self.G.nz,), n_fixed, seed=config.seed + 1).to(device)

    # -- Trainer interface: modules, optimizers and G's average from TwoPlayers ----------

    def sampling_G(self) -> nn.Module:
        """The generator that samples: the averaged one when the run keeps an average."""
        return self.G_ema if self.G_ema is not None else self.G

    def compile_modules(self) -> None:
        self.G_run, self.D_run = torch.compile(self.G_run), torch.compile(self.D_run)

    def wrap_distributed(self) -> None:
        from genstudio.runs.distributed import wrap

        self.G_run, self.D_run = wrap(self.G, self.device), wrap(self.D, self.device)

    @property
    def options(self) -> GanOptions:
        """The run's remedies as its config now says (a live change replaces the config)."""
        if self._options_of is not self.config:
            self._options, self._options_of = gan_options(self.config), self.config
        return self._options

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        opts = self.options
        z = self.draw_normal(real.shape[0], (self.G.nz,))  # (B, nz), this rank's rows
        with self.autocast():
            fake = self.G_run(z)  # (B, C, H, W) or (B, 2)

        # (1) update D: maximise log D(x) + log(1 − D(G(z))), k = d_steps times (Goodfellow et al.'s k)
        loss_D, real_logits, fake_logits = self._d_step(real, fake.detach(), opts)
        for _ in range(opts.d_steps - 1):
            self._d_step(self.next_batch(), self._fresh_fake(real.shape[0]), opts)

        # Unrolled GANs (Metz et al.): G answers D as it will be after k more steps, then D goes back
        saved = self._unroll(real.shape[0], opts) if opts.unrolled else None

        # (2) update G: maximise log D(G(z)) (non-saturating)
        loss_G = self.generator_step(fake)
        if saved is not None:
            self.D.load_state_dict(saved[0])
            self.opt_D.load_state_dict(saved[1])
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.config.g_ema)
        return {"loss_D": loss_D.detach(), "loss_G": loss_G.detach(),
                "D(x)": torch.sigmoid(real_logits).mean().detach(),
                "D(G(z))": torch.sigmoid(fake_logits).mean().detach()}

    def slow_motion(self) -> Preview:
        """After a single step on 2-D data: G's own points (not the average's) and the force on each,
        over D's field (:func:`genstudio.gan.slow_motion.generator_forces`); images: the plain preview."""
        if self.data.kind != "points":
            return self.preview()
        from genstudio.gan.slow_motion import SLOW_MOTION_POINTS, generator_forces

        points, forces = generator_forces(self.G, self.D, self.fixed_z[:SLOW_MOTION_POINTS], generator_loss)
        around = torch.cat([self.data.tensor.cpu(), torch.from_numpy(points)])  # the field under every arrow
        heat, extent = discriminator_field(self.D, around, self.device)
        return Preview(kind="points", data=points, extra={"heatmap": heat, "extent": extent, "forces": forces})

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor, opts: GanOptions
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One Adam step of D on ``real`` and (detached) ``fake``; ``(loss_D, real logits, fake logits)``."""
        self.opt_D.zero_grad(set_to_none=True)
        with self.autocast():
            if opts.r1 > 0:  # Mescheder et al.: + γ/2 · E‖∇_x D(x)‖² on the real batch
                penalty, real_logits = r1_penalty(self.D_run, real, opts.r1)
            else:
                penalty, real_logits = None, self.D_run(real).float()
            fake_logits = self.D_run(fake).float()
        loss_D = discriminator_loss(real_logits, fake_logits)
        if penalty is not None:
            loss_D = loss_D + penalty
        loss_D.backward()
        self.opt_D.step()
        return loss_D, real_logits, fake_logits

    def _fresh_fake(self, n: int) -> torch.Tensor:
        """G(z) for fresh z, without a graph: what an extra or unrolled D step trains against."""
        z = self.draw_normal(n, (self.G.nz,))  # (B, nz)
        with torch.no_grad(), self.autocast():
            return self.G_run(z)

    def _unroll(self, n: int, opts: GanOptions) -> tuple[dict[str, torch.Tensor], dict]:
        """Take ``opts.unrolled`` D steps on fresh batches; return D's and its optimiser's state before."""
        saved = ({k: v.detach().clone() for k, v in self.D.state_dict().items()},
                 copy.deepcopy(self.opt_D.state_dict()))
        for _ in range(opts.unrolled):
            self._d_step(self.next_batch(), self._fresh_fake(n), opts)
        return saved

    @torch.inference_mode()
    def preview(self) -> Preview:
        G = self.sampling_G()
        was_training = G.training
        G.eval()
        try:
            fake = G(self.fixed_z).float().cpu().numpy()
        finally:
            G.train(was_training)
        if self.data.kind != "points":
            return Preview(kind="images", data=fake)  # (N, C, H, W) in [-1, 1]
        heat, extent = discriminator_field(self.D, self.data.tensor, self.device)
        return Preview(kind="points", data=fake, extra={"heatmap": heat, "extent": extent})


@torch.inference_mode()
def discriminator_field(D: nn.Module, real: torch.Tensor, device: torch.device, res: int = 64
                        ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """D's probability σ(D(x)) on a ``res``×``res`` grid covering the real data (GAN Lab's heat map).

    Returns ``(probs (res, res) indexed [y, x], (xmin, xmax, ymin, ymax))``.
    """
    lo = real.min(0).values.cpu() - 0.5
    hi = real.max(0).values.cpu() + 0.5
    half = float(torch.max(hi - lo)) / 2
    mid = (lo + hi) / 2
    xs = torch.linspace(float(mid[0]) - half, float(mid[0]) + half, res)
    ys = torch.linspace(float(mid[1]) - half, float(mid[1]) + half, res)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).to(device)  # (res*res, 2)
    was_training = D.training
    D.eval()
    try:
        probs = torch.sigmoid(D(pts)).view(res, res).float().cpu().numpy()
    finally:
        D.train(was_training)
    return probs, (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))
