"""A guidance sweep: the same seed and prompt sampled at several guidance scales s, one row per s (Qt-free).

:class:`GuidanceSweep` holds the scales the person typed ("0, 1, 3, 7"), the spec each row runs
(the scrubber's spec with only ``guidance`` changed, so every row starts from the same x_T) and
the rows' final samples as they arrive; :class:`~genstudio.gui.widgets.guidance_sweep.GuidanceSweepView`
runs the rows one after the other on the scrubber's kind of sampling thread and draws them.

Every change emits ``changed(what)``: ``"scales"`` (the text or its error), ``"plan"`` (a sweep
started: the rows were emptied), ``"row"`` (a row's samples arrived) and ``"busy"``.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from genstudio.diffusion.guidance import check_guidance
from genstudio.sampling import SampleSpec
from genstudio.views.events import Event

__all__ = ["GuidanceSweep", "parse_scales", "DEFAULT_SCALES", "MAX_ROWS"]

DEFAULT_SCALES = (0.0, 1.0, 3.0, 7.0)  # unconditional, conditional, the default, strong
MAX_ROWS = 8


def parse_scales(text: str) -> tuple[float, ...]:
    """The scales in ``text`` ("0, 1, 3, 7" or "0 1 3 7"); ValueError with a one-line reason."""
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if not parts:
        raise ValueError("type the guidance scales to compare, e.g. 0, 1, 3, 7")
    if len(parts) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} scales, not {len(parts)}")
    scales = []
    for p in parts:
        try:
            value = float(p)
        except ValueError:
            raise ValueError(f"{p!r} is not a number: type scales such as 0, 1, 3, 7") from None
        scales.append(check_guidance(value))
    return tuple(scales)


class GuidanceSweep:
    """The scales of a sweep, the spec of each row and the rows' samples."""

    def __init__(self) -> None:
        self.changed = Event()
        self.text = ", ".join(f"{s:g}" for s in DEFAULT_SCALES)
        self.scales: tuple[float, ...] = DEFAULT_SCALES
        self.error = ""
        self.specs: list[SampleSpec] = []  # the running (or last) sweep's rows
        self.rows: list[np.ndarray] = []  # final samples (N, C, H, W) of the rows done, in order
        self.busy = False

    def set_text(self, text: str) -> None:
        """The scales as typed; a text that does not parse keeps the last good scales and sets ``error``."""
        self.text = text
        try:
            self.scales, self.error = parse_scales(text), ""
        except ValueError as exc:
            self.error = str(exc)
        self.changed.emit("scales")

    def plan(self, base: SampleSpec) -> list[SampleSpec]:
        """Start a sweep of ``base`` (its prompt, seed, sampler, N): one spec per scale, nothing recorded.

        Raises ValueError while the scales do not parse, or for a spec with no prompt to guide by.
        """
        if self.error:
            raise ValueError(self.error)
        if base.prompt is None:
            raise ValueError("a guidance sweep needs a text-to-image model")
        self.specs = [replace(base, guidance=s, record=False) for s in self.scales]
        self.rows = []
        self.changed.emit("plan")
        return self.specs

    def next_spec(self) -> SampleSpec | None:
        """The spec of the first row not done (None: the sweep is complete)."""
        return self.specs[len(self.rows)] if len(self.rows) < len(self.specs) else None

    def add_row(self, final: np.ndarray) -> None:
        """The next row's final samples arrived."""
        if self.next_spec() is None:
            return
        self.rows.append(np.asarray(final, np.float32))
        self.changed.emit("row")

    def set_busy(self, busy: bool) -> None:
        self.busy = bool(busy)
        self.changed.emit("busy")

    @staticmethod
    def row_caption(spec: SampleSpec) -> str:
        """"s = 0 (unconditional)", "s = 1 (conditional)", "s = 3"."""
        s = spec.guidance
        return f"s = {s:g}" + {0.0: " (unconditional)", 1.0: " (conditional)"}.get(s, "")
