"""Growing numeric buffers and smoothing for training curves (Qt-free).

A training run appends a few (step, value) pairs many times a second and a plot redraws the
whole history a few dozen times a second. :class:`Series` keeps that history in one float64
buffer that doubles when full, so appending is amortised O(1) and reading is a zero-copy view.
:func:`ema_smooth` and :class:`EmaState` give the TensorBoard-style debiased exponential moving
average, in one vectorised pass or incrementally for just the points appended since last time.
:class:`MinMaxPyramid` keeps min/max summaries of a growing series at every power-of-two bucket
size, updated incrementally, so a plot can draw a million points as one min/max pair per pixel
without touching all of them on every frame.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Series", "EmaState", "ema_smooth", "first_order_recurrence", "MinMaxPyramid"]


class Series:
    """A growing float64 buffer of (x, y) pairs that doubles its capacity when full.

    Parameters
    ----------
    capacity : int
        Initial number of pairs the buffer can hold before it first grows.

    Notes
    -----
    ``x`` and ``y`` are views of the filled part. A view taken before a later ``extend`` keeps
    its old contents (growing allocates a new buffer and never writes into the filled part),
    so a plot may hold on to it safely.
    """

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(1, int(capacity))
        self._buf = np.empty((2, capacity), dtype=np.float64)  # (2, capacity): rows x, y
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        """Number of pairs the buffer holds before it grows next."""
        return self._buf.shape[1]

    @property
    def x(self) -> np.ndarray:
        """The filled x values, shape (len,), a view."""
        return self._buf[0, : self._n]

    @property
    def y(self) -> np.ndarray:
        """The filled y values, shape (len,), a view."""
        return self._buf[1, : self._n]

    def extend(self, xs, ys) -> None:
        """Append a batch of pairs.

        Parameters
        ----------
        xs, ys : array_like
            One-dimensional, equal length (scalars are treated as one pair).

        Raises
        ------
        ValueError
            If the lengths differ.
        """
        xs = np.asarray(xs, dtype=np.float64).reshape(-1)
        ys = np.asarray(ys, dtype=np.float64).reshape(-1)
        if xs.shape != ys.shape:
            raise ValueError(f"xs and ys differ in length: {xs.shape[0]} != {ys.shape[0]}")
        k = xs.shape[0]
        if k == 0:
            return
        need = self._n + k
        if need > self.capacity:
            cap = self.capacity
            while cap < need:
                cap *= 2
            grown = np.empty((2, cap), dtype=np.float64)
            grown[:, : self._n] = self._buf[:, : self._n]
            self._buf = grown
        self._buf[0, self._n : need] = xs
        self._buf[1, self._n : need] = ys
        self._n = need

    def clear(self) -> None:
        """Forget every pair (the capacity is kept)."""
        self._n = 0


class EmaState:
    """Incremental debiased EMA: feed chunks, get the smoothed chunk back.

    Smoothing the chunks ``a`` then ``b`` gives exactly ``ema_smooth(concat(a, b), alpha)``.

    Parameters
    ----------
    alpha : float
        Smoothing weight in [0, 1); 0 returns the input unchanged.
    """

    def __init__(self, alpha: float) -> None:
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.alpha = float(alpha)
        self.biased = 0.0  # last biased accumulator value
        self.count = 0  # finite values accumulated so far (for the debias term)

    def update(self, y: np.ndarray) -> np.ndarray:
        """Smooth the next chunk of values.

        Non-finite values are passed through unchanged and do not advance the state,
        as TensorBoard does.

        Parameters
        ----------
        y : np.ndarray
            Shape (k,).

        Returns
        -------
        np.ndarray
            Shape (k,), float64.
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        out = y.copy()
        finite = np.isfinite(y)
        all_finite = bool(finite.all())
        v = y if all_finite else y[finite]
        k = v.shape[0]
        if k == 0:
            return out
        w = self.alpha
        if w == 0.0:
            self.count += k
            self.biased = float(v[-1])
            return out
        # biased[i] = w * biased[i-1] + (1 - w) * v[i], started from the carried state
        biased = first_order_recurrence((1.0 - w) * v, w, self.biased)
        powers = np.arange(self.count + 1, self.count + k + 1, dtype=np.float64)
        smoothed = biased / (1.0 - np.power(w, powers))
        self.biased = float(biased[-1])
        self.count += k
        if all_finite:
            return smoothed
        out[finite] = smoothed
        return out


