"""Model registry: architectures by name, so a checkpoint can say what to rebuild.

A checkpoint stores ``{"arch": name, "args": {...}}`` per model; :func:`build` turns that back
into a module *before* any weight is read, and refuses names it does not know.
"""

from __future__ import annotations

import importlib
from typing import Any

from torch import nn

# name -> "module:Class" (imported lazily so a GAN user never imports the U-Net, and vice versa)
ARCHS: dict[str, str] = {
    "dcgan_g": "genstudio.models.dcgan:DCGANGenerator",
    "dcgan_d": "genstudio.models.dcgan:DCGANDiscriminator",
    "mlp_g": "genstudio.models.mlp:MLPGenerator",
    "mlp_d": "genstudio.models.mlp:MLPDiscriminator",
    "unet": "genstudio.models.unet:UNet",
    "mlp_eps": "genstudio.models.eps_mlp:EpsMLP",
    "cond_unet": "genstudio.models.cond_unet:CondUNet",  # text-to-image: U-Net + its text encoder
    "srresnet": "genstudio.models.srresnet:SRResNet",
    "srgan_g": "genstudio.models.srresnet:SRResNet",  # the same network, trained as SRGAN's generator
    "sr_d": "genstudio.models.srresnet:SRDiscriminator",
    "stylegan_g": "genstudio.models.stylegan:StyleGenerator",  # StyleGAN2-style, small
    "stylegan_d": "genstudio.models.stylegan_d:ResidualDiscriminator",
    "kl_vae": "genstudio.models.kl_vae:KLAutoencoder",  # latent diffusion's first stage (autoencoder family)
    "ldm_unet": "genstudio.models.cond_unet:CondUNet",  # text2image's network, trained on latents (ldm family)
    "sr_patch_d": "genstudio.models.srresnet:PatchDiscriminator",  # SRGAN's --d-arch patch
}


def build(arch: str, args: dict[str, Any]) -> nn.Module:
    """Instantiate architecture ``arch`` with keyword ``args``; ValueError for unknown names/args."""
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r} (known: {', '.join(sorted(ARCHS))})")
    module_name, cls_name = ARCHS[arch].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    try:
        return cls(**args)
    except TypeError as exc:  # wrong or missing argument names from a foreign file
        raise ValueError(f"architecture {arch!r} cannot be built with {args}: {exc}") from None

