"""The Monitor's time-lapse state: the run's saved preview steps, the one chosen, whether the choice
follows the newest and whether it plays (Qt-free; :class:`~genstudio.gui.widgets.timelapse_bar.TimeLapseBar`
and the Monitor render it).

Previews arrive while a run trains (or while a followed run folder grows): the choice follows the
newest one until the person picks another step (the slider, a click on the loss curve, playing),
and follows again once they pick the newest. Every change emits ``changed(what)``: ``"frames"``
(steps were added or cleared), ``"index"`` (another step is chosen) or ``"playing"``.
"""

from __future__ import annotations

import bisect
from pathlib import Path

from genstudio.views.events import Event

__all__ = ["TimeLapseState"]


class TimeLapseState:
    """Saved preview steps (ascending) with their files, the chosen index, follow and play flags."""

    def __init__(self) -> None:
        self.changed = Event()
        self.steps: list[int] = []
        self.paths: dict[int, Path] = {}
        self.index: int | None = None  # None: nothing chosen (no frames)
        self.follow = True  # the choice moves to each newest step as it arrives
        self.playing = False

    # ------------------------------------------------------------------ frames
    def set_frames(self, frames: list[tuple[int, Path]]) -> None:
        """Take the folder's ``(step, file)`` list; announce only what changed.

        Steps that disappeared (a resumed run rewrote its folder) are dropped; the chosen step stays
        chosen if it is still there, else the nearest one is.
        """
        steps = sorted({int(s) for s, _ in frames})
        paths = {int(s): Path(p) for s, p in frames}
        if steps == self.steps and paths == self.paths:
            return
        chosen = self.step()
        self.steps, self.paths = steps, paths
        if not steps:
            self.index = None
        elif self.follow or chosen is None:
            self.index = len(steps) - 1
        else:
            self.index = self._nearest(chosen)
        self.changed.emit("frames")  # the index already fits the new steps: a listener may read it
        if self.step() != chosen:
            self.changed.emit("index")

    def add_frame(self, step: int, path: Path) -> bool:
        """Take one newly saved frame after the newest (a live run's preview as it arrives) without
        the folder's list; False (nothing changed) if ``step`` is not after the newest."""
        if self.steps and int(step) <= self.steps[-1]:
            return False
        self.set_frames([*self.paths.items(), (int(step), Path(path))])
        return True

    def clear(self) -> None:
        """Forget the frames (a new run); follow the newest again."""
        self.playing = False
        self.follow = True
        self.set_frames([])

    # ------------------------------------------------------------------ choosing
    def choose(self, index: int) -> None:
        """The person picks frame ``index`` (clipped): the newest follows new frames, any other holds."""
        if not self.steps:
            return
        index = min(max(int(index), 0), len(self.steps) - 1)
        self.follow = index == len(self.steps) - 1
        self._set_index(index)

    def choose_step(self, step: float) -> None:
        """The person points at ``step`` (a click on the loss curve): the nearest saved step."""
        if self.steps:
            self.choose(self._nearest(step))

    def step(self) -> int | None:
        """The chosen step, None without frames."""
        return None if self.index is None else self.steps[self.index]

    def path(self) -> Path | None:
        """The chosen step's file."""
        step = self.step()
        return None if step is None else self.paths[step]

    def is_newest(self) -> bool:
        return self.index is not None and self.index == len(self.steps) - 1

    # ------------------------------------------------------------------ playing
    def play(self) -> None:
        """Start the animation (from the first frame if the newest is shown)."""
        if len(self.steps) < 2:
            return
        if self.is_newest():
            self.choose(0)
        self.follow = False
        self.playing = True
        self.changed.emit("playing")

    def pause(self) -> None:
        if self.playing:
            self.playing = False
            self.changed.emit("playing")

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def advance(self) -> None:
        """The next frame of the animation; on the newest it stops there and follows again."""
        if not self.playing or self.index is None:
            return
        self.choose(self.index + 1)
        if self.is_newest():
            self.pause()

    # ------------------------------------------------------------------ internals
    def _nearest(self, step: float) -> int:
        i = bisect.bisect_left(self.steps, step)
        if i == len(self.steps) or (i > 0 and step - self.steps[i - 1] <= self.steps[i] - step):
            i -= 1
        return i

    def _set_index(self, index: int | None) -> None:
        if index == self.index:
            return
        self.index = index
        self.changed.emit("index")
