"""The learned denoiser against the exact one, as the scrubber's 2-D view draws them (Qt-free).

For a 2-D diffusion model the exact denoiser of its data set is known
(:mod:`genstudio.diffusion.exact`: ring8 and grid25 are their true mixtures, any other point set the
mixture of its training points). This module computes what the view shows at a step t:

- both fields, −ε̂ (the network) and −ε* (the ideal), on one grid of arrow origins
  (:func:`compare_fields`), scaled together so their lengths compare;
- a heat map of ‖ε̂(x, t) − ε*(x, t)‖ over the plot, one value per cell centre;
- the error against t (:func:`error_curve`): ``eps_error_by_band`` per timestep band, x_t drawn
  from the forward process of the data, so a band where the network is poor *where samples are*
  stands out (the heat map shows the whole plane, most of which x_t never visits);
- the memorisation of a perfect model (:func:`memorisation`): the exact denoiser of a few training
  points samples nothing but those points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from genstudio.diffusion.exact import ExactDenoiser, GaussianMixture, eps_error_by_band, exact_eps, mixture_of_model
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.scrub import eps_field, predict

__all__ = ["FieldComparison", "ErrorCurve", "exact_denoiser_of", "cell_centres", "compare_fields",
           "error_curve", "memorisation", "Memorisation", "HEAT_CELLS", "ARROWS", "CURVE_BANDS"]

ARROWS = 20  # arrows per side, as the learned field alone had
HEAT_CELLS = 48  # heat-map cells per side (2,304 network and mixture evaluations)
CURVE_BANDS = 20  # timestep bands of the error curve


def _cpu_schedule(schedule: NoiseSchedule) -> NoiseSchedule:
    return schedule if schedule.device.type == "cpu" else NoiseSchedule.from_meta(schedule.to_meta())


def exact_denoiser_of(model: Any, mixture: GaussianMixture | None = None) -> ExactDenoiser:
    """The perfect model of a 2-D diffusion model's data (``mixture``, default from its header), on
    its own schedule: sampled with the same spec it starts from the same x_T and draws the same noise."""
    return ExactDenoiser(mixture if mixture is not None else mixture_of_model(model), _cpu_schedule(model.schedule))


def cell_centres(extent: tuple[float, float, float, float], n: int) -> np.ndarray:
    """Centres of an n × n grid of cells over ``extent`` = (xmin, xmax, ymin, ymax): (n², 2) float32,
    row by row from ``ymin`` (cell [i, j] is row i, column j, as an image with row 0 at the bottom)."""
    xmin, xmax, ymin, ymax = extent
    xs = xmin + (np.arange(n) + 0.5) * (xmax - xmin) / n
    ys = ymin + (np.arange(n) + 0.5) * (ymax - ymin) / n
    gx, gy = np.meshgrid(xs, ys)  # (n, n): row = y
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


@dataclass(frozen=True)
class FieldComparison:
    """What the 2-D view draws at step ``t``: arrow ``origins`` (K, 2) with ``learned`` ε̂ and
    ``exact`` ε* there (K, 2 each), and ``heat`` (n, n) = ‖ε̂ − ε*‖ at the cell centres of ``extent``."""

    t: int
    extent: tuple[float, float, float, float]
    origins: np.ndarray
    learned: np.ndarray
    exact: np.ndarray
    heat: np.ndarray

    def arrows(self, spacing: float) -> tuple[np.ndarray, np.ndarray]:
        """(−ε̂, −ε*) as arrows on one scale, the longest of both 0.9 × ``spacing`` long: lengths compare."""
        longest = max(float(np.linalg.norm(self.learned, axis=1).max(initial=0.0)),
                      float(np.linalg.norm(self.exact, axis=1).max(initial=0.0)))
        scale = 0.9 * spacing / longest if longest > 0 else 0.0
        return -self.learned * scale, -self.exact * scale


def compare_fields(model: Any, exact: ExactDenoiser, t: int, extent: tuple[float, float, float, float],
                   arrows: int = ARROWS, cells: int = HEAT_CELLS) -> FieldComparison:
    """ε̂ and ε* on an ``arrows`` × ``arrows`` grid over ``extent``, and ‖ε̂ − ε*‖ on ``cells`` × ``cells``."""
    origins, learned = eps_field(model, t, extent, arrows)  # (K, 2) each
    ideal = exact_eps(torch.from_numpy(origins).double(), int(t), exact.schedule, exact.mixture).numpy()
    centres = cell_centres(extent, cells)  # (n², 2)
    at_centres, _ = predict(model, centres, t)
    star = exact_eps(torch.from_numpy(centres).double(), int(t), exact.schedule, exact.mixture).numpy()
    heat = np.linalg.norm(at_centres.astype(np.float64) - star, axis=1).reshape(cells, cells)  # (n, n)
    return FieldComparison(int(t), tuple(extent), origins, learned, ideal.astype(np.float32), heat)


@dataclass(frozen=True)
class ErrorCurve:
    """Mean ‖ε̂ − ε*‖² / D per timestep band (``values``, (B,)) over x_t of the data's forward process;
    band b covers t in [``edges[b]``, ``edges[b+1]``)."""

    edges: np.ndarray
    values: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        """The middle t of each band, (B,)."""
        return (self.edges[:-1] + self.edges[1:] - 1) / 2

    def band_of(self, t: int) -> int:
        """The band holding timestep ``t``."""
        return int(np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.values) - 1))

    def worst(self) -> int:
        """The band where the network is furthest from the ideal."""
        return int(np.argmax(self.values))


def error_curve(model: Any, exact: ExactDenoiser, bands: int = CURVE_BANDS, n: int = 512,
                seed: int = 0) -> ErrorCurve:
    """:func:`~genstudio.diffusion.exact.eps_error_by_band` of ``model`` against ``exact``, with its bands."""
    T = exact.schedule.num_steps
    values = eps_error_by_band(model.eps, model.schedule, exact.mixture, n=n, bands=bands, seed=seed)
    edges = np.array([b * T // bands for b in range(bands)] + [T])
    return ErrorCurve(edges, values)


@dataclass(frozen=True)
class Memorisation:
    """How the exact denoiser of ``points`` training points samples: ``on_point`` the share of samples
    within ``tol`` of a training point, ``reproduced`` how many of the points were hit, ``median``
    and ``farthest`` a sample's distance to its nearest training point, and ``fresh_median`` the
    same median for fresh draws of the data (NaN without them): how far a sample *not* copied is."""

    points: int
    samples: int
    on_point: float
    reproduced: int
    median: float
    farthest: float
    fresh_median: float
    tol: float

    def sentence(self) -> str:
        fresh = "" if np.isnan(self.fresh_median) else f"; fresh draws of the data: {self.fresh_median:.2g}"
        return (f"{self.on_point:.1%} of {self.samples:,} samples lie within {self.tol:g} of one of the "
                f"{self.points} training points ({self.reproduced} of them reproduced); median distance to "
                f"the nearest training point {self.median:.2g}{fresh}; farthest {self.farthest:.2g}")


def _nearest(a: np.ndarray, b: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    d = torch.cdist(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))
    return d.min(1)  # distances and indices, (M,) each


def memorisation(training: np.ndarray, final: np.ndarray, tol: float = 1e-3,
                 fresh: np.ndarray | None = None) -> Memorisation:
    """Score ``final`` samples (M, D) of the exact denoiser of ``training`` (K, D) points, against
    ``fresh`` draws of the data (optional)."""
    nearest, which = _nearest(final, training)
    on = nearest < tol
    fresh_median = float(_nearest(fresh, training)[0].median()) if fresh is not None else float("nan")
    return Memorisation(len(training), len(final), float(on.double().mean()), len(set(which[on].tolist())),
                        float(nearest.median()), float(nearest.max()), fresh_median, tol)
