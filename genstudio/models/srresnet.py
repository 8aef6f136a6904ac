"""SRResNet and the SRGAN discriminator (Ledig et al. 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network", arXiv 1609.04802, figure 4).

Generator (SRResNet), ×4:

    9×9 conv, PReLU                                   (B, w, h, w')      the LR image's features
    B residual blocks: conv3-BN-PReLU-conv3-BN + skip  (B, w, h, w')
    conv3-BN, + the output of the first conv           (B, w, h, w')      the long skip
    2 × [conv3 (w → 4w), PixelShuffle ×2, PReLU]       (B, w, 4h, 4w')    sub-pixel upsampling (Shi et al. 2016)
    9×9 conv → C channels                              (B, C, 4h, 4w')

The paper's network is 64 channels × 16 blocks (≈1.5 M parameters); the default here is 32 × 6
(≈0.2 M), which trains on a CPU in minutes. The output is not squashed (the paper's is linear too);
callers clamp to [-1, 1] for display.

One deviation, on by default (``bicubic_skip``): the network's output is added to the bicubic
up-sampling of its input, so it learns the residual HR − bicubic (global residual learning, Kim et
al. 2016, VDSR). Measured on shapes (16 ch × 2 blocks, 150 steps): −3.6 dB against bicubic without
it, +0.3 dB with it; a CPU-sized run does not have the paper's 10⁶ steps to learn to copy the
image first. ``bicubic_skip=False`` is the paper's network exactly (no parameters differ).

Discriminator: the paper's strided VGG-style net, eight 3×3 convs of w, w, 2w, 2w, 4w, 4w, 8w, 8w
channels with stride 2 on every second one, LeakyReLU(0.2), BN after all but the first, then a dense
head. The paper's head is dense 1024 on the flattened 6×6×512 map; at 16–64 px it is a global
average pool, then dense 16w, LeakyReLU, dense 1 (a logit: the BCE losses take logits).

Patch discriminator (``sr_patch_d``, SRGAN's ``--d-arch patch``): PatchGAN (Isola et al. 2017,
pix2pix's n_layers = 2): 4×4 convs of w (stride 2), 2w (stride 2), 4w (stride 1), then 1, LeakyReLU(0.2),
BN after all but the first and the last: one logit for each 34 × 34 px patch (14 × 14 of them at
64 px), so D judges local edges and texture rather than the whole face.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCALE = 4  # two ×2 sub-pixel stages


class ResidualBlock(nn.Module):
    """conv3-BN-PReLU-conv3-BN, added to its input (the paper's B residual blocks)."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.PReLU(width),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SubPixelUp(nn.Module):
    """conv3 (w → 4w), PixelShuffle ×2, PReLU: (B, w, h, w') → (B, w, 2h, 2w')."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(width, width * 4, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.act = nn.PReLU(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shuffle(self.conv(x)))


class SRResNet(nn.Module):
    """The ×4 generator. ``channels`` 1 or 3; ``width`` feature channels; ``blocks`` residual blocks B."""

    scale = SCALE

    def __init__(self, channels: int = 3, width: int = 32, blocks: int = 6, bicubic_skip: bool = True):
        super().__init__()
        if not isinstance(bicubic_skip, bool):
            raise ValueError(f"bicubic_skip must be true or false, not {bicubic_skip!r}")
        self.bicubic_skip = bicubic_skip
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {channels}")
        if not 1 <= width <= 256 or not 1 <= blocks <= 64:
            raise ValueError(f"width must lie in [1, 256] and blocks in [1, 64], not {width} and {blocks}")
        self.channels, self.width, self.blocks = channels, width, blocks
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU(width))
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.body_end = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))
        self.up = nn.Sequential(SubPixelUp(width), SubPixelUp(width))
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        h = self.head(lr)  # (B, w, h, w')
        h = h + self.body_end(self.body(h))  # the long skip
        sr = self.tail(self.up(h))  # (B, C, 4h, 4w')
        if self.bicubic_skip:
            sr = sr + F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False)
        return sr

    @property
    def receptive_radius(self) -> int:
        """LR pixels on each side that reach one output pixel (a tile's overlap for exact tiling).

        9×9 head: 4; two 3×3 per block: 2B; the body's last conv: 1; the first ×2 stage's conv: 1;
        the second's (at ×2): ½; the 9×9 tail (at ×4): 1. Rounded up.
        """
        return 4 + 2 * self.blocks + 1 + 1 + 1 + 1


def _conv_block(c_in: int, c_out: int, stride: int, bn: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2))
    return layers


def _checked_d_args(channels: int, width: int) -> tuple[int, int]:
    """A discriminator's (channels, width), refused outside 1 or 3 channels and widths 1–256."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    if not 1 <= width <= 256:
        raise ValueError(f"width must lie in [1, 256], not {width}")
    return channels, width


class SRDiscriminator(nn.Module):
    """The strided VGG-style D: (B, C, H, W) → (B,) logits. ``features(x)`` is its last conv map."""

    def __init__(self, channels: int = 3, width: int = 32):
        super().__init__()
        self.channels, self.width = _checked_d_args(channels, width)
        plan = [(channels, width, 1), (width, width, 2), (width, 2 * width, 1), (2 * width, 2 * width, 2),
                (2 * width, 4 * width, 1), (4 * width, 4 * width, 2), (4 * width, 8 * width, 1),
                (8 * width, 8 * width, 2)]
        layers: list[nn.Module] = []
        for i, (c_in, c_out, stride) in enumerate(plan):
            layers += _conv_block(c_in, c_out, stride, bn=i > 0)
        self.trunk = nn.Sequential(*layers)  # (B, 8w, H/16, W/16)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8 * width, 16 * width),
                                  nn.LeakyReLU(0.2), nn.Linear(16 * width, 1))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The maps after each stride-2 block (feature matching's content space)."""
        out = []
        for i, layer in enumerate(self.trunk):
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU) and self._ends_stride2(i):
                out.append(x)
        return out

    def _ends_stride2(self, i: int) -> bool:
        j = i
        while j >= 0 and not isinstance(self.trunk[j], nn.Conv2d):
            j -= 1
        return self.trunk[j].stride == (2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)).view(-1)  # (B,)


class PatchDiscriminator(nn.Module):
    """PatchGAN D: (B, C, H, W) → (B, P) logits, one per overlapping 34 × 34 px patch (P = 14² at 64 px)."""

    receptive_field = 34  # 4×4 s1 → 4, 4×4 s1 → 7, 4×4 s2 → 16, 4×4 s2 → 34

    def __init__(self, channels: int = 3, width: int = 32):
        super().__init__()
        self.channels, self.width = _checked_d_args(channels, width)
        self.stages = nn.ModuleList([
            nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)),  # (B, w, H/2, W/2)
            nn.Sequential(nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width),
                          nn.LeakyReLU(0.2)),  # (B, 2w, H/4, W/4)
            nn.Sequential(nn.Conv2d(2 * width, 4 * width, 4, 1, 1), nn.BatchNorm2d(4 * width),
                          nn.LeakyReLU(0.2))])  # (B, 4w, H/4 − 1, W/4 − 1)
        self.head = nn.Conv2d(4 * width, 1, 4, 1, 1)  # (B, 1, H/4 − 2, W/4 − 2)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The map after each stage (feature matching's content space)."""
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[-1]).flatten(1)  # (B, P)
