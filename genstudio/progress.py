"""A dependency-free terminal progress bar for long work: step, rate, ETA and the latest losses."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class ProgressBar:
    """Redraws one line on a terminal (at most ~10 times a second); prints a line per 10 % otherwise."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, width: int = 24):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.first = self.step = self.total = 0
        self.rate = 0.0
        self.metrics: dict[str, Any] = {}
        self._last_draw = 0.0
        self._last_decile = -1
        self._t0 = time.perf_counter()

    def start(self, step: int, total: int, title: str) -> None:
        self.first = self.step = step
        self.total = total
        self._t0 = time.perf_counter()
        if self.enabled:
            print(f"training {title}: steps {step}→{total}", file=self.stream, flush=True)

    def tick(self, step: int) -> None:
        self.step = step
        self._draw()

    def update(self, step: int, rate: float, metrics: dict[str, Any]) -> None:
        self.step, self.rate = step, rate
        self.metrics = {k: v for k, v in metrics.items() if isinstance(v, float)}
        self._draw()

    def note_saved(self, path: str) -> None:
        pass

    def line(self) -> str:
        frac = (self.step - self.first) / max(self.total - self.first, 1)
        filled = int(round(frac * self.width))
        bar = "█" * filled + "·" * (self.width - filled)
        elapsed = time.perf_counter() - self._t0
        eta = (self.total - self.step) / self.rate if self.rate > 0 else float("nan")
        vals = "  ".join(f"{k} {v:.4g}" for k, v in list(self.metrics.items())[:4])
        return (f"[{bar}] {self.step}/{self.total}  {self.rate:.1f} it/s  "
                f"{_clock(elapsed)}<{_clock(eta)}  {vals}")

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if force or now - self._last_draw > 0.1:
                self._last_draw = now
                self.stream.write("\r" + self.line()[:160].ljust(100))
                self.stream.flush()
            return
        decile = int(10 * (self.step - self.first) / max(self.total - self.first, 1))
        if decile != self._last_decile:
            self._last_decile = decile
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled:
            self._draw(force=True)
            if self.tty:
                self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"
