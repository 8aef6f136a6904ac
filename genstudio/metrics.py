"""Sample-quality metrics (Qt-free): mode coverage for 2-D point sets, Fréchet distance of features.

Mode coverage on Gaussian mixtures (ring8, grid25) follows the protocol of Metz et al., "Unrolled
GANs" (2017) and Srivastava et al., "VEEGAN" (2017): a sample is of high quality if it lies within a
few standard deviations of a mode centre, and a mode is covered if samples land there.
"""

from __future__ import annotations

import numpy as np
import torch


def mode_coverage(points: np.ndarray | torch.Tensor, centers: np.ndarray | torch.Tensor,
                  radius: float = 0.1, min_count: int = 1) -> tuple[float, int]:
    """How many samples sit on a mode, and how many modes get samples.

    Parameters
    ----------
    points : (N, 2) samples, in data units.
    centers : (K, 2) mode centres.
    radius : a sample within ``radius`` of its nearest centre counts (ring8's modes have std 0.02,
        so 0.1 is 5σ).
    min_count : samples a mode needs within ``radius`` to count as hit.

    Returns
    -------
    (fraction_within, modes_hit) : the fraction of the N samples within ``radius`` of a centre
        (non-finite samples count as misses), and the number of centres with ≥ ``min_count`` of them.
    """
    p = torch.as_tensor(np.asarray(points, dtype=np.float64))  # (N, 2)
    c = torch.as_tensor(np.asarray(centers, dtype=np.float64))  # (K, 2)
    if p.ndim != 2 or c.ndim != 2 or p.shape[1] != c.shape[1]:
        raise ValueError(f"points (N, D) and centers (K, D) needed, got {tuple(p.shape)} and {tuple(c.shape)}")
    if p.shape[0] == 0:
        return 0.0, 0
    d = torch.cdist(p, c)  # (N, K)
    d = torch.where(torch.isfinite(d), d, torch.full_like(d, float("inf")))
    nearest, which = d.min(dim=1)  # (N,)
    within = nearest <= radius
    counts = torch.bincount(which[within], minlength=c.shape[0])  # (K,)
    return float(within.double().mean()), int((counts >= min_count).sum())


# ---------------------------------------------------------------------------- Fréchet distance
def gaussian_fit(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of ``features`` (N, D), in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features of shape (N >= 2, D) needed, got {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("features hold NaN or infinite values")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance(features_a: np.ndarray | torch.Tensor, features_b: np.ndarray | torch.Tensor) -> float:
    """Fréchet distance between Gaussian fits of two feature sets: the FID recipe.

    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium" (2017): d² = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^½ Σ_b Σ_a^½)^½), the squared
    2-Wasserstein distance between N(μ_a, Σ_a) and N(μ_b, Σ_b).

    The matrix square roots come from symmetric eigendecompositions, with eigenvalues that
    rounding makes slightly negative set to 0; unlike ``scipy.linalg.sqrtm`` of the non-symmetric
    product Σ_a Σ_b this never yields complex parts, and it is exact for singular covariances (dead
    ReLU features).

    Parameters
    ----------
    features_a, features_b : (N_a, D) and (N_b, D) feature vectors (N ≥ 2 each).

    Returns
    -------
    float ≥ 0; 0 for a set against itself.
    """
    mu_a, cov_a = gaussian_fit(features_a)
    mu_b, cov_b = gaussian_fit(features_b)
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"feature sizes differ: {mu_a.shape[0]} and {mu_b.shape[0]}")
    root_a = _psd_sqrt(cov_a)  # (D, D) Σ_a^½
    middle = root_a @ cov_b @ root_a  # (D, D) symmetric PSD, same spectrum as Σ_a Σ_b
    tr_cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    d2 = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_cross)
    return max(d2, 0.0)


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (D, D)."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


# ---------------------------------------------------------------------------- sliced Wasserstein
def sliced_wasserstein(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, projections: int = 256,
                       seed: int = 0) -> float:
    """The sliced 1-Wasserstein distance between two equal-sized point sets (N, D).

    The mean over ``projections`` random unit directions θ (fixed by ``seed``) of W1 between the 1-D
    projections a·θ and b·θ, which for equal sizes is the mean absolute difference of the sorted
    values (Rabin et al. 2011; Bonneel et al. 2015). In data units; 0 only for identical sets;
    non-finite samples make it inf.
    """
    x = torch.as_tensor(np.asarray(a, dtype=np.float64))  # (N, D)
    y = torch.as_tensor(np.asarray(b, dtype=np.float64))
    if x.ndim != 2 or x.shape != y.shape or x.shape[0] == 0:
        raise ValueError(f"two non-empty point sets of one shape (N, D) needed, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        return float("inf")
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(x.shape[1], projections, dtype=torch.float64, generator=g)
    theta = theta / theta.norm(dim=0, keepdim=True)  # (D, P) unit directions
    px, _ = torch.sort(x @ theta, dim=0)  # (N, P)
    py, _ = torch.sort(y @ theta, dim=0)
    return float((px - py).abs().mean())


def psnr(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of two images in [−1, 1] (peak-to-peak 2, as 8-bit PSNR)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(4.0 / mse))
