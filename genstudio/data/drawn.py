"""``points:FILE.npy``: a 2-D data set the person drew (GAN Lab's "draw your own distribution").

A drawing is a ``.npy`` file holding one ``(K, 2)`` float array: the points put down with the
mouse, in data units (the Monitor's 2-D view draws in the same units as ring8, about [-2, 2]).
The data set made from it is the mixture of K narrow Gaussians centred on those points (std
:data:`DRAWN_STD`, each point equally likely): ``num_points`` samples of it, deterministic for a seed,
so a stroke of a few dozen clicks is a smooth curve of data and a batch of 256 fits any drawing.
The drawn points themselves are kept in ``info["drawn"]`` (K, 2).

A run trained on a drawing keeps its own copy, ``RUN/points.npy`` (:mod:`genstudio.runs.start`),
and its config names that copy, so resuming or replaying the run never depends on the file the
drawing came from. Files are read with ``allow_pickle=False``: a ``.npy`` holding objects is refused,
never unpickled.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch

from genstudio.data import DRAWN_PREFIX as PREFIX
from genstudio.data import DataError, Dataset

DRAWN_STD = 0.03  # std of the Gaussian around each drawn point, in data units (ring8's modes: 0.02)
MAX_DRAWN = 100_000  # points in one drawing (a long drag adds tens a second)
MAX_ABS = 1e4  # coordinates beyond this are not a drawing in data units


def is_drawn(name: str) -> bool:
    """True for a ``points:FILE`` data set name."""
    return name.strip().lower().startswith(PREFIX)


def drawing_path(name: str) -> Path:
    """The file of a ``points:FILE`` name (``~`` expanded)."""
    path = name.strip()[len(PREFIX):].strip()
    if not path:
        raise DataError("points:FILE needs a file, e.g. points:~/drawing.npy (the Monitor's Draw saves one)")
    return Path(path).expanduser()


def read_drawing(path: str | os.PathLike) -> np.ndarray:
    """The drawn points of ``path``: ``(K, 2)`` float32, K ≥ 1, every coordinate finite.

    Raises
    ------
    DataError
        Missing file, not a ``.npy`` array (or one of Python objects), wrong shape, not finite.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"drawing not found: {p}")
    try:
        a = np.load(p, allow_pickle=False)
    except ValueError as exc:  # object arrays need pickle: refused
        raise DataError(f"{p} is not a drawing: {exc}") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{p} is not a .npy drawing ({exc})") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
        raise DataError(f"{p} is not a drawing: it holds {getattr(a, 'dtype', type(a).__name__)}, not numbers")
    if a.ndim != 2 or a.shape[1] != 2:
        raise DataError(f"{p} is not a drawing: points must have shape (K, 2), not {a.shape}")
    if len(a) == 0:
        raise DataError(f"{p} holds no points: draw some first")
    if len(a) > MAX_DRAWN:
        raise DataError(f"{p} holds {len(a):,} points; a drawing has at most {MAX_DRAWN:,}")
    a = a.astype(np.float32)
    if not np.isfinite(a).all() or np.abs(a).max() > MAX_ABS:
        raise DataError(f"{p} is not a drawing: its coordinates must be finite and within ±{MAX_ABS:g}")
    return a


def write_drawing(path: str | os.PathLike, points: np.ndarray) -> Path:
    """Save ``points`` (K, 2) as a ``.npy`` drawing, all or nothing; returns the path."""
    from genstudio.atomic import atomic_write_bytes

    a = np.asarray(points, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != 2 or len(a) == 0:
        raise DataError(f"a drawing needs at least one (x, y) point, got shape {a.shape}")
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(p, buf.getvalue())
    return p


def sample_drawn(drawn: np.ndarray, num_points: int, seed: int) -> np.ndarray:
    """``num_points`` samples of the mixture of Gaussians (std ``DRAWN_STD``) on ``drawn``: (N, 2)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(drawn), size=num_points)  # (N,) which drawn point
    return (drawn[k] + DRAWN_STD * rng.standard_normal((num_points, 2))).astype(np.float32)  # (N, 2)


def load_drawn(name: str, num_points: int, seed: int) -> Dataset:
    """The data set of the drawing ``points:FILE``: ``num_points`` samples around its points."""
    drawn = read_drawing(drawing_path(name))
    return Dataset(name=name.strip(), kind="points",
                   tensor=torch.from_numpy(sample_drawn(drawn, num_points, seed)),  # (N, 2)
                   labels=None, info={"drawn": drawn, "std": DRAWN_STD})
