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


def tiny_sd_pipeline(folder, scheduler=None, size: int = 32):
    """A random Stable Diffusion pipeline (CLIP text encoder and a tokenizer made from a vocabulary
    written here, a UNet2DConditionModel, an AutoencoderKL that halves twice: 32 px pictures, 8×8×4
    latents) saved with ``save_pretrained`` (safetensors) in ``folder``; returns the pipeline.
    Needs diffusers and transformers (test extras)."""
    import json

    import diffusers
    import transformers

    words = ["a", "red", "blue", "green", "circle", "square", "cat", "dog", "on", "the", "big", "small"]
    vocab_dir = folder.parent / f"{folder.name}-vocab"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    letters = sorted({c for w in words for c in w})
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in letters:  # every single letter, alone and word-final, so any word of them tokenises
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    for w in words:
        vocab.setdefault(w + "</w>", len(vocab))
    merges = []
    for w in words:  # merge each word left to right: r e → re, re d</w> → red</w>
        parts = list(w[:-1]) + [w[-1] + "</w>"]
        while len(parts) > 1:
            merges.append(f"{parts[0]} {parts[1]}")
            vocab.setdefault(parts[0] + parts[1], len(vocab))
            parts = [parts[0] + parts[1]] + parts[2:]
    merges = list(dict.fromkeys(merges))
    (vocab_dir / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (vocab_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tokenizer = transformers.CLIPTokenizer(str(vocab_dir / "vocab.json"), str(vocab_dir / "merges.txt"),
                                           model_max_length=16)
    torch.manual_seed(0)
    text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1)).eval()
    unet = diffusers.UNet2DConditionModel(
        sample_size=size // 4, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
        norm_num_groups=4, cross_attention_dim=16, attention_head_dim=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D")).eval()
    vae = diffusers.AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 8),
                                  norm_num_groups=4, layers_per_block=1, sample_size=size,
                                  down_block_types=("DownEncoderBlock2D",) * 3,
                                  up_block_types=("UpDecoderBlock2D",) * 3).eval()
    scheduler = scheduler if scheduler is not None else diffusers.DDIMScheduler(
        num_train_timesteps=100, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
        clip_sample=False, set_alpha_to_one=False, steps_offset=1)  # Stable Diffusion 1.x's settings, T = 100
    offset = scheduler.config.get("steps_offset")  # the pipeline bumps an "outdated" 0 to 1: keep what was asked
    pipe = diffusers.StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                             scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                             requires_safety_checker=False)
    if offset is not None:
        pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, steps_offset=offset)
    pipe.set_progress_bar_config(disable=True)
    pipe.save_pretrained(folder, safe_serialization=True)
    return pipe
