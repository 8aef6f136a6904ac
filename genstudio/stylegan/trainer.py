"""Training the style-based generator: StyleGAN2's recipe (Karras et al. 2020) on a CPU budget.

The loss is the non-saturating logistic loss of StyleGAN, which *is* the seed GAN's BCE
(:mod:`genstudio.gan.losses`): softplus(−D(x)) + softplus(D(G(z))) = BCE(D(x), 1) + BCE(D(G(z)), 0)
for D, and softplus(−D(G(z))) = BCE(D(G(z)), 1) for G. On top, as the paper:

* **lazy R1** (``extra["r1"]`` = γ, default :func:`default_r1`): γ/2 · E‖∇_x D(x)‖² on real data, taken
  every :data:`R1_EVERY` D steps and multiplied by that interval (StyleGAN2 §B, "lazy regularisation");
* **minibatch standard deviation** in D over groups of ``extra["mbstd"]`` (default 4);
* **style mixing regularisation** (``extra["style_mixing"]`` = p, default 0.9): for a share p of the
  batch, two z's and a random crossover layer, so neighbouring styles are not assumed correlated
  (StyleGAN §3.1) — what makes mixing at inference work;
* **G's EMA** (``RunConfig.g_ema``) samples; its mean w over :data:`W_AVG_DRAWS` draws is stored in
  every checkpoint for truncation.

G's toRGB skips start at ``extra["skips_from"]``: the recipe's 16² for a new run,
StyleGAN2's 4 (every resolution) when absent, as in every run before it was an option; see
:mod:`genstudio.models.stylegan` for why.

Path-length regularisation is not implemented (the issue marks it optional).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from genstudio.config import ConfigError, RunConfig
from genstudio.data import Dataset
from genstudio.gan.losses import discriminator_loss
from genstudio.gan.remedies import r1_penalty
from genstudio.gan.trainer import TwoPlayers
from genstudio.models import build
from genstudio.trainer import Preview, Trainer, update_ema

__all__ = ["StyleGanTrainer", "stylegan_specs", "defining", "default_r1", "skips_from", "R1_EVERY",
           "W_AVG_DRAWS"]

WIDTH = 64  # channels up to 16² (halved per doubling above) when config.width is 0
LATENT_DIM = 128  # z and w when config.latent_dim is 0
MAPPING_LAYERS = 4  # StyleGAN has 8; 4 is plenty for a 128-d w on a small data set
#: R1's γ by image size, as measured on ``faces`` (issue #18, checkpoints/README.md). StyleGAN2's heuristic
#: 0.0002 · res² / batch (0.05 at 64 px, batch 16) left D free to key on per-pixel speckle in these
#: flat-coloured faces: faces FD 2,265 at step 1,500 (32 px, γ 0.05) against 889 with γ 0.5
R1_BY_SIZE = {16: 0.5, 32: 0.5, 64: 1.0}
R1_EVERY = 16  # lazy regularisation interval (StyleGAN2 §B)
W_AVG_DRAWS = 10_000  # draws of f(z) for the mean w stored in a checkpoint
W_AVG_SEED = 12345


def default_r1(size: int) -> float:
    """γ of R1 for a run at ``size`` px when ``--r1`` is not given (:data:`R1_BY_SIZE`)."""
    return R1_BY_SIZE.get(int(size), R1_BY_SIZE[64])


def _extra(config: RunConfig) -> tuple[float, int, float]:
    """(γ, mbstd group, style-mixing probability) from ``config.extra``, checked."""
    r1 = config.extra.get("r1", default_r1(config.size))
    if isinstance(r1, bool) or not isinstance(r1, (int, float)) or not 0 <= r1 <= 1e4:
        raise ConfigError(f"r1 (the penalty's γ) must be a number from 0 to 1e4, not {r1!r}", field="extra")
    mbstd = config.extra.get("mbstd", 4)
    if isinstance(mbstd, bool) or not isinstance(mbstd, int) or mbstd < 2 or config.batch % mbstd:
        raise ConfigError(f"mbstd must be a group size of at least 2 that divides the batch ({config.batch}), "
                          f"not {mbstd!r}", field="extra")
    mix = config.extra.get("style_mixing", 0.9)
    if isinstance(mix, bool) or not isinstance(mix, (int, float)) or not 0 <= mix <= 1:
        raise ConfigError(f"style_mixing (a probability) must lie in [0, 1], not {mix!r}", field="extra")
    return float(r1), mbstd, float(mix)


def skips_from(config: RunConfig) -> int:
    """The resolution G's toRGB skips start at: ``extra["skips_from"]``, else StyleGAN2's 4 (runs from before
    the option; a new run gets the recipe's in its extra)."""
    from genstudio.models.stylegan import SKIP_RESOLUTIONS

    value = config.extra.get("skips_from", 4)
    if isinstance(value, bool) or value not in SKIP_RESOLUTIONS or value > config.size:
        sizes = ", ".join(str(r) for r in SKIP_RESOLUTIONS if r <= config.size)
        raise ConfigError(f"skips_from (where G's toRGB skips start) must be one of {sizes} px, not {value!r}",
                          field="extra")
    return int(value)


def defining(config: RunConfig) -> list[tuple[str, Any]]:
    """What defines a style-based run beyond kind, data and size (resuming compares these)."""
    return [("width", config.width or WIDTH), ("latent dimension", config.latent_dim or LATENT_DIM),
            ("minibatch std group", _extra(config)[1]), ("toRGB skips from", skips_from(config))]


def stylegan_specs(config: RunConfig, data: Dataset) -> dict[str, dict[str, Any]]:
    """``{"G": …, "D": …}`` architecture specs for ``config`` on ``data`` (images only)."""
    if data.kind != "images":
        raise ValueError("the style-based generator is for images; use the MLP GAN for 2-D point data")
    width, nz = config.width or WIDTH, config.latent_dim or LATENT_DIM
    return {"G": {"arch": "stylegan_g", "args": {"nz": nz, "w_dim": nz, "mapping_layers": MAPPING_LAYERS,
                                                 "width": width, "nc": data.channels, "size": config.size,
                                                 "skips_from": skips_from(config)}},
            "D": {"arch": "stylegan_d", "args": {"width": width, "nc": data.channels, "size": config.size,
                                                 "mbstd": _extra(config)[1]}}}


class StyleGanTrainer(TwoPlayers, Trainer):
    """D step (lazy R1 every 16th) then G step with style mixing; G's EMA samples."""

    kind = "stylegan"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        super().__init__(config, data, device, rank=rank, world_size=world_size)
        self.r1, _, self.mixing = _extra(config)
        self.specs = stylegan_specs(config, data)
        self.G = build(**self.specs["G"]).to(device)
        self.D = build(**self.specs["D"]).to(device)
        self.G_run, self.D_run = self.G, self.D
        betas = (config.beta1, config.beta2)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=self.learning_rate("D", config.lr), betas=betas)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if config.g_ema > 0 else None
        g = torch.Generator().manual_seed(config.seed + 1)
        self.fixed_z = torch.randn(config.n_preview, self.G.nz, generator=g).to(device)
        # one fixed noise image per layer, so preview grids differ only by what G learnt
        self.fixed_noise = [torch.randn(1, 1, r, r, generator=g).to(device) for r in self.G.resolutions]

    # -- Trainer interface: modules, optimizers and G's average from TwoPlayers ----------

    def sampling_G(self) -> nn.Module:
        return self.G_ema if self.G_ema is not None else self.G

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """As the base, after setting each G's mean w from :data:`W_AVG_DRAWS` draws (truncation's centre)."""
        for G in {id(self.G): self.G, id(self.sampling_G()): self.sampling_G()}.values():
            set_w_avg(G)
        return super().state()

    def compile_modules(self) -> None:
        self.G_run, self.D_run = torch.compile(self.G_run), torch.compile(self.D_run)

    def _ws(self, n: int) -> torch.Tensor:
        """Per-layer ws (n, num_ws, w_dim) for fresh z; a share ``mixing`` of rows switch to a second
        z's w from a random crossover layer on (style mixing regularisation)."""
        G = self.G
        ws = G.broadcast(G.map(self.draw_normal(n, (G.nz,))))  # (n, L, w_dim)
        if self.mixing <= 0:
            return ws
        ws2 = G.broadcast(G.map(self.draw_normal(n, (G.nz,))))
        u = torch.rand(n, generator=self.noise_gen, device=self.device)
        cut = torch.randint(1, G.num_ws, (n,), generator=self.noise_gen, device=self.device)
        cut = torch.where(u < self.mixing, cut, torch.full_like(cut, G.num_ws))  # (n,) no mixing: past the end
        layer = torch.arange(G.num_ws, device=self.device)[None, :, None]  # (1, L, 1)
        return torch.where(layer < cut[:, None, None], ws, ws2)

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        n = real.shape[0]
        with self.autocast():
            fake = self.G.synthesis(self._ws(n))  # (B, C, H, W)

        # (1) D: logistic loss (= BCE), + lazy R1 every R1_EVERY steps
        self.opt_D.zero_grad(set_to_none=True)
        lazy = self.r1 > 0 and self.step % R1_EVERY == 0
        with self.autocast():
            if lazy:
                penalty, real_logits = r1_penalty(self.D_run, real, self.r1 * R1_EVERY)
            else:
                penalty, real_logits = None, self.D_run(real).float()
            fake_logits = self.D_run(fake.detach()).float()
        loss_D = discriminator_loss(real_logits, fake_logits)
        (loss_D + penalty if penalty is not None else loss_D).backward()
        self.opt_D.step()

        # (2) G: non-saturating, −log σ(D(G(z)))
        loss_G = self.generator_step(fake)
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.config.g_ema)
        return {"loss_D": loss_D.detach(), "loss_G": loss_G.detach(),
                "D(x)": torch.sigmoid(real_logits).mean().detach(),
                "D(G(z))": torch.sigmoid(fake_logits).mean().detach()}

    @torch.inference_mode()
    def preview(self) -> Preview:
        G = self.sampling_G()
        ws = G.broadcast(G.map(self.fixed_z))
        fake = G.synthesis(ws, self.fixed_noise).clamp(-1, 1).float().cpu().numpy()
        return Preview(kind="images", data=fake)  # (N, C, H, W) in [-1, 1]


@torch.no_grad()
def set_w_avg(G: nn.Module, draws: int = W_AVG_DRAWS) -> None:
    """G.w_avg ← the mean of f(z) over ``draws`` fixed draws of z (the centre truncation pulls towards)."""
    z = torch.randn(draws, G.nz, generator=torch.Generator().manual_seed(W_AVG_SEED))
    w = torch.cat([G.map(z[i:i + 2000].to(G.w_avg.device)) for i in range(0, draws, 2000)])
    G.w_avg.copy_(w.mean(0))
