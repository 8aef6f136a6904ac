"""Walking a GAN's latent space (Qt-free): interpolation, truncation, principal directions, grids.

Everything here works on plain numpy latents ``z`` of shape ``(nz,)`` or ``(B, nz)``; only
:func:`principal_directions` and :func:`map_latents` run the generator.

* :func:`lerp`, :func:`slerp`, :func:`interpolate` — straight and great-circle walks between two
  latents (White, "Sampling Generative Networks", 2016, for slerp).
* :func:`truncate` — the truncation trick ``z <- mean + psi (z - mean)`` (Brock et al., BigGAN 2018).
* :func:`principal_directions` — GANSpace (Härkönen et al., 2020): PCA of an early layer's
  activations over many random draws, carried back to latent space by linear regression.
* :func:`direction_sweep`, :func:`neighbourhood` — latents along one or several directions.
* :func:`latent_grid_lines`, :func:`map_latents` — a regular grid in z-space and its image under G
  (the warped grid of GAN Lab).
* :func:`encode_z`, :func:`decode_z` — a latent as compact clipboard text and back;
  :func:`save_latent` writes one as ``.npy``.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from genstudio.atomic import atomic_open

__all__ = [
    "lerp", "slerp", "interpolate", "truncate", "principal_directions", "default_layer",
    "direction_sweep", "neighbourhood", "latent_grid_lines", "map_latents", "encode_z", "decode_z",
    "save_latent",
]

_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.PReLU)


# --------------------------------------------------------------------------- walks
def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Linear interpolation ``(1 - t) a + t b``; exactly ``a`` at ``t=0`` and ``b`` at ``t=1``.

    Parameters
    ----------
    a, b : np.ndarray
        Latents of the same shape, e.g. (nz,).
    t : float
        0 gives ``a``, 1 gives ``b``; values outside [0, 1] extrapolate.
    """
    a, b = np.asarray(a), np.asarray(b)
    if t == 0:
        return a.copy()
    if t == 1:
        return b.copy()
    return ((1.0 - t) * a + t * b).astype(np.result_type(a, b), copy=False)


def slerp(a: np.ndarray, b: np.ndarray, t: float, eps: float = 1e-7) -> np.ndarray:
    """Spherical interpolation along the great circle from ``a`` to ``b`` (White, 2016).

    ``sin((1-t) Ω)/sin Ω · a + sin(t Ω)/sin Ω · b`` with ``Ω`` the angle between ``a`` and ``b``.
    A Gaussian latent lives near a sphere, so this walk keeps ``|z|`` typical where a straight
    line cuts through the low-density centre. Near-parallel or opposite vectors (``sin Ω ≈ 0``,
    where the great circle is undefined) and zero vectors fall back to :func:`lerp`.

    Parameters
    ----------
    a, b : np.ndarray
        Latents of the same shape (nz,).
    t : float
        0 gives ``a`` exactly, 1 gives ``b`` exactly.
    eps : float
        Fall back to lerp when ``|sin Ω| < eps``.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"slerp needs latents of one shape, got {a.shape} and {b.shape}")
    if t == 0:
        return a.copy()
    if t == 1:
        return b.copy()
    a64, b64 = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na == 0.0 or nb == 0.0:
        return lerp(a, b, t)
    cos = float(np.clip(a64 @ b64 / (na * nb), -1.0, 1.0))
    omega = math.acos(cos)
    so = math.sin(omega)
    if abs(so) < eps:
        return lerp(a, b, t)
    out = (math.sin((1.0 - t) * omega) / so) * a64 + (math.sin(t * omega) / so) * b64
    return out.reshape(a.shape).astype(np.result_type(a, b), copy=False)


def interpolate(a: np.ndarray, b: np.ndarray, ts: Sequence[float], method: str = "linear") -> np.ndarray:
    """Latents at several ``t``: (T, *a.shape). ``method`` is "linear" or "slerp"/"spherical"."""
    if method == "linear":
        fn = lerp
    elif method in ("slerp", "spherical"):
        fn = slerp
    else:
        raise ValueError(f"unknown interpolation {method!r}: use 'linear' or 'slerp'")
    return np.stack([fn(a, b, float(t)) for t in ts])


def truncate(z: np.ndarray, psi: float, mean: np.ndarray | float = 0.0) -> np.ndarray:
    """The truncation trick: ``mean + psi (z - mean)``; ψ=1 leaves ``z`` unchanged (exactly).

    Smaller ψ trades variety for typicality: ψ=0 gives the mean latent's sample.
    """
    z = np.asarray(z)
    if psi == 1:
        return z.copy()
    return (mean + psi * (z - mean)).astype(z.dtype, copy=False)


# --------------------------------------------------------------------------- GANSpace
class _Stop(Exception):
    """Raised by the capture hook: the rest of G's forward pass is not needed."""


