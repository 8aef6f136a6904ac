"""Sample-quality metrics for the 2-D point sets (Qt-free).

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
