"""The Scrubber's prompt walk: from the Reverse tab's prompt to another, on one fixed noise (Qt-free).

:class:`PromptWalk` holds what the person set — the prompt to walk to, the number of frames, the
method (slerp or lerp, :mod:`genstudio.text2image.walk`) and which sample's noise — and the frames as
they arrive; the walk starts from the scrubber's spec (prompt A, negative prompt, s, sampler, seed),
so frame 0 is exactly sample #``index`` of what Sample draws. :class:`~genstudio.gui.widgets.prompt_walk.PromptWalkView`
runs it on a worker thread and draws it.

Every change emits ``changed(what)``: ``"options"`` (the target prompt, frames, method, index or the
error), ``"plan"`` (a walk started: the frames were emptied), ``"frame"`` (a frame arrived) and ``"busy"``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from genstudio.sampling import SampleSpec
from genstudio.text2image.walk import MAX_FRAMES, WALK_METHODS
from genstudio.views.events import Event

__all__ = ["PromptWalk", "DEFAULT_FRAMES"]

DEFAULT_FRAMES = 16


class PromptWalk:
    """The walk's target prompt and options, the spec it runs and its frames."""

    def __init__(self) -> None:
        self.changed = Event()
        self.prompt_to = ""
        self.frames = DEFAULT_FRAMES
        self.method = WALK_METHODS[0]
        self.index = 0  # the seed's sample whose noise every frame uses
        self.spec: SampleSpec | None = None  # the running (or last) walk's start (prompt A)
        self.target = ""  # … and the prompt it walks to
        self.planned = (0, WALK_METHODS[0], 0)  # its frames, method and sample index
        self.images: list[np.ndarray] = []  # frames (C, H, W) done, in order
        self.alphas: list[float] = []
        self.busy = False

    def set_options(self, *, prompt_to: str | None = None, frames: int | None = None, method: str | None = None,
                    index: int | None = None) -> None:
        """The next walk's target prompt, frame count, method and sample (each kept when None)."""
        if prompt_to is not None:
            self.prompt_to = prompt_to
        if frames is not None:
            self.frames = max(2, min(int(frames), MAX_FRAMES))
        if method is not None:
            if method not in WALK_METHODS:
                raise ValueError(f"the walk's method must be {' or '.join(WALK_METHODS)}, not {method!r}")
            self.method = method
        if index is not None:
            self.index = max(0, int(index))
        self.changed.emit("options")

    def error(self, model: Any) -> str:
        """The tokenizer's message for the target prompt ("" when it is fine or there is no text model)."""
        tokenizer = getattr(model, "tokenizer", None)
        if tokenizer is None:
            return ""
        try:
            tokenizer.encode(self.prompt_to)
        except ValueError as exc:
            return "walk to: " + str(exc)
        return ""

    def plan(self, base: SampleSpec, model: Any) -> SampleSpec:
        """Start a walk from ``base`` (the scrubber's spec: prompt A and how to sample) to the target.

        Raises ValueError (one line) for a model without text or a word it never saw.
        """
        if getattr(model, "tokenizer", None) is None or base.prompt is None:
            raise ValueError("a prompt walk needs a text-to-image model")
        if error := self.error(model):
            raise ValueError(error)
        self.spec, self.target = replace(base, n=1, record=False), self.prompt_to
        self.planned = (self.frames, self.method, self.index)
        self.images, self.alphas = [], []
        self.changed.emit("plan")
        return self.spec

    def add_frame(self, alpha: float, image: np.ndarray) -> None:
        """The next frame arrived."""
        self.images.append(np.asarray(image, np.float32))
        self.alphas.append(float(alpha))
        self.changed.emit("frame")

    def done(self) -> bool:
        """Every frame of the last walk has arrived (it can be saved as a GIF)."""
        return self.spec is not None and len(self.images) == self.planned[0]

    def set_busy(self, busy: bool) -> None:
        self.busy = bool(busy)
        self.changed.emit("busy")

    def describe(self) -> str:
        """"'a handwritten 7' → 'a handwritten 3', 16 frames (slerp), DDIM 50 steps, seed 0, sample #0"."""
        if self.spec is None:
            return ""
        s, (frames, method, index) = self.spec, self.planned
        how = s.describe().split(", 1 samples")[0]
        return (f"{s.prompt or ''!r} → {self.target!r}, {frames} frames ({method}), {how}, "
                f"s = {3.0 if s.guidance is None else s.guidance:g}, seed {s.seed}, sample #{index}")
