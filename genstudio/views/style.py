"""The Latent view's state for a style-based generator (Qt-free): truncation in W, GANSpace directions
in W, per-layer noise, the layer whose feature maps are shown and the style-mixing grid.

The picture is ``g(ws, noise)`` with ``ws = w_avg + ψ_w (f(z) + Σ_k α_k σ_k u_k − w_avg)`` on every
layer: z comes from :class:`~genstudio.views.latent.LatentState` (its z sliders, z directions and its
own ψ in Z), ``u_k`` are the principal axes of w = f(z) over many draws (GANSpace, Härkönen et al.
2020, §3: for StyleGAN the PCA is taken in W directly) and ``σ_k`` their standard deviations, so a
slider moves in units of the spread of W. Each conv layer's noise is a fixed seeded image (``noise_seed``),
``on`` or off; *re-draw* gives it a new seed, and "re-draw all" skips the layers marked ``frozen``.

Every change emits ``changed(what, index)``: ``"model"``, ``"psi"``, ``"alpha"`` (index k),
``"directions"``, ``"noise"`` (index layer, None: all), ``"layer"``, ``"mixing"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from genstudio.views.events import Event
from genstudio.views.latent import checked_psi

__all__ = ["StyleState", "StyleSnapshot", "LayerView", "MixingPlan", "w_directions", "layer_view"]

N_CHANNELS = 4  # feature maps shown per layer, besides their mean and its spectrum


@dataclass(frozen=True)
class LayerView:
    """What the layer view draws: ``channels`` (K, H, W) of the chosen layer, their ``mean`` over all
    channels (H, W), and the log-magnitude of the mean's centred 2-D FFT (H, W), each scaled to [0, 1]."""

    layer: int
    resolution: int
    channels: np.ndarray
    mean: np.ndarray
    fft: np.ndarray


@dataclass(frozen=True)
class MixingPlan:
    """The style-mixing grid: rows are destinations (A), columns sources (B); cell (i, j) is A_i with the
    ``band`` styles (coarse / middle / fine) taken from B_j (the StyleGAN paper's Fig. 3)."""

    destinations: tuple[int, ...]
    sources: tuple[int, ...]
    band: str


def _unit(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return np.zeros_like(a, np.float32) if hi - lo < 1e-12 else ((a - lo) / (hi - lo)).astype(np.float32)


def layer_view(features: torch.Tensor, layer: int, k: int = N_CHANNELS) -> LayerView:
    """The view of one layer's features (1, C, H, W): its ``k`` most active channels, mean and FFT."""
    f = features[0].float().numpy()  # (C, H, W)
    order = np.argsort(-f.std(axis=(1, 2)))[:k]  # the channels that vary most across the picture
    mean = f.mean(axis=0)  # (H, W)
    spectrum = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(mean - mean.mean()))))  # (H, W)
    return LayerView(layer, int(f.shape[-1]), np.stack([_unit(f[c]) for c in order]), _unit(mean), _unit(spectrum))


