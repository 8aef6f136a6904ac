"""An MLP ε-network for 2-D point data: ε_θ(x_t, t) with x (B, 2), as in Ho et al. (2020).

The timestep enters through the sinusoidal embedding of Vaswani et al. (2017), projected by a
small MLP and added to every hidden layer (the 1-D analogue of the U-Net's per-block time input).
Hidden layers are residual: h ← h + SiLU(W h + b + W_t·temb).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genstudio.models.unet import sinusoidal_embedding


class EpsMLP(nn.Module):
    """ε_θ(x_t, t): (B, dim), (B,) → (B, dim).

    Parameters
    ----------
    dim : int
        Data dimension (2 for the point sets).
    hidden : int
        Width of the hidden layers.
    depth : int
        Number of hidden (residual) layers.
    t_dim : int
        Size of the sinusoidal timestep embedding.
    """

    def __init__(self, dim: int = 2, hidden: int = 256, depth: int = 4, t_dim: int = 64):
        super().__init__()
        self.dim, self.hidden, self.t_dim = dim, hidden, t_dim
        self.time_mlp = nn.Sequential(nn.Linear(t_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Linear(dim, hidden)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.time_proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.out = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # the time path runs once per distinct t (a sampler's batch shares one t: half the work)
        t_unique, inverse = torch.unique(t, return_inverse=True)  # (U,), (B,)
        temb = F.silu(self.time_mlp(sinusoidal_embedding(t_unique, self.t_dim)))  # (U, hidden)
        h = self.inp(x)  # (B, hidden)
        for layer, proj in zip(self.layers, self.time_proj):
            h = h + F.silu(layer(h) + proj(temb)[inverse])  # (B, hidden)
        return self.out(h)  # (B, dim)
