"""Open a Hugging Face ``diffusers`` model folder from disk as a GenStudio diffusion model (Qt-free).

What opens: a ``UNet2DModel`` with its scheduler, saved by ``save_pretrained`` — a pipeline folder
(``model_index.json`` naming ``unet`` and ``scheduler``, as ``DDPMPipeline`` / ``DDIMPipeline``
write it and as the original DDPM CIFAR-10 / CelebA-HQ models are published), with the U-Net in
``unet/`` or at the top, or a bare U-Net folder (its ``config.json``; the scheduler's
``scheduler_config.json`` beside it or in ``scheduler/``). Nothing is downloaded
(``local_files_only``), and pickled weights (``.bin``) are refused, as everywhere in GenStudio:
only ``diffusion_pytorch_model.safetensors`` is read.

GenStudio's own samplers (:mod:`genstudio.sampling`) drive the diffusers U-Net: the scheduler
config becomes a :class:`~genstudio.diffusion.schedule.NoiseSchedule` (``linear`` and
``squaredcos_cap_v2`` β; ``clip_sample`` becomes the samplers' x̂₀ clamp), and a U-Net that
predicts ``sample`` (x₀) or ``v_prediction`` is turned into ε̂ so every sampler, the scrubber's
x̂₀ and the guidance-free views work unchanged. Stable Diffusion pipeline folders (text encoder,
VAE) are opened by :mod:`genstudio.interop.sd_pipeline`, which reuses this module's checks.

diffusers is an optional extra (``pip install 'genstudio[diffusers]'``); without it, opening such
a folder says how to install it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError
from genstudio.diffusion.model import DiffusionModel
from genstudio.diffusion.schedule import NoiseSchedule

INSTALL_HINT = "pip install 'genstudio[diffusers]' (or: pip install diffusers)"
WEIGHTS = "diffusion_pytorch_model.safetensors"
PICKLED = ("diffusion_pytorch_model.bin", "diffusion_pytorch_model.ckpt", "diffusion_pytorch_model.pt")
BETAS = {"linear": "linear", "squaredcos_cap_v2": "cosine", "scaled_linear": "scaled_linear"}  # diffusers' beta_schedule -> ours
SD_PARTS = ("text_encoder", "vae", "tokenizer")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path.name} in {path.parent.name} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} in {path.parent.name} is not a JSON object")
    return data


def _class_name(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data.get("_class_name") if isinstance(data, dict) else None


def is_diffusers_folder(path: str | Path) -> bool:
    """True when ``path`` is a folder diffusers wrote: a pipeline (``model_index.json``) or a model."""
    p = Path(path)
    if not p.is_dir():
        return False
    if (p / "model_index.json").is_file():
        return True
    return (p / "config.json").is_file() and _class_name(p / "config.json") is not None


def locate(folder: str | Path) -> tuple[Path, Path | None]:
    """The U-Net's folder and the scheduler's config file (None: none saved) in ``folder``.

    Raises :class:`CheckpointError` for a folder GenStudio cannot open, saying why.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CheckpointError(f"{root} is not a folder")
    index = root / "model_index.json"
    if index.is_file():
        parts = _read_json(index)
        pipeline = parts.get("_class_name", "a pipeline")
        if any(k in parts for k in SD_PARTS):  # sd_pipeline.py opens these; loading.load_model sends them there
            raise CheckpointError(f"{root.name} is a {pipeline} (text encoder, VAE, U-Net): open it as a Stable "
                                  "Diffusion folder (genstudio.interop.sd_pipeline)")
        if "unet" not in parts:
            raise CheckpointError(f"{root.name} is a {pipeline} without a U-Net: nothing to sample")
    unet = root / "unet" if (root / "unet" / "config.json").is_file() else root
    if not (unet / "config.json").is_file():
        raise CheckpointError(f"{root.name} has no U-Net config (unet/config.json or config.json)")
    kind = _class_name(unet / "config.json")
    if kind != "UNet2DModel":
        raise CheckpointError(f"{root.name} holds a {kind or 'model of unknown kind'}; GenStudio opens "
                              "diffusers UNet2DModel folders (DDPM / DDIM models)")
    if not (unet / WEIGHTS).is_file():
        pickled = [n for n in PICKLED if (unet / n).is_file()]
        if pickled:
            raise CheckpointError(f"{root.name} has only pickled weights ({pickled[0]}), which GenStudio "
                                  f"refuses to load (they can run code); convert them to {WEIGHTS}")
        raise CheckpointError(f"{root.name} has no {WEIGHTS}")
    for candidate in (root / "scheduler" / "scheduler_config.json", unet / "scheduler_config.json",
                      root / "scheduler_config.json"):
        if candidate.is_file():
            return unet, candidate
    return unet, None


