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


def tiny_text_model(num_steps: int = 20, size: int = 16, captions=("a red star", "a blue star", "a red circle")):
    """An untrained 16 px text-conditioned U-Net with every weight randomised (ε̂ depends on the caption)."""
    from genstudio.models.cond_unet import CondUNet
    from genstudio.text.tokenizer import Tokenizer
    from genstudio.text2image.model import Text2ImageModel

    torch.manual_seed(0)
    tok = Tokenizer.build(captions)
    args = {"channels": 1, "width": 8, "mults": [1, 2], "vocab_size": len(tok), "max_len": tok.max_len,
            "text_dim": 16, "text_layers": 1, "heads": 2, "groups": 4}
    net = CondUNet(**args)
    with torch.no_grad():
        for p in net.parameters():  # the zero-initialised outputs too, so the caption changes ε̂
            p.add_(torch.randn_like(p) * 0.1)
    meta = {"kind": "text2image", "data_kind": "images", "channels": 1, "size": size, "data": "toy",
            "step": 0, "models": {"eps": {"arch": "cond_unet", "args": args}},
            "schedule": {"kind": "linear", "num_steps": num_steps}, "text": tok.to_meta()}
    return Text2ImageModel(net, NoiseSchedule(num_steps), meta, torch.device("cpu"))


def tiny_diffusers_pipeline(folder, scheduler=None, channels: int = 3, size: int = 8, pipeline: str = "DDPMPipeline"):
    """A random 8 px diffusers UNet2DModel + scheduler saved with ``save_pretrained`` in ``folder``
    (safetensors); returns the pipeline. Needs diffusers (a test extra)."""
    import diffusers

    torch.manual_seed(0)
    unet = diffusers.UNet2DModel(sample_size=size, in_channels=channels, out_channels=channels,
                                 layers_per_block=1, block_out_channels=(8, 16), norm_num_groups=4,
                                 down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D")).eval()
    scheduler = scheduler if scheduler is not None else diffusers.DDPMScheduler(num_train_timesteps=50)
    pipe = getattr(diffusers, pipeline)(unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder)
    return pipe
