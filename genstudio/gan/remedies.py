"""Remedies for mode collapse, as options of a GAN run (``RunConfig.extra``; Qt-free).

The seed's losses (Goodfellow et al.'s BCE, one D step per G step) stay the default; each option
below is off unless set. Names are the papers':

* ``d_steps`` k — D steps per G step (Goodfellow et al. 2014, Algorithm 1's k): the D:G step ratio.
* ``d_lr`` — D's own Adam learning rate (default: ``lr``), the two time-scale rule of Heusel et al.
* ``unrolled`` k — *Unrolled GANs* (Metz et al. 2017): G's loss is taken against D after k more
  D steps on fresh batches, then D is put back. G then answers where D is going, not where it
  is, which is what stops it hopping from mode to mode. This is the first-order form (the k steps
  are not differentiated through; Metz et al.'s full form is), as most reimplementations do.
* ``r1`` γ — the R1 penalty of Mescheder et al., *Which Training Methods for GANs do actually
  Converge?* (2018): D's loss gains γ/2 · E_x[‖∇_x D(x)‖²] on real data.
* ``spectral_norm`` — spectral normalisation of every D weight (Miyato et al. 2018).
* ``mbstd`` g — a minibatch standard deviation feature in D over groups of g samples (Karras et
  al. 2018).

The last two change D's architecture and are fixed for a run; the first four may change between
two steps of a running run (:data:`LIVE_GAN`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from genstudio.config import MAX_LR, ConfigError, RunConfig

__all__ = ["GanOptions", "LIVE_GAN", "ARCH_OPTIONS", "gan_options", "r1_penalty"]

#: The options a running GAN can take on between two steps.
LIVE_GAN = ("d_lr", "d_steps", "unrolled", "r1")
#: The options that shape D (written into its checkpoint args; fixed for a run).
ARCH_OPTIONS = ("spectral_norm", "mbstd")
MAX_D_STEPS = 20
MAX_UNROLLED = 20


@dataclass(frozen=True)
class GanOptions:
    """The GAN options of one config, defaults resolved."""

    d_lr: float  # D's learning rate (the config's lr unless set)
    d_steps: int = 1
    unrolled: int = 0
    r1: float = 0.0
    spectral_norm: bool = False
    mbstd: int = 0

    def d_args(self) -> dict[str, Any]:
        """What the options add to D's architecture args (nothing for a plain D, so old files match)."""
        args: dict[str, Any] = {}
        if self.mbstd:
            args["mbstd"] = self.mbstd
        if self.spectral_norm:
            args["spectral_norm"] = True
        return args


def _int(extra: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = extra.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {value!r}", field="extra")
    return value


def gan_options(config: RunConfig) -> GanOptions:
    """The GAN options ``config.extra`` asks for, checked.

    Raises
    ------
    ConfigError
        An option with an impossible value (one line naming it).
    """
    extra = config.extra
    d_lr = extra.get("d_lr", config.lr)
    if not isinstance(d_lr, (int, float)) or isinstance(d_lr, bool) or not math.isfinite(d_lr) or not 0 < d_lr <= MAX_LR:
        raise ConfigError(f"d_lr must be a number > 0 and at most 1e6, not {d_lr!r}", field="extra")
    r1 = extra.get("r1", 0.0)
    if not isinstance(r1, (int, float)) or isinstance(r1, bool) or not math.isfinite(r1) or not 0 <= r1 <= 1e4:
        raise ConfigError(f"r1 (the penalty's γ) must be a number from 0 to 1e4, not {r1!r}", field="extra")
    sn = extra.get("spectral_norm", False)
    if not isinstance(sn, bool):
        raise ConfigError(f"spectral_norm must be true or false, not {sn!r}", field="extra")
    mbstd = _int(extra, "mbstd", 0, 1024, 0)
    if mbstd == 1:
        raise ConfigError("mbstd is the group size of the minibatch std: 0 (off) or at least 2", field="extra")
    if mbstd and config.batch % mbstd:
        raise ConfigError(f"mbstd {mbstd} must divide the batch ({config.batch})", field="extra")
    return GanOptions(d_lr=float(d_lr), d_steps=_int(extra, "d_steps", 1, MAX_D_STEPS, 1),
                      unrolled=_int(extra, "unrolled", 0, MAX_UNROLLED, 0), r1=float(r1),
                      spectral_norm=sn, mbstd=mbstd)


def r1_penalty(D: nn.Module, real: torch.Tensor, gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mescheder et al.'s R1: ``(γ/2 · E[‖∇_x D(x)‖²], D(x))`` on the real batch ``real``.

    The logits come back too, so the D step needs no second forward on the real data. The
    penalty is differentiable in D's weights (``create_graph``).
    """
    x = real.detach().requires_grad_(True)  # (B, …)
    logits = D(x).float()  # (B,)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)  # (B, …) ∇_x D(x) per sample
    sq = grad.reshape(grad.shape[0], -1).pow(2).sum(dim=1)  # (B,) ‖∇_x D(x)‖²
    return 0.5 * gamma * sq.mean(), logits
