"""Classifier-free guidance at the ε level (Ho & Salimans 2022, "Classifier-Free Diffusion Guidance").

One conditional network predicts both ε̂_c = ε_θ(x_t, t, c) and ε̂_∅ = ε_θ(x_t, t, ∅) (∅: the null
caption it was trained with for a share of items), and sampling follows

    ε̂ = ε̂_∅ + s·(ε̂_c − ε̂_∅)

**The scale convention here is s**: s = 0 is the unconditional model, s = 1 the plain conditional
one, s > 1 pushes further along the guidance direction ε̂_c − ε̂_∅. The paper writes
ε̃ = (1 + w)·ε̂_c − w·ε̂_∅, so s = 1 + w; diffusers' ``guidance_scale`` is the same number as s.
A negative prompt takes the place of ∅ (ε̂_∅ is then the negative prompt's prediction).

:class:`GuidedEps` wraps a *pair* ε-function (both halves in one batched forward of 2N rows) as the
plain ``eps_model(x_t, t)`` every registered sampler takes, so the samplers' arithmetic is
untouched; after each call it keeps the step's guidance direction for the recording.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["DEFAULT_GUIDANCE", "SCALE_CONVENTION", "GuidedEps", "check_guidance"]

DEFAULT_GUIDANCE = 3.0
#: One sentence for help texts and the UI.
SCALE_CONVENTION = ("s: ε̂ = ε̂_∅ + s·(ε̂_c − ε̂_∅); 0 = unconditional, 1 = conditional, >1 = stronger "
                    "(the paper's w is s − 1; diffusers' guidance_scale = s)")
MAX_GUIDANCE = 100.0

#: ``pair_eps(x (2N, ...), t (2N,)) -> ε̂ (2N, ...)``: rows 0…N−1 conditional, N…2N−1 unconditional.
PairEps = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def check_guidance(scale: float) -> float:
    """``scale`` if it is a guidance scale a sampler takes (finite, 0 … 100); ValueError otherwise."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale) \
            or not 0 <= scale <= MAX_GUIDANCE:
        raise ValueError(f"guidance must be a number from 0 to {MAX_GUIDANCE:g}, not {scale!r}")
    return float(scale)


class GuidedEps:
    """``eps_model(x_t, t)`` with classifier-free guidance of scale ``scale``.

    Each call runs ``pair_eps`` once on the doubled batch [x_t; x_t] and returns
    ε̂_∅ + s·(ε̂_c − ε̂_∅) (N, ...). ``direction`` is the last call's ε̂_c − ε̂_∅ (N, ...), valid until
    the next call (the sampler yields its step between two calls, so a recorder reads it then).
    """

    def __init__(self, pair_eps: PairEps, scale: float):
        self.pair_eps = pair_eps
        self.scale = check_guidance(scale)
        self.direction: torch.Tensor | None = None

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        eps = self.pair_eps(torch.cat([x_t, x_t]), torch.cat([t, t]))  # (2N, ...) one forward
        eps_c, eps_u = eps.chunk(2)  # (N, ...) each
        self.direction = eps_c - eps_u  # (N, ...) where the prompt pushes
        return eps_u + self.scale * self.direction
