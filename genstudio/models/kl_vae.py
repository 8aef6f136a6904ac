"""A small KL-regularised convolutional autoencoder: the first stage of latent diffusion.

Rombach et al. (2022, *High-Resolution Image Synthesis with Latent Diffusion Models*, §3 and
appendix G) compress an image x (H × W × 3) to a latent z (H/f × W/f × c) with an encoder E and
back with a decoder D; E outputs a diagonal Gaussian q(z|x) = N(μ, σ²) and a tiny KL term pulls it
towards N(0, I), so the latent space is smooth without forcing it to be unit-variance (the diffusion
model later divides by the latents' standard deviation, SD's 0.18215).

This is their encoder/decoder shape, small: residual blocks (GroupNorm, SiLU, 3×3 convolutions) at
each resolution, a stride-2 convolution down (encoder) and nearest-neighbour upsampling plus a
convolution up (decoder), no attention (at 16 × 16 latents it buys little and costs CPU time).
With ``mults = (1, 2, 2)`` a 64 px image becomes a 16 × 16 × ``z_channels`` latent (f = 4).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["KLAutoencoder", "DiagonalGaussian"]


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """x + conv(SiLU(GN(conv(SiLU(GN(x)))))), with a 1×1 projection when the width changes."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2, self.conv2 = _norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class DiagonalGaussian:
    """q(z|x) = N(mean, exp(logvar)) per latent element (LDM's ``DiagonalGaussianDistribution``)."""

    def __init__(self, moments: torch.Tensor):
        self.mean, logvar = moments.chunk(2, dim=1)  # (B, c, h, w) each
        self.logvar = logvar.clamp(-30.0, 20.0)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + (0.5 * self.logvar).exp() * noise

    def kl(self) -> torch.Tensor:
        """KL(q ‖ N(0, I)) summed over each item's latent elements: (B,)."""
        return 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar).flatten(1).sum(1)


class KLAutoencoder(nn.Module):
    """E: image (B, channels, S, S) → q(z|x) over (B, z_channels, S/f, S/f); D: z → image.

    Parameters
    ----------
    channels : image channels (3 for RGB).
    width : channels of the first level; level i has ``width * mults[i]``.
    mults : one entry per resolution; f = 2 ** (len(mults) − 1).
    z_channels : latent channels c (SD uses 4).
    blocks : residual blocks per level.
    """

    def __init__(self, channels: int = 3, width: int = 32, mults: tuple[int, ...] | list[int] = (1, 2, 2),
                 z_channels: int = 4, blocks: int = 1):
        super().__init__()
        mults = tuple(int(m) for m in mults)
        if not mults or width < 8 or z_channels < 1 or blocks < 1:
            raise ValueError("KLAutoencoder needs mults, width >= 8, z_channels >= 1 and blocks >= 1")
        self.channels, self.z_channels = channels, z_channels
        self.factor = 2 ** (len(mults) - 1)
        widths = [width * m for m in mults]
        # encoder: conv_in, then per level `blocks` ResBlocks and (but for the last) a stride-2 conv
        enc: list[nn.Module] = [nn.Conv2d(channels, widths[0], 3, padding=1)]
        c = widths[0]
        for i, w in enumerate(widths):
            for _ in range(blocks):
                enc.append(ResBlock(c, w))
                c = w
            if i < len(widths) - 1:
                enc.append(nn.Conv2d(c, c, 3, stride=2, padding=1))  # state size. c × S/2^(i+1)
        enc += [ResBlock(c, c), _norm(c), nn.SiLU(), nn.Conv2d(c, 2 * z_channels, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        self.quant = nn.Conv2d(2 * z_channels, 2 * z_channels, 1)  # LDM's quant_conv
        self.post_quant = nn.Conv2d(z_channels, z_channels, 1)  # LDM's post_quant_conv
        # decoder: the mirror image
        dec: list[nn.Module] = [nn.Conv2d(z_channels, widths[-1], 3, padding=1), ResBlock(widths[-1], widths[-1])]
        c = widths[-1]
        for i, w in reversed(list(enumerate(widths))):
            for _ in range(blocks):
                dec.append(ResBlock(c, w))
                c = w
            if i > 0:
                dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)]
        dec += [_norm(c), nn.SiLU(), nn.Conv2d(c, channels, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """q(z|x) for images x (B, C, S, S) in [−1, 1]; its mean is (B, z_channels, S/f, S/f)."""
        return DiagonalGaussian(self.quant(self.encoder(x)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (B, C, S, S), roughly in [−1, 1] (not clipped), from latents (B, z_channels, S/f, S/f)."""
        return self.decoder(self.post_quant(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, DiagonalGaussian]:
        """(reconstruction of x from a sample of q(z|x), q(z|x))."""
        q = self.encode(x)
        return self.decode(q.sample(generator)), q