def _generator(model_or_G: Any) -> nn.Module:
    return model_or_G.G if hasattr(model_or_G, "G") else model_or_G


def default_layer(G: nn.Module) -> str:
    """The layer GANSpace analyses: G's own ``ganspace_layer`` when it names one (a style-based G names its
    mapping network, whose output w is what the paper takes the PCA of for StyleGAN), else the name of
    G's first non-linearity (the output of its first block), or "" for G's output."""
    own = getattr(G, "ganspace_layer", None)
    if isinstance(own, str):
        return own
    for name, module in G.named_modules():
        if name and isinstance(module, _ACTIVATIONS):
            return name
    return ""


def _activations(G: nn.Module, layer: str, Z: torch.Tensor, batch: int,
                 progress: Callable[[float], None] | None) -> torch.Tensor:
    """Flattened activations of ``layer`` for each row of Z: (N, D) float32."""
    modules = dict(G.named_modules())
    if layer not in modules:
        raise ValueError(f"generator has no layer {layer!r}; some of its layers: {list(modules)[1:8]}")
    owner = threading.get_ident()  # the hook ignores forwards that other threads run meanwhile
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        if threading.get_ident() == owner:
            captured.append(out.detach().flatten(1).float().clone())  # (b, D)
            raise _Stop

    handle = modules[layer].register_forward_hook(hook) if layer else None
    parts = []
    try:
        with torch.inference_mode():
            for i in range(0, Z.shape[0], batch):
                z = Z[i:i + batch].to(next(G.parameters()).device)
                if handle is None:
                    parts.append(G(z).detach().flatten(1).float().cpu())
                else:
                    try:
                        G(z)
                    except _Stop:
                        pass
                    parts.append(captured.pop().cpu())
                if progress is not None:
                    progress(0.8 * min(1.0, (i + batch) / Z.shape[0]))
    finally:
        if handle is not None:
            handle.remove()
    return torch.cat(parts)