def schedule_from_config(config: dict[str, Any]) -> tuple[NoiseSchedule, dict[str, Any]]:
    """The :class:`NoiseSchedule` of a DDPM / DDIM scheduler config, and what else it asks of sampling.

    The second value: ``prediction_type``, ``clip_sample`` (with its range) and notes for the user
    on settings GenStudio does not follow. Raises :class:`CheckpointError` for β it cannot rebuild.
    """
    betas = config.get("beta_schedule", "linear")
    if config.get("trained_betas") is not None:
        raise CheckpointError("the scheduler lists its own β (trained_betas), which GenStudio cannot rebuild")
    if betas not in BETAS:
        raise CheckpointError(f"the scheduler's beta_schedule {betas!r} is not supported "
                              f"(GenStudio rebuilds {', '.join(BETAS)})")
    if config.get("rescale_betas_zero_snr"):
        raise CheckpointError("the scheduler rescales β to zero terminal SNR, which GenStudio does not support")
    try:
        schedule = NoiseSchedule(int(config.get("num_train_timesteps", 1000)), BETAS[betas],
                                 beta_start=float(config.get("beta_start", 1e-4)),
                                 beta_end=float(config.get("beta_end", 0.02)))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"the scheduler config cannot be used: {exc}") from None
    prediction = config.get("prediction_type", "epsilon")
    if prediction not in ("epsilon", "sample", "v_prediction"):
        raise CheckpointError(f"the scheduler's prediction_type {prediction!r} is not supported")
    notes = []
    if config.get("thresholding"):
        notes.append("dynamic thresholding is off (GenStudio's samplers do not threshold)")
    if config.get("timestep_spacing", "leading") != "leading":
        notes.append("DDIM uses GenStudio's leading spacing, not the scheduler's")
    # DDIM follows the scheduler's grid shift and last ᾱ (ddim_steps reads them from the schedule)
    schedule.steps_offset = int(config.get("steps_offset", 0) or 0)
    schedule.final_alpha_one = bool(config.get("set_alpha_to_one", True))
    variance = config.get("variance_type", "fixed_small")
    return schedule, {"prediction_type": prediction, "clip_sample": bool(config.get("clip_sample", False)),
                      "clip_sample_range": float(config.get("clip_sample_range", 1.0)),
                      "variance_type": variance, "notes": notes}


class EpsFromUNet(nn.Module):
    """A diffusers ``UNet2DModel`` as an ε-network ``(x_t, t) -> ε̂``, whatever it predicts.

    ``sample`` (x₀) and ``v_prediction`` outputs are converted with the schedule:
    ε̂ = (x_t − √ᾱ_t·x̂₀)/√(1−ᾱ_t) and ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t (Salimans & Ho 2022).
    """

    def __init__(self, unet: nn.Module, schedule: NoiseSchedule, prediction_type: str = "epsilon"):
        super().__init__()
        self.unet, self.prediction_type = unet, prediction_type
        ac = schedule.alphas_cumprod.to(torch.float32)
        self.register_buffer("sqrt_ac", ac.sqrt(), persistent=False)
        self.register_buffer("sqrt_1m_ac", (1 - ac).sqrt(), persistent=False)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.unet(x_t, t).sample  # (B, C, H, W)
        if self.prediction_type == "epsilon":
            return out
        a = self.sqrt_ac[t].view(-1, 1, 1, 1)
        s = self.sqrt_1m_ac[t].view(-1, 1, 1, 1)
        if self.prediction_type == "sample":
            return (x_t - a * out) / s
        return a * out + s * x_t  # v-prediction


