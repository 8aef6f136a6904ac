"""The scrubber's forward-process state: the schedule shown (the model's, or another one to compare
with), the picture x_0 and its fixed noise ε, and the timestep (Qt-free;
:class:`~genstudio.gui.widgets.forward_view.ForwardView` renders it).

Every change emits ``changed(what)``: ``"schedule"`` (the schedule or compare mode changed),
``"x0"`` (a new picture or cloud), ``"noise"`` (another ε) and ``"timestep"``. :attr:`version` bumps
whenever x_0, ε or the schedule change, so a prediction asked for earlier can be recognised as stale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genstudio.config import SCHEDULES
from genstudio.data import BUILTIN
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.scrub import ForwardProcess, fit_image
from genstudio.views.events import Event

__all__ = ["ForwardState", "DEFAULT_SIZE", "DEFAULT_CHANNELS"]

DEFAULT_SIZE, DEFAULT_CHANNELS = 32, 3  # the picture used without a model


class ForwardState:
    """What the forward view shows: a schedule, x_0 with its fixed ε, and t.

    ``model`` needs ``schedule``, ``sample_shape`` and ``is_points``, as
    :class:`~genstudio.diffusion.model.DiffusionModel` has.
    """

    def __init__(self) -> None:
        self.changed = Event()
        self.model: Any = None
        self.schedule = NoiseSchedule(1000, "linear")
        self.compare = False  # a model is loaded but another schedule is shown: no ε̂
        self.process: ForwardProcess | None = None
        self.source = ""  # what x_0 is, for captions ("faces #3", a file name, "sample #2")
        self.dataset = ""  # the built-in set x_0 came from ("" for a file or a sample)
        self.seed = 0  # of the fixed ε
        self.timestep = 0
        self.version = 0

    # ------------------------------------------------------------------ model and schedule
    def set_model(self, model: Any) -> None:
        """Use ``model`` (None: none): its schedule is shown, and x_0 waits for a picture that fits it."""
        self.model, self.compare, self.process = model, False, None
        self._apply(model.schedule if model is not None else NoiseSchedule(self.schedule.num_steps, self.schedule.kind))

    def set_schedule(self, kind: str, num_steps: int) -> None:
        """Show the forward process under schedule ``kind`` with T = ``num_steps`` (compare mode when it
        is not the model's)."""
        if kind not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {kind!r}")
        num_steps = int(num_steps)
        if (kind, num_steps) == (self.schedule.kind, self.schedule.num_steps):
            return
        m = self.model
        self.compare = m is not None and (kind, num_steps) != (m.schedule.kind, m.schedule.num_steps)
        self._apply(m.schedule if m is not None and not self.compare else NoiseSchedule(num_steps, kind))

    def use_model_schedule(self) -> None:
        """Back to the model's own schedule (leave compare mode)."""
        if self.model is not None:
            self.set_schedule(self.model.schedule.kind, self.model.schedule.num_steps)

    def _apply(self, schedule: NoiseSchedule) -> None:
        fraction = self.timestep / max(1, self.schedule.num_steps - 1)  # t keeps its place along the way
        self.schedule = schedule
        if self.process is not None:
            self.process.set_schedule(schedule)
        self.timestep = round(fraction * (schedule.num_steps - 1))
        self.version += 1
        self.changed.emit("schedule")

    def uses_model(self) -> bool:
        """Whether the model's ε̂ belongs on the pictures (a model, and its own schedule)."""
        return self.model is not None and not self.compare

    def why_no_prediction(self) -> str:
        return "compare mode" if self.compare else "no model loaded"

    # ------------------------------------------------------------------ x_0 and ε
    def image_shape(self) -> tuple[int, int]:
        """(size, channels) a picture is fitted to: the model's, or 32 px RGB without an image model."""
        m = self.model
        if m is not None and not m.is_points:
            return m.sample_shape[-1], m.sample_shape[0]
        return DEFAULT_SIZE, DEFAULT_CHANNELS

    def set_x0(self, image: np.ndarray, source: str = "image") -> None:
        """Noise this x_0: one image (C, H, W) in [−1, 1] (fitted to :meth:`image_shape`) or a 2-D cloud
        (N, 2). ValueError (a line for the person) if the model noises the other kind."""
        a = np.asarray(image, np.float32)
        cloud = a.ndim == 2 and a.shape[1] == 2
        m = self.model
        if m is not None and cloud != m.is_points:
            raise ValueError("this model noises " + ("point clouds" if m.is_points else "images"))
        if not source.startswith(tuple(f"{n} #" for n in BUILTIN)):
            self.dataset = ""
        else:
            self.dataset = source.split(" #")[0]
        size, ch = self.image_shape()
        x0 = a if cloud else fit_image(a, size, ch)[None]  # (N, 2) or (1, C, size, size)
        self.process = ForwardProcess(x0, self.schedule, self.seed)
        self.source = source
        self.version += 1
        self.changed.emit("x0")

    def new_noise(self) -> None:
        """Draw another fixed ε."""
        if self.process is None:
            return
        self.seed += 1
        self.process.new_noise(self.seed)
        self.version += 1
        self.changed.emit("noise")

    # ------------------------------------------------------------------ t
    def set_timestep(self, t: int) -> None:
        self.timestep = int(min(max(int(t), 0), self.schedule.num_steps - 1))
        self.changed.emit("timestep")

    def frame(self) -> np.ndarray | None:
        """x_t at the timestep shown, float32 (1, C, H, W) or (N, 2)."""
        return None if self.process is None else self.process.frame(self.timestep)