def _top_components(X: torch.Tensor, k: int, gen: torch.Generator, n_iter: int = 3,
                    oversample: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k left singular vectors and values of a centred X (N, D) by randomised subspace iteration.

    Halko, Martinsson & Tropp (2011), Alg. 4.4; seeded, so the result is reproducible.
    Returns U (N, k) and S (k,), S descending.
    """
    n, d = X.shape
    q = min(k + oversample, n, d)
    Q, _ = torch.linalg.qr(X @ torch.randn(d, q, generator=gen).to(X.dtype))  # (N, q)
    for _ in range(n_iter):
        Q, _ = torch.linalg.qr(X.T @ Q)  # (D, q)
        Q, _ = torch.linalg.qr(X @ Q)  # (N, q)
    Ub, S, _ = torch.linalg.svd(Q.T @ X, full_matrices=False)  # (q, q), (q,)
    return (Q @ Ub)[:, :k], S[:k]


def principal_directions(
    model_or_G: Any,
    n_samples: int = 2000,
    n_components: int = 20,
    seed: int = 0,
    layer: str | None = None,
    batch: int = 500,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Latent directions that change G's output most, found the GANSpace way.

    Draws ``n_samples`` latents Z ~ N(0, I), records the activations X = f(Z) of ``layer``
    (flattened), and takes their principal components. Each PCA coordinate column
    ``x_k = (X - μ) u_k`` is carried back to latent space by the paper's regression of Z on the
    coordinates, ``Z ≈ x V``; because the coordinates are uncorrelated, row k of V is
    ``∝ x_kᵀ (Z - z̄)``. Rows are normalised to unit length and signed so that their largest
    entry is positive.

    Parameters
    ----------
    model_or_G : GanModel or nn.Module
        Anything with ``.G``, or G itself; G must have ``nz`` and map (B, nz) to its output.
    n_samples : int
        Random draws (2,000-10,000 in the paper).
    n_components : int
        How many directions; capped at ``nz`` and ``n_samples - 1``.
    seed : int
        Seeds the draws and the randomised SVD: same seed, same directions.
    layer : str, optional
        Name of the module whose output is analysed (see ``G.named_modules()``); by default
        :func:`default_layer`, G's first non-linearity. "" analyses G's final output.
    batch : int
        Draws per forward pass.
    progress : callable, optional
        Called with a fraction in [0, 1] between batches; it may raise to cancel.

    Returns
    -------
    directions : np.ndarray
        (K, nz) float32 unit vectors, ordered by ``variances``.
    variances : np.ndarray
        (K,) float64 variance of the activations along each principal component, descending.
    """
    G = _generator(model_or_G)
    nz = int(G.nz)
    k = max(1, min(int(n_components), nz, int(n_samples) - 1))
    gen = torch.Generator().manual_seed(int(seed))
    Z = torch.randn(int(n_samples), nz, generator=gen)  # (N, nz)
    X = _activations(G, default_layer(G) if layer is None else layer, Z, batch, progress)  # (N, D)
    X = X.double() if X.shape[1] <= 64 else X  # tiny layers: exact enough in float64, still cheap
    X = X - X.mean(0, keepdim=True)
    U, S = _top_components(X, k, gen)  # (N, K), (K,)
    Zc = (Z - Z.mean(0, keepdim=True)).to(U.dtype)
    V = U.T @ Zc  # (K, nz): regression of Z on the PCA coordinates, up to a per-row scale
    V = V / V.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sign = torch.sign(V.gather(1, V.abs().argmax(1, keepdim=True)))  # (K, 1)
    V = V * torch.where(sign == 0, torch.ones_like(sign), sign)
    if progress is not None:
        progress(1.0)
    variances = (S.double() ** 2 / max(1, Z.shape[0] - 1)).numpy()
    return V.float().numpy(), variances


# --------------------------------------------------------------------------- sweeps and grids
def direction_sweep(z: np.ndarray, direction: np.ndarray, sigmas: Sequence[float]) -> np.ndarray:
    """``z + s · direction`` for each s: (S, nz). With a unit direction, s counts prior σ's."""
    z, d = np.asarray(z, np.float32), np.asarray(direction, np.float32)
    s = np.asarray(sigmas, np.float32)[:, None]  # (S, 1)
    return z[None, :] + s * d[None, :]  # (S, nz)


def neighbourhood(z: np.ndarray, directions: np.ndarray, sigmas: Sequence[float]) -> np.ndarray:
    """One :func:`direction_sweep` row per direction, stacked row-major: (R * S, nz)."""
    return np.concatenate([direction_sweep(z, d, sigmas) for d in np.atleast_2d(directions)])


def latent_grid_lines(extent: float | Sequence[float], n: int = 11, points: int = 64) -> np.ndarray:
    """A regular grid of lines over a square (or rectangle) of a 2-D latent space.

    Parameters
    ----------
    extent : float or (xmin, xmax, ymin, ymax)
        A float ``e`` means the square ``[-e, e]²``.
    n : int
        Lines in each direction.
    points : int
        Points along each line (enough to show how G bends it).

    Returns
    -------
    np.ndarray
        (2n, points, 2) float32: n lines of constant y (left to right), then n of constant x.
    """
    if np.isscalar(extent):
        xmin, xmax, ymin, ymax = -float(extent), float(extent), -float(extent), float(extent)
    else:
        xmin, xmax, ymin, ymax = (float(e) for e in extent)
    xs, ys = np.linspace(xmin, xmax, points), np.linspace(ymin, ymax, points)
    lines = np.empty((2 * n, points, 2), np.float32)
    for i, y in enumerate(np.linspace(ymin, ymax, n)):
        lines[i, :, 0], lines[i, :, 1] = xs, y
    for i, x in enumerate(np.linspace(xmin, xmax, n)):
        lines[n + i, :, 0], lines[n + i, :, 1] = x, ys
    return lines


def map_latents(model_or_G: Any, z: np.ndarray) -> np.ndarray:
    """G(z) as numpy for latents of any leading shape (..., nz) -> (..., *out_shape) float32.

    Used for the warped grid: ``map_latents(model, latent_grid_lines(3, 11))`` is (2n, P, 2).
    """
    z = np.asarray(z, np.float32)
    flat = torch.from_numpy(np.ascontiguousarray(z.reshape(-1, z.shape[-1])))  # (M, nz)
    if hasattr(model_or_G, "generate"):
        out = model_or_G.generate(flat)
    else:
        with torch.inference_mode():
            out = model_or_G(flat).float().cpu()
    out = out.numpy()
    return out.reshape(*z.shape[:-1], *out.shape[1:])


# --------------------------------------------------------------------------- clipboard text
def encode_z(z: np.ndarray) -> str:
    """A latent as a compact JSON list whose numbers read back to the same float32 values."""
    values = np.asarray(z, np.float32).ravel()
    return "[" + ",".join(np.format_float_positional(v, unique=True, trim="-") for v in values) + "]"


_NUMBER_SPLIT = re.compile(r"[\s,;]+")


def decode_z(text: str, nz: int | None = None) -> np.ndarray:
    """Read a latent from text: a JSON list, ``{"z": [...]}``, or numbers split by commas/spaces.

    Raises
    ------
    ValueError
        With a message fit to show a person: not numbers, non-finite values, or the wrong length.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("The clipboard is empty; copy a latent (a list of numbers) first.")
    values: Any
    try:
        values = json.loads(text)
        if isinstance(values, dict):
            values = values.get("z")
        if isinstance(values, (int, float)):
            values = [values]
    except json.JSONDecodeError:
        parts = [p for p in _NUMBER_SPLIT.split(text.strip("[]() \n")) if p]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            bad = next(p for p in parts if not _is_float(p))
            raise ValueError(f"Not a latent: {bad[:40]!r} is not a number.") from None
    if not isinstance(values, list) or not values or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError("Not a latent: expected a list of numbers, like [0.12,-1.3,...].")
    z = np.asarray(values, np.float32)
    if not np.isfinite(z).all():
        raise ValueError("Not a latent: it contains NaN or infinite values.")
    if nz is not None and z.shape[0] != nz:
        raise ValueError(f"This model's latent has {nz} numbers; the text has {z.shape[0]}.")
    return z


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def save_latent(path: str | os.PathLike, z: np.ndarray) -> str:
    """Write ``z`` as a float32 ``.npy`` file, atomically (temporary file, then rename).

    A missing ``.npy`` suffix is added; returns the path written.
    """
    path = os.fspath(path)
    if not path.endswith(".npy"):
        path += ".npy"
    with atomic_open(path) as f:
        np.save(f, np.asarray(z, np.float32))
    return path