def first_order_recurrence(u: np.ndarray, a: float, x0: float = 0.0) -> np.ndarray:
    """``x[i] = a·x[i−1] + u[i]`` with ``x[−1] = x0``, for 0 < a < 1, vectorised.

    What ``scipy.signal.lfilter([1], [1, −a], u, zi=[a·x0])`` computes, without importing
    ``scipy.signal`` (a second or more at the app's start). Blocks of length L, where a^−(L−1) ≤ 1e6,
    each take one scaled cumulative sum, ``x[i] = a^i·Σ_{j≤i} a^−j·u[j]``; the state entering each
    block is the same recurrence over the block ends (coefficient a^L), solved the same way. When
    a ≤ ~0.01 the terms vanish within a few steps and a truncated sum is exact to 1e-18.

    Parameters
    ----------
    u : np.ndarray
        Shape (n,), float64.
    a : float
        In (0, 1).
    x0 : float
        The state before ``u[0]``.

    Returns
    -------
    np.ndarray
        Shape (n,), float64.
    """
    u = np.asarray(u, dtype=np.float64)
    n = u.shape[0]
    if n <= 16:  # the few points a plot appends per frame
        out, x = np.empty(n), float(x0)
        for i, ui in enumerate(u.tolist()):
            x = a * x + ui
            out[i] = x
        return out
    length = int(min(n, 4096, 1 + math.log(1e6) / -math.log(a)))
    if length < 4:  # a^m < 1e-18 for a small m
        m = int(math.ceil(math.log(1e-18) / math.log(a)))
        out, p = u.copy(), 1.0
        for k in range(1, min(m, n - 1) + 1):
            p *= a
            out[k:] += p * u[:-k]
        with np.errstate(under="ignore"):
            out += np.power(a, np.arange(1, n + 1, dtype=np.float64)) * x0
        return out
    nb = -(-n // length)
    blocks = np.zeros(nb * length)
    blocks[:n] = u
    blocks = blocks.reshape(nb, length)  # (nb, L)
    down = np.power(a, np.arange(length, dtype=np.float64))  # a^j, (L,) ≥ 1e-6
    local = np.cumsum(blocks / down, axis=1) * down  # (nb, L): each block started from 0
    starts = np.empty(nb)  # the state entering each block
    starts[0] = x0
    if nb > 1:
        starts[1:] = first_order_recurrence(local[:-1, -1], a ** length, x0)
    out = local + starts[:, None] * (a * down)  # + a^(i+1)·start
    return out.reshape(-1)[:n]


def ema_smooth(y: np.ndarray, alpha: float) -> np.ndarray:
    """TensorBoard-style debiased exponential moving average.

    ``b[i] = alpha * b[i-1] + (1 - alpha) * y[i]`` with ``b[-1] = 0``, returned as
    ``b[i] / (1 - alpha ** (i + 1))`` so early values are not dragged towards zero.

    Parameters
    ----------
    y : np.ndarray
        Shape (n,). Non-finite entries are returned unchanged and skipped by the average.
    alpha : float
        Smoothing weight in [0, 1).

    Returns
    -------
    np.ndarray
        Shape (n,), float64.
    """
    return EmaState(alpha).update(y)


class _Rows:
    """A growing float64 buffer of ``k`` parallel rows (doubling, like :class:`Series`)."""

    def __init__(self, k: int, capacity: int = 256) -> None:
        self._buf = np.empty((k, max(1, capacity)), dtype=np.float64)
        self.n = 0

    def rows(self) -> np.ndarray:
        return self._buf[:, : self.n]  # (k, n) view

    def extend(self, block: np.ndarray) -> None:
        k = block.shape[1]
        need = self.n + k
        if need > self._buf.shape[1]:
            cap = self._buf.shape[1]
            while cap < need:
                cap *= 2
            grown = np.empty((self._buf.shape[0], cap), dtype=np.float64)
            grown[:, : self.n] = self._buf[:, : self.n]
            self._buf = grown
        self._buf[:, self.n : need] = block
        self.n = need


class MinMaxPyramid:
    """Incremental min/max/mean decimation of an append-only (x, y) series, for drawing.

    Level ``L`` summarises every complete bucket of ``2**L`` consecutive points by its first x,
    min y, max y and the sums of x and y. Levels start at ``2**min_level`` points per bucket
    (finer views are served from the raw points) and are extended from the new tail only, so an
    update costs the appended points, not the history.

    Parameters
    ----------
    min_level : int
        log2 of the smallest bucket kept (4: buckets of 16 points; memory ~ 5/8 of the raw data).

    Notes
    -----
    The y values must be finite (NaN would poison every summary it falls in); x must be
    non-decreasing.
    """

    _ROWS = 5  # x_first, y_min, y_max, x_sum, y_sum

    def __init__(self, min_level: int = 4) -> None:
        self.min_level = int(min_level)
        self._levels: list[_Rows] = []  # _levels[i] has buckets of 2 ** (min_level + i) points
        self._n = 0  # raw points already summarised (complete buckets of the finest level only)

    def clear(self) -> None:
        """Forget all summaries."""
        self._levels.clear()
        self._n = 0

    def update(self, x: np.ndarray, y: np.ndarray) -> None:
        """Summarise the points of ``x``/``y`` (the whole series so far) not yet summarised.

        Parameters
        ----------
        x, y : np.ndarray
            Shape (n,): the full series, of which the first points are unchanged since the
            previous call (as :class:`Series` views are).
        """
        size = 1 << self.min_level
        n_complete = (x.shape[0] // size) * size
        if n_complete > self._n:
            a, b = self._n, n_complete
            xb = x[a:b].reshape(-1, size)  # (buckets, size)
            yb = y[a:b].reshape(-1, size)  # (buckets, size)
            block = np.stack(
                [xb[:, 0], yb.min(axis=1), yb.max(axis=1), xb.sum(axis=1), yb.sum(axis=1)]
            )  # (5, buckets)
            if not self._levels:
                self._levels.append(_Rows(self._ROWS))
            self._levels[0].extend(block)
            self._n = n_complete
        # each coarser level pairs up the complete buckets of the level below it
        i = 0
        while i < len(self._levels) and self._levels[i].n >= 2:
            fine = self._levels[i].rows()
            if i + 1 == len(self._levels):
                self._levels.append(_Rows(self._ROWS))
            coarse = self._levels[i + 1]
            have, want = coarse.n, fine.shape[1] // 2
            if want > have:
                p = fine[:, 2 * have : 2 * want].reshape(self._ROWS, -1, 2)  # (5, buckets, 2)
                coarse.extend(
                    np.stack([p[0, :, 0], p[1].min(axis=1), p[2].max(axis=1),
                              p[3].sum(axis=1), p[4].sum(axis=1)])
                )
            i += 1

    def view(
        self, x: np.ndarray, y: np.ndarray, x0: float, x1: float, pixels: int, mode: str = "peak"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw for the x interval [x0, x1] on a plot ``pixels`` wide.

        Returns the raw points when there are at most ~4 per pixel; otherwise one summary per
        bucket of the coarsest level that still has at least one bucket per pixel: a max/min
        pair at the bucket's first x (``"peak"``: the envelope, nothing hidden) or the bucket's
        mean point (``"mean"``: a clean trend line). One point beyond each end is included so
        the line reaches the plot's edges.

        Parameters
        ----------
        x, y : np.ndarray
            The same full series last passed to :meth:`update`.
        x0, x1 : float
            Visible x interval.
        pixels : int
            Plot width in device pixels.
        mode : {"peak", "mean"}

        Returns
        -------
        (np.ndarray, np.ndarray)
            x and y to draw, each of shape (m,), m at most about ``4 * pixels``.
        """
        if mode not in ("peak", "mean"):
            raise ValueError(f"mode must be 'peak' or 'mean', got {mode!r}")
        n = x.shape[0]
        pixels = max(int(pixels), 16)
        i0 = max(int(np.searchsorted(x, x0, side="left")) - 1, 0)
        i1 = min(int(np.searchsorted(x, x1, side="right")) + 1, n)
        count = i1 - i0
        if count <= 4 * pixels or not self._levels:
            return x[i0:i1], y[i0:i1]
        want = max(self.min_level, int(np.floor(np.log2(count / pixels))))
        li = min(want - self.min_level, len(self._levels) - 1)
        level = self._levels[li].rows()
        shift = self.min_level + li
        b0 = i0 >> shift
        b1 = min((i1 >> shift) + 1, level.shape[1])
        done = b1 << shift  # raw index where the summarised buckets end
        tail = i1 > done  # points past the last complete bucket become one partial bucket
        if mode == "mean":
            out_x = level[3, b0:b1] / (1 << shift)
            out_y = level[4, b0:b1] / (1 << shift)
            if tail:
                out_x = np.append(out_x, x[done:i1].mean())
                out_y = np.append(out_y, y[done:i1].mean())
            return out_x, out_y
        xs, lo, hi = level[0, b0:b1], level[1, b0:b1], level[2, b0:b1]
        if tail:
            xs = np.append(xs, x[done])
            lo = np.append(lo, y[done:i1].min())
            hi = np.append(hi, y[done:i1].max())
        out_x = np.repeat(xs, 2)
        out_y = np.empty(out_x.shape[0], dtype=np.float64)
        out_y[0::2] = hi
        out_y[1::2] = lo
        return out_x, out_y