@torch.inference_mode()
def w_directions(model: Any, n: int = 10_000, k: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """GANSpace in W: the top ``k`` principal axes (k, w_dim) of w = f(z) over ``n`` draws and their
    standard deviations (k,). Each axis is signed so that its largest entry is positive."""
    z = model.noise(n, seed)
    w = model.ws_of(z)[:, 0].double().numpy()  # (n, w_dim)
    w = w - w.mean(axis=0)
    _, s, vt = np.linalg.svd(w, full_matrices=False)
    axes = vt[:k]
    axes *= np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
    return axes.astype(np.float32), (s[:k] / np.sqrt(n - 1)).astype(np.float32)


class StyleState:
    """The style controls of the Latent view. ``model`` needs :class:`~genstudio.stylegan.model.StyleGanModel`'s
    ``ws_of``, ``truncate_ws``, ``synthesize``, ``mix``, ``resolutions``, ``num_ws`` and ``noise``."""

    def __init__(self) -> None:
        self.changed = Event()
        self.model: Any = None
        self.psi = 1.0  # truncation in W
        self.directions: np.ndarray | None = None  # (K, w_dim)
        self.sigmas: np.ndarray | None = None  # (K,)
        self.alpha = np.zeros(0)  # offsets along the directions, in σ_k
        self.noise_seed: list[int] = []  # per conv layer
        self.noise_on: list[bool] = []
        self.frozen: list[bool] = []
        self.layer = 0  # the layer whose feature maps are shown
        self.mixing = MixingPlan((1, 2, 3), (4, 5, 6, 7), "coarse")

    # ------------------------------------------------------------------ model
    def set_model(self, model: Any) -> None:
        """Work on ``model`` (None, or a model without styles: nothing)."""
        self.model = model if model is not None and hasattr(model, "num_ws") else None
        n = 0 if self.model is None else len(self.model.resolutions)
        self.psi, self.directions, self.sigmas, self.alpha = 1.0, None, None, np.zeros(0)
        self.noise_seed, self.noise_on, self.frozen = [0] * n, [True] * n, [False] * n
        self.layer = min(self.layer, max(0, n - 1))
        self.changed.emit("model", None)

    @property
    def active(self) -> bool:
        return self.model is not None

    # ------------------------------------------------------------------ edits
    def set_psi(self, psi: float) -> None:
        self.psi = checked_psi(psi)
        self.changed.emit("psi", None)

    def set_directions(self, directions: np.ndarray, sigmas: np.ndarray) -> None:
        self.directions, self.sigmas = np.asarray(directions, np.float32), np.asarray(sigmas, np.float32)
        self.alpha = np.zeros(len(self.directions))
        self.changed.emit("directions", None)

    def set_alpha(self, index: int, value: float) -> None:
        self.alpha[index] = float(value)
        self.changed.emit("alpha", index)

    def set_noise_on(self, layer: int, on: bool) -> None:
        self.noise_on[layer] = bool(on)
        self.changed.emit("noise", layer)

    def set_frozen(self, layer: int, frozen: bool) -> None:
        self.frozen[layer] = bool(frozen)
        self.changed.emit("noise", layer)

    def redraw_noise(self, layer: int | None = None) -> None:
        """A new noise image for ``layer``; None: for every layer not frozen."""
        layers = [layer] if layer is not None else [i for i, f in enumerate(self.frozen) if not f]
        for i in layers:
            self.noise_seed[i] += 1
        self.changed.emit("noise", layer)

    def set_layer(self, layer: int) -> None:
        if not 0 <= layer < len(self.noise_seed):
            raise ValueError(f"layer must lie in [0, {len(self.noise_seed) - 1}], not {layer}")
        self.layer = int(layer)
        self.changed.emit("layer", None)

    def set_mixing(self, destinations=None, sources=None, band: str | None = None) -> None:
        """Change the grid's destination seeds, source seeds or band (the others stay)."""
        from genstudio.stylegan.model import CROSSOVERS

        m = self.mixing
        band = m.band if band is None else band
        if band not in CROSSOVERS:
            raise ValueError(f"crossover must be one of {', '.join(CROSSOVERS)}, not {band!r}")
        self.mixing = MixingPlan(tuple(int(s) for s in (m.destinations if destinations is None else destinations)),
                                 tuple(int(s) for s in (m.sources if sources is None else sources)), band)
        self.changed.emit("mixing", None)

    # ------------------------------------------------------------------ what is rendered
    def noise_list(self) -> list[torch.Tensor | None]:
        """Each layer's noise (1, 1, H, W) as set (None where off); seed 0 is the model's own fixed noise."""
        from genstudio.devices import sample_noise

        out: list[torch.Tensor | None] = []
        for i, r in enumerate(self.model.resolutions):
            if not self.noise_on[i]:
                out.append(None)
            elif self.noise_seed[i] == 0:
                out.append(self.model.noise_maps[i])
            else:
                out.append(sample_noise((1, r, r), 1, 1000 + self.noise_seed[i], start=i))
        return out

    def snapshot(self) -> "StyleSnapshot":
        """A frozen copy of everything a render needs (what crosses to the render thread)."""
        offset = None
        if self.directions is not None and np.any(self.alpha):
            offset = torch.from_numpy((self.alpha * self.sigmas) @ self.directions).float()  # (w_dim,)
        return StyleSnapshot(self.model, self.psi, offset, tuple(self.noise_list()), self.layer, self.mixing)

    # shortcuts for code that renders on the calling thread (tests, scripts)
    def ws(self, z: np.ndarray) -> torch.Tensor:
        return self.snapshot().ws(z)

    def render(self, z: np.ndarray) -> tuple[np.ndarray, LayerView]:
        return self.snapshot().render(z)

    def mixing_grid(self) -> np.ndarray:
        return self.snapshot().mixing_grid()


@dataclass(frozen=True)
class StyleSnapshot:
    """The style settings of one moment: renders on any thread without reading the live state."""

    model: Any
    psi: float
    offset: torch.Tensor | None  # Σ α_k σ_k u_k (w_dim,), or None
    noise: tuple
    layer: int
    mixing: MixingPlan

    def ws(self, z: np.ndarray) -> torch.Tensor:
        """The styles of latent ``z`` (nz,) or (B, nz): (B, num_ws, w_dim), directions and ψ applied."""
        ws = self.model.ws_of(torch.as_tensor(np.atleast_2d(z), dtype=torch.float32))
        if self.offset is not None:
            ws = ws + self.offset
        return self.model.truncate_ws(ws, self.psi) if self.psi != 1 else ws

    def render(self, z: np.ndarray) -> tuple[np.ndarray, LayerView]:
        """The picture of ``z`` (C, H, W) in [-1, 1] and the chosen layer's view, from one synthesis."""
        img, feats = self.model.synthesize(self.ws(z), list(self.noise), features=True)
        return img[0].clamp(-1, 1).numpy(), layer_view(feats[self.layer], self.layer)

    def generate(self, z: torch.Tensor, batch: int = 64) -> torch.Tensor:
        """Pictures of latents (B, nz) → (B, C, H, W) in [-1, 1] with ψ, the W directions and the noise as
        set — the model's ``generate`` under these settings, so :func:`genstudio.latent.map_latents` takes a
        snapshot as it takes the model (the neighbourhood grid and the A → B walk)."""
        return torch.cat([self.model.synthesize(self.ws(z[i:i + batch]), list(self.noise)).clamp(-1, 1)
                          for i in range(0, z.shape[0], batch)])

    def mixing_grid(self) -> np.ndarray:
        """The mixing figure (1 + D, 1 + S, C, H, W): row 0 the sources, column 0 the destinations (cell
        (0, 0) blank, -1), and cell (i, j) destination i with source j's ``band`` styles. ψ and noise as set."""
        from genstudio.stylegan.model import crossover_layers

        m, model = self.mixing, self.model
        z = torch.cat([model.noise(1, s) for s in m.destinations + m.sources])  # (D + S, nz)
        ws = self.ws(z.numpy())
        d, s = len(m.destinations), len(m.sources)
        dest, src = ws[:d], ws[d:]
        cells = model.mix(dest.repeat_interleave(s, 0), src.repeat(d, 1, 1),
                          crossover_layers(model.resolutions, m.band))  # (D·S, L, w)
        out = model.synthesize(torch.cat([src, dest, cells]), list(self.noise)).clamp(-1, 1).numpy()
        c, h, w = out.shape[1:]
        grid = np.full((1 + d, 1 + s, c, h, w), -1.0, np.float32)
        grid[0, 1:], grid[1:, 0] = out[:s], out[s:s + d]
        grid[1:, 1:] = out[s + d:].reshape(d, s, c, h, w)
        return grid
