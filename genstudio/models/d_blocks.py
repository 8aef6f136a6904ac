"""What a GAN discriminator can be built with against mode collapse (used by the MLP and DCGAN D's).

* :class:`MinibatchStdDev` — Karras et al., *Progressive Growing of GANs* (2018), §3: the standard
  deviation of each feature over a group of samples, averaged to one number and appended as one more
  feature (or channel). A batch of near-identical fakes has a small value where real data has a large
  one, so D can see a collapsed batch and G is pushed to spread out.
* :func:`with_spectral_norm` — Miyato et al., *Spectral Normalization for GANs* (2018): every
  linear and convolution weight W is divided by its largest singular value σ(W) (one power
  iteration per forward, ``torch.nn.utils.parametrizations.spectral_norm``), so each layer is
  1-Lipschitz and D cannot grow sharp enough to push all of G's samples onto one mode.
"""

from __future__ import annotations

import torch
from torch import nn


class MinibatchStdDev(nn.Module):
    """Append the mean over features of the per-feature std over groups of ``group`` samples.

    (B, F) → (B, F + 1), or (B, C, H, W) → (B, C + 1, H, W). A batch that ``group`` does not
    divide uses one group of the whole batch (as at batch 1 the std is 0).
    """

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        if group < 2:
            raise ValueError(f"minibatch std needs groups of at least 2 samples, not {group}")
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        g = self.group if b % self.group == 0 else b
        y = x.float().reshape(g, -1, *x.shape[1:])  # (G, B/G, F…): sample i of each group together
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (B/G, F…) per feature, over the group
        s = std.reshape(std.shape[0], -1).mean(dim=1)  # (B/G,) one number per group
        s = s.repeat(g).to(x.dtype)  # (B,) back to each sample of its group
        if x.ndim == 2:
            return torch.cat([x, s[:, None]], dim=1)  # (B, F + 1)
        return torch.cat([x, s.view(b, 1, 1, 1).expand(b, 1, *x.shape[2:])], dim=1)  # (B, C + 1, H, W)


def with_spectral_norm(module: nn.Module) -> nn.Module:
    """``module`` with spectral normalisation on every ``Linear`` and ``Conv2d`` weight (in place)."""
    from torch.nn.utils.parametrizations import spectral_norm

    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Linear, nn.Conv2d)):
            setattr(module, name, spectral_norm(child))
        else:
            with_spectral_norm(child)
    return module
