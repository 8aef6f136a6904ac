"""A small style-based generator: StyleGAN2's (Karras et al. 2020, *Analyzing and Improving the Image
Quality of StyleGAN*) mapping network, modulated / demodulated convolutions, per-pixel noise and
toRGB skips, at 16–64 px.

* **Mapping** f: z → w, an MLP of ``mapping_layers`` equalised-learning-rate layers (lr × 0.01, as
  the paper) after z is pixel-normalised. w is broadcast to ``num_ws`` per-layer copies, one per
  style input, so style mixing and truncation act per layer.
* **Synthesis** g: a learned constant 4×4 input, then per resolution (8, 16, …, size) an upsampling
  modulated 3×3 conv and a plain one. Each conv's style ``s = A(w)`` (an affine layer) scales its
  input channels, the conv runs, and *demodulation* divides each output channel by
  ``sqrt(Σ (w·s)² + ε)``, so unit-variance input gives unit-variance output (the paper's eq. 3; we run
  the non-fused form: scale activations, shared conv, scale outputs — the same numbers, and fast
  on a CPU because the batch shares one conv). Then per-pixel noise times a learned per-channel
  strength, a bias and leaky ReLU (× √2).
* **toRGB skips**: every resolution from ``skips_from`` up adds a 1×1 modulated (not demodulated) conv
  of its features to the upsampled image so far (StyleGAN2's skip generator). ``skips_from`` 4 is the
  paper's (a toRGB at every resolution); GenStudio's runs start them at 16² (below: why); ``size``
  leaves only the last toRGB, StyleGAN1's output.

Style index i of ``ws`` (B, num_ws, w_dim) feeds conv layer i; toRGB at a resolution reads the
index after that resolution's last conv. So at 64 px: conv layers 0 (4²), 1–2 (8²), 3–4 (16²),
5–6 (32²), 7–8 (64²) and ``num_ws`` = 10, whatever ``skips_from``.

Why the skips start at 16² (issue #18): with a toRGB at 4² and 8², a small generator trained for an
hour paints the head's colours (skin, hair) at 4²–8², so the coarse styles carry them and style
mixing's coarse band moves colour with the layout — not what the StyleGAN paper shows. Without a
toRGB there, the coarse styles can only shape features; in the 64 px bundle the colours then come from
the middle styles (at 32 px in one of two runs: the README's style-mixing section has the numbers). At 1024 px the paper's generator gets there by itself: its low
resolutions' share of the picture shrinks as it trains (StyleGAN2, Fig. 8).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["StyleGenerator", "ModulatedConv2d", "EqualLinear", "channels_for", "layer_resolutions"]

SQRT2 = math.sqrt(2.0)
SKIP_RESOLUTIONS = (4, 8, 16, 32, 64)  # where the toRGB skips may start


def channels_for(res: int, width: int) -> int:
    """Channels at resolution ``res``: ``width`` up to 16², then halved per doubling (at least 16)."""
    return max(16, width // max(1, res // 16)) if res > 16 else width


def layer_resolutions(size: int) -> list[int]:
    """The resolution of each conv layer (style index): [4, 8, 8, 16, 16, …, size, size]."""
    out = [4]
    res = 8
    while res <= size:
        out += [res, res]
        res *= 2
    return out


class EqualLinear(nn.Module):
    """Linear with the equalised learning rate of Karras et al. (2018): weights ~ N(0, 1/lr_mul) scaled at
    run time by lr_mul/√fan_in, so Adam sees every layer at the same scale."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(y, 0.2) * SQRT2 if self.activate else y


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated conv: input channels scaled by the style s = A(w), an equalised k×k conv,
    then each output channel divided by its weights' norm under s (demodulation) when ``demodulate``."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, w_dim: int, demodulate: bool = True,
                 up: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)  # A: styles start at 1
        self.demodulate, self.up, self.padding = demodulate, up, kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        s = self.affine(w)  # (B, in) the style
        weight = self.weight * self.scale  # (out, in, k, k)
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (B, in, 2H, 2W)
        y = F.conv2d(x * s[:, :, None, None], weight, padding=self.padding)  # (B, out, H, W)
        if self.demodulate:  # σ_j = sqrt(Σ_{i,k} (w_ijk · s_i)²): eq. 3, per sample and output channel
            d = torch.rsqrt(s.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8)  # (B, out)
            y = y * d[:, :, None, None]
        return y


