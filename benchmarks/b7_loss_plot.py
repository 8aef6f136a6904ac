"""B7: LossPlot stays fluid with a million points per curve.

Builds a LossPlot offscreen holding 1,000,000 points in each of two curves, then 200 times
appends 1,000 points to each curve, calls ``refresh()``, lets Qt process events and forces a
synchronous repaint. Prints the median and 95th percentile milliseconds per append + redraw.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/b7_loss_plot.py``
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402

from genstudio.gui.widgets.loss_plot import LossPlot  # noqa: E402

GOAL_MS = 30.0
START_POINTS = 1_000_000
BATCH = 1_000
ROUNDS = 200


def noisy_loss(steps: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """A decreasing loss with noise, like a GAN's."""
    return scale * (np.exp(-steps / 3e5) + 0.3) + 0.1 * rng.standard_normal(steps.shape[0])


def main() -> int:
    app = pg.mkQApp()
    rng = np.random.default_rng(0)
    plot = LossPlot("B7", ["loss_D", "loss_G"])
    plot.resize(1000, 450)
    plot.show()
    steps = np.arange(START_POINTS, dtype=np.float64)
    plot.append("loss_D", steps, noisy_loss(steps, rng, 1.0))
    plot.append("loss_G", steps, noisy_loss(steps, rng, 2.0))
    plot.refresh()
    app.processEvents()
    plot.repaint()

    times_ms = []
    next_step = START_POINTS
    for _ in range(ROUNDS):
        batch = np.arange(next_step, next_step + BATCH, dtype=np.float64)
        next_step += BATCH
        d, g = noisy_loss(batch, rng, 1.0), noisy_loss(batch, rng, 2.0)
        t0 = time.perf_counter()
        plot.append("loss_D", batch, d)
        plot.append("loss_G", batch, g)
        plot.refresh()
        app.processEvents()
        plot.repaint()
        times_ms.append((time.perf_counter() - t0) * 1e3)

    median, p95 = float(np.median(times_ms)), float(np.percentile(times_ms, 95))
    total = plot.point_count("loss_D") + plot.point_count("loss_G")
    print(f"B7 LossPlot: {total:,} points in 2 curves, "
          f"{ROUNDS} x (append {BATCH:,}/curve + redraw)")
    print(f"median {median:.1f} ms   p95 {p95:.1f} ms   max {max(times_ms):.1f} ms")
    print(f"goal <= {GOAL_MS:.0f} ms median: {'MET' if median <= GOAL_MS else 'NOT MET'}")
    plot.close()
    plot.deleteLater()
    app.processEvents()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    # Skip interpreter teardown. On Python 3.11, PySide6 6.12.0's Signal.emit() returns True
    # without taking a reference, so each emit from Python drops True's refcount by one; a few
    # thousand emits later, freeing the last references at exit aborts ("bool_dealloc").
    os._exit(status)
