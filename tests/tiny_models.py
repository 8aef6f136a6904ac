"""Small untrained models the tests build directly (no training, no files)."""

from __future__ import annotations

import torch

from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.diffusion.model import DiffusionModel
from genstudio.models.unet import UNet


def tiny_image_model(num_steps: int = 40, channels: int = 1, size: int = 8, data: str = "digits") -> DiffusionModel:
    """An untrained 8 px U-Net whose output layer is randomised (so ε̂ is not identically 0)."""
    torch.manual_seed(0)
    net = UNet(channels=channels, width=8, mults=(1,), attention=False, groups=4)
    with torch.no_grad():
        net.conv_out.weight.normal_(0, 0.05)
    meta = {"kind": "diffusion", "data_kind": "images", "channels": channels, "size": size, "data": data,
            "step": 0, "models": {"eps": {"arch": "unet", "args": {}}},
            "schedule": {"kind": "linear", "num_steps": num_steps}}
    return DiffusionModel(net, NoiseSchedule(num_steps), meta, torch.device("cpu"))