class StyledLayer(nn.Module):
    """Modulated 3×3 conv → + noise × per-channel strength → + bias → leaky ReLU × √2."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, up: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(out_ch))  # learned per channel, from 0
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        y = self.conv(x, w)  # (B, out, H, W)
        if noise is not None:  # (B or 1, 1, H, W) per-pixel noise, the same for every channel
            y = y + noise * self.noise_strength[None, :, None, None]
        return F.leaky_relu(y + self.bias[None, :, None, None], 0.2) * SQRT2


class ToRGB(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class StyleGenerator(nn.Module):
    """G(z) = g(f(z)). ``nz`` is z's size (the latent explorer's ``G.nz``); ``w_dim`` w's.

    ``forward(z)`` → (B, nc, size, size), unbounded (≈ [-1, 1] once trained, like DCGAN's tanh-free
    StyleGAN output). :meth:`synthesis` takes per-layer ws, noise and returns the features too.
    """

    #: GANSpace's layer for z directions (:func:`genstudio.latent.default_layer`): the mapping's output w,
    #: as Härkönen et al. do for StyleGAN — not the picture, which costs a full synthesis per draw.
    ganspace_layer = "mapping"
    ganspace_label = "w = f(z)"  # how the Directions list names it

    def __init__(self, nz: int = 128, w_dim: int = 128, mapping_layers: int = 4, width: int = 128,
                 nc: int = 3, size: int = 64, skips_from: int = 4):
        super().__init__()
        if size not in (16, 32, 64):
            raise ValueError(f"the style generator is built for 16, 32 or 64 px, not {size}")
        if skips_from not in SKIP_RESOLUTIONS or skips_from > size:
            raise ValueError(f"toRGB skips start at a resolution of the generator (4, 8, … {size}), not {skips_from}")
        self.nz, self.w_dim, self.size, self.nc, self.width = nz, w_dim, size, nc, width
        self.skips_from = skips_from
        layers = [EqualLinear(nz, w_dim, lr_mul=0.01, activate=True)]
        layers += [EqualLinear(w_dim, w_dim, lr_mul=0.01, activate=True) for _ in range(mapping_layers - 1)]
        self.mapping = nn.Sequential(*layers)
        self.resolutions = layer_resolutions(size)  # per conv layer (style index)
        self.num_layers = len(self.resolutions)
        self.num_ws = self.num_layers + 1  # the last toRGB reads one more
        self.const = nn.Parameter(torch.randn(1, width, 4, 4))  # the learned constant input
        convs, rgbs = [StyledLayer(width, width, w_dim)], [ToRGB(width, nc, w_dim)] if skips_from == 4 else []
        prev, res = width, 8
        while res <= size:
            ch = channels_for(res, width)
            convs += [StyledLayer(prev, ch, w_dim, up=True), StyledLayer(ch, ch, w_dim)]
            if res >= skips_from:
                rgbs.append(ToRGB(ch, nc, w_dim))
            prev, res = ch, res * 2
        self.convs, self.to_rgbs = nn.ModuleList(convs), nn.ModuleList(rgbs)
        self.register_buffer("w_avg", torch.zeros(w_dim))  # mean w (truncation), set from many draws

    def map(self, z: torch.Tensor) -> torch.Tensor:
        """f(z): (B, nz) → w (B, w_dim); z is pixel-normalised first (StyleGAN's mapping input)."""
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        return self.mapping(z)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """(B, w_dim) → (B, num_ws, w_dim): the same w for every layer."""
        return w[:, None, :].expand(-1, self.num_ws, -1)

    def truncate(self, ws: torch.Tensor, psi: float) -> torch.Tensor:
        """The truncation trick in W: w_avg + ψ (w − w_avg) (Karras et al. 2019, §B)."""
        return torch.lerp(self.w_avg.to(ws.dtype), ws, psi) if psi != 1 else ws

    def synthesis(self, ws: torch.Tensor, noise: list | str = "random", *, features: bool = False
                  ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """g(ws): ws (B, num_ws, w_dim) → image (B, nc, size, size).

        ``noise``: "random" (fresh per call, as in training), "none", or a list with one entry per
        conv layer of a (1 or B, 1, H, W) tensor or None (that layer without noise).
        With ``features`` also returns each conv layer's output (B, C_i, H_i, W_i).
        """
        b = ws.shape[0]
        x = self.const.expand(b, -1, -1, -1)  # (B, width, 4, 4)
        feats: list[torch.Tensor] = []
        img = None
        first = len(self.convs) // 2 + 1 - len(self.to_rgbs)  # the resolution (0 = 4²) of the first toRGB
        for i, layer in enumerate(self.convs):
            x = layer(x, ws[:, i], self._noise(noise, i, x, b))
            feats.append(x)
            if i % 2 == 0 and i // 2 >= first:  # the last conv of a resolution with a skip: add its toRGB
                rgb = self.to_rgbs[i // 2 - first](x, ws[:, i + 1])  # (B, nc, H, W)
                img = rgb if img is None else F.interpolate(img, scale_factor=2, mode="bilinear",
                                                            align_corners=False) + rgb
        return (img, feats) if features else img

    def _noise(self, noise: list | str, i: int, x: torch.Tensor, b: int) -> torch.Tensor | None:
        res = self.resolutions[i]
        if noise == "random":
            return torch.randn(b, 1, res, res, device=x.device, dtype=x.dtype)
        if noise == "none":
            return None
        n = noise[i]
        return None if n is None else n.to(x.device, x.dtype)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.broadcast(self.map(z)))
