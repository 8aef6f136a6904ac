"""``DrawingState``: the 2-D data set the person is drawing on the Monitor (Qt-free).

GAN Lab's "draw your own distribution": a drag puts points down along its path (one every
:data:`SPACING` data units, so a slow drag does not pile points on one spot), a click puts one, a
drag with the right button (or Shift) erases the points within :data:`ERASE_RADIUS` of it.
:meth:`DrawingState.save` writes the drawing as a ``points:FILE.npy`` data set
(:mod:`genstudio.data.drawn`), which the run panel and ``genstudio train --data`` take.
The canvas is ring8's square, :data:`CANVAS`, so a drawing and the built-in sets share their units.

Emits ``changed("points")`` after every edit and ``changed("mode")`` when drawing starts or stops.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from genstudio.views.events import Event

__all__ = ["DrawingState", "SPACING", "ERASE_RADIUS", "CANVAS"]

SPACING = 0.05  # data units between two points of one stroke
ERASE_RADIUS = 0.2  # data units around the eraser
CANVAS = (-2.5, 2.5, -2.5, 2.5)  # xmin, xmax, ymin, ymax: ring8 and grid25 with a margin


class DrawingState:
    """The drawn points, (K, 2) in data units, and whether drawing is on."""

    def __init__(self) -> None:
        self.changed = Event()
        self.active = False
        self._points: list[tuple[float, float]] = []
        self._last: tuple[float, float] | None = None  # the stroke's last point

    # ------------------------------------------------------------------ reading
    @property
    def points(self) -> np.ndarray:
        """The drawing, (K, 2) float32."""
        return np.asarray(self._points, np.float32).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self._points)

    # ------------------------------------------------------------------ editing
    def set_active(self, on: bool) -> None:
        """Start or stop drawing (the drawing itself stays)."""
        if bool(on) != self.active:
            self.active = bool(on)
            self._last = None
            self.changed.emit("mode")

    def press(self, x: float, y: float) -> None:
        """A stroke starts at (x, y): a point goes down there."""
        self._last = None
        self.drag(x, y)

    def drag(self, x: float, y: float) -> None:
        """The stroke goes on to (x, y): points every ``SPACING`` along the way since the last one."""
        if not (np.isfinite(x) and np.isfinite(y)):
            return
        x = float(np.clip(x, CANVAS[0], CANVAS[1]))
        y = float(np.clip(y, CANVAS[2], CANVAS[3]))
        if self._last is None:
            new = [(x, y)]
        else:
            lx, ly = self._last
            gap = float(np.hypot(x - lx, y - ly))
            n = int(gap // SPACING)
            if n == 0:
                return
            t = np.arange(1, n + 1) * (SPACING / gap)  # (n,) fractions of the way
            new = [(lx + (x - lx) * f, ly + (y - ly) * f) for f in t]
        self._points.extend(new)
        self._last = new[-1]
        self.changed.emit("points")

    def release(self) -> None:
        """The stroke ends."""
        self._last = None

    def erase(self, x: float, y: float, radius: float = ERASE_RADIUS) -> int:
        """Remove the points within ``radius`` of (x, y); returns how many went."""
        if not self._points:
            return 0
        p = self.points
        keep = np.hypot(p[:, 0] - x, p[:, 1] - y) > radius
        gone = int((~keep).sum())
        if gone:
            self._points = [tuple(map(float, q)) for q in p[keep]]
            self.changed.emit("points")
        return gone

    def clear(self) -> None:
        """Remove every point."""
        if self._points:
            self._points = []
            self._last = None
            self.changed.emit("points")

    def set_points(self, points: np.ndarray) -> None:
        """Replace the drawing with ``points`` (K, 2) (e.g. one read back from a file)."""
        self._points = [tuple(map(float, q)) for q in np.asarray(points, np.float64).reshape(-1, 2)]
        self._last = None
        self.changed.emit("points")

    # ------------------------------------------------------------------ saving
    def save(self, folder: str | Path) -> Path:
        """Write the drawing as ``folder/drawing_<time>.npy`` and return the file (``points:FILE``).

        Raises
        ------
        genstudio.data.DataError
            The drawing is empty.
        """
        from genstudio.data import DataError
        from genstudio.data.drawn import write_drawing

        if not self._points:
            raise DataError("the drawing is empty: drag on the 2-D view to put points down first")
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        path = Path(folder) / f"drawing_{stamp}.npy"
        n = 2
        while path.exists():
            path = Path(folder) / f"drawing_{stamp} ({n}).npy"
            n += 1
        return write_drawing(path, self.points)
