"""Run configuration: one frozen, JSON-serialisable dataclass that fully describes a training run.

The same ``RunConfig`` is built by the CLI flags and by the app's run panel; it is written to
``config.json`` in the run directory and into every checkpoint's header, so a run can be resumed
or inspected by any tool.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

DEVICES = ("auto", "cpu", "cuda", "mps")
#: Image sides in px a run and a checkpoint may have (DCGAN and the U-Net are built for these).
IMAGE_SIZES = (16, 32, 64)
#: The diffusion noise schedules (:mod:`genstudio.diffusion.schedule` implements them).
SCHEDULES = ("linear", "cosine")
#: The largest learning rate a run takes (the messages say "1e6"): far above any that trains.
MAX_LR = 1e6


class ConfigError(ValueError):
    """A setting is impossible; the message names the setting and what is allowed.

    ``field`` is the :class:`RunConfig` field it is about ("" when none is), so a form can show the
    message under that field without reading the text.
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field

#: Mixed precision of the training step (``extra["amp"]``): off, or bfloat16 autocast (CUDA, and
#: CPUs with bfloat16 support). bfloat16 keeps float32's range, so no loss scaling is needed.
AMP_MODES = ("off", "bf16")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run. Field comments say *why* each default is what it is."""

    kind: str = "gan"  # "gan" (Goodfellow et al.) or "diffusion" (Ho et al. DDPM)
    data: str = "ring8"  # built-in data set name, or "folder:PATH"
    arch: str = "auto"  # "auto" picks dcgan/mlp (GAN) or unet/mlp (diffusion) from the data's kind
    size: int = 32  # image side in px; DCGAN and the U-Net support 16, 32 and 64
    channels: int = 0  # 0 = the data set's own (1 for digits, 3 for shapes/faces/folders)
    batch: int = 64  # DCGAN paper used 128; 64 keeps CPU steps short
    lr: float = 2e-4  # DCGAN paper: Adam lr 2e-4
    beta1: float = 0.5  # DCGAN paper: beta1 0.5 stabilises GAN training (diffusion: see default_betas)
    beta2: float = 0.999
    steps: int = 2000  # total optimiser steps (per model) to reach
    seed: int = 0  # fixes data order, init, noise and the preview batch
    device: str = "auto"  # auto: CUDA, then MPS, then CPU
    latent_dim: int = 0  # 0 = default: 100 for DCGAN (as in the paper), 2 for the 2-D MLP GAN
    width: int = 0  # base channel / hidden width; 0 = architecture default
    timesteps: int = 1000  # diffusion T (Ho et al. use 1000)
    schedule: str = "linear"  # "linear" (Ho et al.) or "cosine" (Nichol & Dhariwal)
    ema_decay: float = 0.995  # EMA of weights used for diffusion sampling; short CPU runs want < 0.9999
    g_ema: float = 0.0  # GAN: EMA decay of G's weights that sample (Yazıcı et al. 2019); 0 = the raw G
    log_every: int = 10  # steps between metric lines in metrics.jsonl
    preview_every: int = 100  # steps between preview grids (also written as PNG)
    checkpoint_every: int = 500  # steps between checkpoints (last.safetensors is always refreshed)
    n_preview: int = 64  # size of the fixed preview batch (8x8 grid)
    num_points: int = 20000  # size of 2-D point data sets
    extra: dict[str, Any] = field(default_factory=dict)  # forward-compatible free-form options

    # ------------------------------------------------------------------ validation
    def validate(self) -> "RunConfig":
        """Raise :class:`ConfigError` with a readable message if any setting is impossible."""
        from genstudio.families import family_names  # the model-family registry

        if self.kind not in family_names():
            raise ConfigError(f"kind must be one of {', '.join(family_names())}, not {self.kind!r}",
                              field="kind")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}", field="device")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}",
                              field="schedule")
        _positive_int("batch", self.batch, upper=65536)
        _positive_int("steps", self.steps, upper=10**9)
        _positive_int("log_every", self.log_every)
        _positive_int("preview_every", self.preview_every)
        _positive_int("checkpoint_every", self.checkpoint_every)
        _positive_int("n_preview", self.n_preview, upper=1024)
        _positive_int("num_points", self.num_points, upper=10**7)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be a whole number from 0 to 2**63-1, not {self.seed!r}", field="seed")
        for name in ("lr", "beta1", "beta2", "ema_decay", "g_ema"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, not {value!r}", field=name)
        check_lr(self.lr)
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError("Adam betas must lie in [0, 1)", field="beta1")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError("ema_decay must lie in [0, 1)", field="ema_decay")
        if not 0 <= self.g_ema < 1:
            raise ConfigError("g_ema (the averaged generator's decay) must lie in [0, 1)", field="g_ema")
        if self.size not in IMAGE_SIZES:
            raise ConfigError(f"size must be one of {IMAGE_SIZES} px, not {self.size!r}", field="size")
        if self.channels not in (0, 1, 3):
            raise ConfigError(f"channels must be 1, 3 or 0 (the data's own), not {self.channels!r}",
                              field="channels")
        if not isinstance(self.timesteps, int) or not 2 <= self.timesteps <= 10000:
            raise ConfigError(f"timesteps T must be a whole number from 2 to 10000, not {self.timesteps!r}",
                              field="timesteps")
        if not 0 <= self.latent_dim <= 4096 or not 0 <= self.width <= 4096:
            raise ConfigError("latent_dim and width must lie in [0, 4096]", field="width")
        if self.extra.get("amp", "off") not in AMP_MODES:
            raise ConfigError(f"amp must be one of {', '.join(AMP_MODES)}, not {self.extra.get('amp')!r}",
                              field="extra")
        if not isinstance(self.extra.get("compile", False), bool):
            raise ConfigError("compile must be true or false", field="extra")
        gamma = self.extra.get("min_snr", 0.0)
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 <= gamma < float("inf"):
            raise ConfigError(f"min_snr (γ of Min-SNR loss weighting) must be a number ≥ 0, not {gamma!r}",
                              field="extra")
        return self

    # ------------------------------------------------------------------ JSON round trip
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Build from a dict, ignoring keys a newer GenStudio may have added."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)


def default_betas(kind: str) -> tuple[float, float]:
    """Adam betas of a new ``kind`` run, as its family declares them: (0.5, 0.999) for GANs (DCGAN
    paper), (0.9, 0.999) for diffusion."""
    from genstudio.families import get_family

    return get_family(kind).adam_betas


def _positive_int(name: str, value: Any, upper: int = 10**7) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= upper:
        raise ConfigError(f"{name} must be a whole number from 1 to {upper}, not {value!r}", field=name)


def check_lr(lr: float) -> float:
    """``lr`` if a run can take it as its learning rate (0 < lr ≤ :data:`MAX_LR`).

    Raises
    ------
    ConfigError
        Otherwise; the message names the learning rate.
    """
    if not 0 < lr <= MAX_LR:
        raise ConfigError(f"learning rate must be > 0 and at most 1e6, not {lr!r}", field="lr")
    return lr


def parse_lr(text: str) -> float:
    """The learning rate a person typed ("2e-4"): the one rule of the run panel, the recovery dialog
    and ``genstudio train --lr``.

    Raises
    ------
    ConfigError
        ``text`` is not a number, not finite, or not a rate a run takes (:func:`check_lr`).
    """
    text = text.strip()
    try:
        lr = float(text)
    except ValueError:
        raise ConfigError(f"learning rate must be a number like 2e-4, not {text!r}", field="lr") from None
    if not math.isfinite(lr):
        raise ConfigError(f"learning rate must be a finite number, not {text!r}", field="lr")
    return check_lr(lr)
