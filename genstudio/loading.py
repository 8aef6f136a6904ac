"""Open any GenStudio checkpoint as a ready-to-sample model (GAN or diffusion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from genstudio.checkpoint import CheckpointError, load_checkpoint
from genstudio.devices import resolve_device


def load_model(path: str | Path, device: str | torch.device = "auto", *, kind: str | None = None) -> Any:
    """A :class:`~genstudio.gan_model.GanModel` or :class:`~genstudio.diffusion_model.DiffusionModel`.

    Raises :class:`CheckpointError` with a one-line reason for anything unusable.
    """
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    path = Path(path)
    tensors, meta = load_checkpoint(path, kind=kind)
    return model_from_state(tensors, meta, dev, path.name)


def model_from_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: torch.device,
                     name: str = "") -> Any:
    """The model held by ``(tensors, meta)``: a loaded checkpoint or a training snapshot."""
    try:
        if meta["kind"] == "gan":
            from genstudio.gan_model import GanModel

            return GanModel.from_checkpoint(tensors, meta, device, name)
        from genstudio.diffusion_model import DiffusionModel

        return DiffusionModel.from_checkpoint(tensors, meta, device, name)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{name or 'the model'} cannot be used: {exc}") from None
