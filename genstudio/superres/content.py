"""The content loss of SRGAN in a feature space that needs no download (Ledig et al. §2.2.1 use
VGG19's, which cannot be fetched here).

``content`` setting (``--content``), the feature map φ and where it comes from:

* ``mse`` — the pixels themselves: the pixel-wise MSE of SRResNet (the paper's SRGAN-MSE);
* ``random`` — a fixed, randomly initialised VGG-style CNN (He-initialised, never trained), which
  works as a perceptual loss (arXiv 2103.10571); its weights come from a seed and are kept in the
  checkpoint;
* ``ae`` — the encoder of a small convolutional autoencoder trained on the run's own training
  images before the first step (``ae_steps`` steps), then frozen: features of this data set;
* ``disc`` — the discriminator's own features after each stride-2 block (feature matching,
  Salimans et al. 2016), which change as D trains;
* ``vgg19:PATH`` — a user's VGG19 ``.safetensors`` (torchvision's key names, ``features.N.weight``
  or ``N.weight``): φ5,4, the paper's choice, on ImageNet-normalised inputs.

Every feature loss is the mean squared feature difference divided by the mean squared HR feature
of a fixed batch, measured once when the run starts (the paper rescales VGG features by 1/12.75
for the same reason: so that 10⁻³ × the adversarial loss has the weight it had in the paper
relative to a content loss of order one relative error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.config import ConfigError

KINDS = ("mse", "random", "ae", "disc", "vgg19:PATH")
RANDOM_SEED = 2103_10571  # the random-feature CNN's weights (arXiv 2103.10571)
# VGG19's "features" (torchvision layout): convs (channels), "M" max-pools
_VGG19 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
_VGG54_END = 36  # features[:36] ends at relu5_4 (φ5,4), before the last pool
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def check_kind(kind: str) -> str:
    """``kind`` if it is a content loss this module offers; ConfigError naming the choices."""
    if kind in KINDS[:-1] or (kind.startswith("vgg19:") and len(kind) > 6):
        return kind
    raise ConfigError(f"content loss must be one of {', '.join(KINDS)}, not {kind!r}", field="extra")


def feature_cnn(channels: int, width: int = 32) -> nn.Sequential:
    """A small VGG-style feature CNN: 2 × (conv3, ReLU), stride-2 conv3, ReLU, 2 × (conv3, ReLU)."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1))  # (B, 2w, H/2, W/2), linear last: no dead units


def random_cnn(channels: int) -> nn.Sequential:
    """The fixed random-feature CNN, He-initialised from :data:`RANDOM_SEED` (same on every machine)."""
    gen = torch.Generator().manual_seed(RANDOM_SEED)
    net = feature_cnn(channels)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * 9
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                m.bias.zero_()
    return net


def train_autoencoder(images: torch.Tensor, steps: int, seed: int, batch: int = 32) -> nn.Sequential:
    """Train a feature CNN as the encoder of an autoencoder on ``images`` (N, C, H, W); return the encoder."""
    gen = torch.Generator().manual_seed(seed + 17)
    c = images.shape[1]
    torch.manual_seed(seed + 17)
    enc = feature_cnn(c).to(images.device)
    dec = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
                        nn.Conv2d(32, c, 3, padding=1)).to(images.device)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(images.shape[0], (min(batch, images.shape[0]),), generator=gen)
        x = images[idx.to(images.device)]
        loss = F.mse_loss(dec(enc(x)), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return enc


def vgg19_features(path: str, channels: int) -> nn.Sequential:
    """VGG19's ``features[:36]`` (to relu5_4) with the weights of a user's ``.safetensors`` file."""
    from safetensors.torch import load_file

    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"vgg19: no such file {p}", field="extra")
    layers: list[nn.Module] = []
    c_in = 3
    for v in _VGG19:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, int(v), 3, padding=1), nn.ReLU(inplace=False)]
            c_in = int(v)
    net = nn.Sequential(*layers[:_VGG54_END])
    try:
        raw = load_file(str(p))
    except Exception as exc:  # noqa: BLE001 - not safetensors, damaged
        raise ConfigError(f"vgg19: {p.name} is not a readable .safetensors file ({exc})", field="extra") from None
    state = {k.removeprefix("features."): v for k, v in raw.items() if k.removeprefix("features.")[:1].isdigit()}
    own = net.state_dict()
    missing = [k for k in own if k not in state or tuple(state[k].shape) != tuple(own[k].shape)]
    if missing:
        raise ConfigError(f"vgg19: {p.name} does not hold VGG19's features ({missing[0]} missing or "
                          "of another shape)", field="extra")
    net.load_state_dict({k: state[k].float() for k in own})
    mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
    return nn.Sequential(_ImageNetInput(mean, std, channels), net)


class _ImageNetInput(nn.Module):
    """[-1, 1] → ImageNet-normalised RGB (gray repeated to 3 channels)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, channels: int):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x + 1) / 2
        if self.channels == 1:
            x = x.repeat(1, 3, 1, 1)
        return (x - self.mean) / self.std


def feature_loss(phi: Callable[[torch.Tensor], list[torch.Tensor] | torch.Tensor], scale: float
                 ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """(SR, HR) → scale · Σ_layers mean (φ(SR) − φ(HR))², HR's features not differentiated."""
    def loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        fs = _as_list(phi(sr))
        with torch.no_grad():  # a target: no graph through φ (with D's features, one D pass a step less)
            fh = _as_list(phi(hr))
        return scale * sum(F.mse_loss(a.float(), b.float()) for a, b in zip(fs, fh))
    return loss


def feature_scale(phi: Callable[[torch.Tensor], list[torch.Tensor] | torch.Tensor], hr: torch.Tensor) -> float:
    """1 / Σ_layers mean φ(HR)² on a fixed batch: makes the content loss a relative feature error."""
    with torch.no_grad():
        energy = sum(float(f.float().pow(2).mean()) for f in _as_list(phi(hr)))
    return 1.0 / max(energy, 1e-8)


def _as_list(f: list[torch.Tensor] | torch.Tensor) -> list[torch.Tensor]:
    return f if isinstance(f, list) else [f]