class DiffusersModel(DiffusionModel):
    """A diffusers U-Net and scheduler, sampled by GenStudio's samplers like any diffusion model."""

    def __init__(self, net: nn.Module, schedule: NoiseSchedule, meta: dict[str, Any], device: torch.device,
                 shape: tuple[int, int, int], sampling: dict[str, Any]):
        super().__init__(net, schedule, meta, device)
        self.sample_shape = shape
        self.clip_x0 = sampling["clip_sample"]  # the samplers clamp x̂₀ as the scheduler would
        self.sampling = sampling

    def describe(self) -> str:
        s = self.sampling
        c, h, w = self.sample_shape
        sched = self.meta["schedule"]
        name = self.meta["data"].removeprefix("diffusers:")  # the folder: first, so an elided label keeps it
        text = (f"{name} (diffusers UNet2DModel, {c}×{h}×{w}, {sched['kind']} schedule, T={sched['num_steps']}, "
                f"predicts {s['prediction_type']}{', clips x̂₀' if self.clip_x0 else ''})")
        return text + "".join(f"; {n}" for n in s["notes"])


def load_diffusers_folder(folder: str | Path, device: torch.device) -> DiffusersModel:
    """Open ``folder`` (see the module docstring); :class:`CheckpointError` with the reason otherwise."""
    root = Path(folder)
    unet_dir, sched_path = locate(root)
    try:
        import diffusers
    except ImportError:
        raise CheckpointError(f"{root.name} is a diffusers model folder; opening it needs diffusers: "
                              f"{INSTALL_HINT}") from None
    config = _read_json(sched_path) if sched_path is not None else {}
    schedule, sampling = schedule_from_config(config)
    if sched_path is None:
        sampling["notes"].append("no scheduler config: a linear schedule with T = 1000 is assumed")
    try:
        unet = diffusers.UNet2DModel.from_pretrained(str(unet_dir), local_files_only=True, use_safetensors=True,
                                                   low_cpu_mem_usage=False)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{root.name}: the U-Net cannot be loaded: {first}") from None
    cfg = unet.config
    size = cfg.sample_size
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if cfg.in_channels != cfg.out_channels:
        raise CheckpointError(f"{root.name}: the U-Net maps {cfg.in_channels} channels to {cfg.out_channels}; "
                              "a denoiser maps an image to one of the same shape")
    if getattr(cfg, "num_class_embeds", None) or getattr(cfg, "class_embed_type", None):
        raise CheckpointError(f"{root.name}: class-conditional U-Nets are not supported yet")
    widths = [int(c) for c in cfg.block_out_channels]
    meta = {"kind": "diffusion", "format": "diffusers", "data": f"diffusers:{root.name}", "step": None,
            "seed": None, "channels": int(cfg.in_channels), "size": h,
            "models": {"eps": {"arch": "diffusers.UNet2DModel",
                               "args": {"width": widths[0], "mults": [c // widths[0] for c in widths],
                                        "layers_per_block": int(cfg.layers_per_block)}}},
            "schedule": schedule.to_meta(), "versions": {"diffusers": diffusers.__version__}}
    net = EpsFromUNet(unet, schedule, sampling["prediction_type"])
    model = DiffusersModel(net, schedule, meta, device, (int(cfg.in_channels), h, w), sampling)
    model.path = root
    return model
