"""Open any GenStudio checkpoint as a ready-to-sample model (of any registered family: GAN, diffusion, …)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from genstudio.checkpoint import CheckpointError, load_checkpoint
from genstudio.devices import resolve_device


def load_model(path: str | Path, device: str | torch.device = "auto", *, kind: str | None = None,
               raw: bool = False) -> Any:
    """A :class:`~genstudio.gan.model.GanModel` or :class:`~genstudio.diffusion.model.DiffusionModel`.

    ``path`` may also be a diffusers model folder (:mod:`genstudio.interop.diffusers_folder`) or a Stable
    Diffusion pipeline folder (:mod:`genstudio.interop.sd_pipeline`). ``raw``: the weights the run
    trained rather than their moving average (which a family samples with when the run kept one).

    Raises :class:`CheckpointError` with a one-line reason for anything unusable.
    """
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    path = Path(path)
    if path.is_dir():  # a diffusers model folder (UNet2DModel + scheduler); a run folder is no model
        if raw:
            raise CheckpointError(f"{path.name} is a diffusers folder: it holds one set of weights, not raw and averaged")
        from genstudio.interop.diffusers_folder import is_diffusers_folder, load_diffusers_folder
        from genstudio.interop.sd_pipeline import is_sd_folder, load_sd_folder

        if is_sd_folder(path):  # a Stable Diffusion pipeline: text encoder, VAE, U-Net
            return load_sd_folder(path, dev)
        if is_diffusers_folder(path):
            return load_diffusers_folder(path, dev)
        raise CheckpointError(_not_a_model(path))
    tensors, meta = load_checkpoint(path, kind=kind)
    if raw:
        tensors = _raw_weights(tensors, meta, path.name)
    model = model_from_state(tensors, meta, dev, path.name)
    model.path = path  # the file it came from (SRGAN's "fine-tune from this SRResNet" needs it)
    return model


def _raw_weights(tensors: dict[str, torch.Tensor], meta: dict[str, Any], name: str) -> dict[str, torch.Tensor]:
    """``tensors`` without the averaged weights, so the family loads the raw ones; an error when the file
    kept only the average (an exported file keeps what sampling uses)."""
    from genstudio.families import get_family

    *averaged, trained = get_family(meta["kind"]).sampling_weights  # e.g. ("ema/G/",), "model/G/"
    if not any(k.startswith(trained) for k in tensors):
        raise CheckpointError(f"{name} holds only the averaged weights (an exported file keeps what sampling "
                              f"uses): the raw ones are in the run's own checkpoints")
    return {k: v for k, v in tensors.items() if not k.startswith(tuple(averaged))}


def kind_of(path: str | Path) -> str:
    """The model kind ``path`` holds, from its header alone (a diffusers model folder: "diffusion"; a
    Stable Diffusion pipeline folder: "text2image")."""
    from genstudio.checkpoint import read_header

    path = Path(path)
    if path.is_dir():
        from genstudio.interop.diffusers_folder import is_diffusers_folder
        from genstudio.interop.sd_pipeline import is_sd_folder

        if is_sd_folder(path):
            return "text2image"
        if is_diffusers_folder(path):
            return "diffusion"
        raise CheckpointError(_not_a_model(path))
    return read_header(path)["kind"]


def _not_a_model(folder: Path) -> str:
    return f"{folder.name} is a folder: open a checkpoint file (.safetensors), or a diffusers model folder"


def model_from_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                     name: str = "") -> Any:
    """The model held by ``(tensors, meta)``: a loaded checkpoint or a training snapshot."""
    try:
        from genstudio.families import get_family

        return get_family(meta["kind"]).model_from_state(tensors, meta, device, name)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{name or 'the model'} cannot be used: {exc}") from None
