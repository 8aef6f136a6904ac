"""The reverse view's "Invert a picture…": a picture of your own (opened, or dropped on the view) run
back to x_T by DDIM inversion on the sampling thread (progress and Cancel as for sampling), then shown
as a recording the timestep bar scrubs; Branch regenerates it from any inverted x_t with another seed,
η or prompt. A part of :class:`~genstudio.gui.widgets.reverse_view.ReverseView`, mixed into it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from genstudio.gui.widgets.image_source import samples_folder
from genstudio.gui.window_drop import is_model_path
from genstudio.scrub import load_image_file

__all__ = ["ReverseInvert", "INVERSION_STEPS"]

INVERSION_STEPS = 50  # DDIM steps of an inversion when the spec's sampler has none of its own
_FILE_TYPES = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)"


class ReverseInvert:
    """Invert a picture into the recording (uses the view's model, state, sampler, controls and ``message``)."""

    def inversion_steps(self) -> int:
        """DDIM steps of the next inversion: the spec's when it is DDIM's, else :data:`INVERSION_STEPS`."""
        spec = self.state.spec
        steps = spec.steps if spec.definition.takes_steps else INVERSION_STEPS
        return max(1, min(steps, self._model.schedule.num_steps))

    def invert_file(self, path: str | Path) -> bool:
        """Invert the picture at ``path`` (centre-cropped and resized to the model's size); False, and a
        ``message``, when it cannot be read or no image model is loaded."""
        m = self._model
        if m is None or m.is_points:
            self.message.emit("inverting a picture needs a diffusion model of images")
            return False
        channels, size = m.sample_shape[0], m.sample_shape[-1]
        try:
            image = load_image_file(path, int(size), int(channels))  # (C, size, size) in [−1, 1]
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        return self.invert_image(image, Path(path).name)

    def invert_image(self, image: np.ndarray, name: str = "picture") -> bool:
        """Invert ``image`` (C, H, W) in [−1, 1] with DDIM (the spec's steps; a text model: the prompt in
        the field) on the sampling thread; False while a job runs."""
        if self._model is None or self.sampler.is_busy() or self.sampler.is_closed():
            return False
        if error := self.state.prompt_error():
            self.message.emit(error)
            return False
        steps = self.inversion_steps()
        prompt = self.state.spec.prompt if self.state.takes_text() else None
        self.state.set_result(None)  # the old recording is being replaced
        self.controls.start_progress(2 * steps)
        self.sampler.start_inversion(self._model, image, name, steps, prompt)
        self.message.emit(f"inverting {name}: DDIM {steps} steps up to x_T, then {steps} back…")
        return True

    def _on_inverted(self, picture) -> None:
        """The inversion arrived: it becomes the recording (branching from it regenerates with η = 1)."""
        self.state.set_inversion(picture)
        self.message.emit(picture.describe() + ". Scrub it; Branch here regenerates from the x_t shown")

    @Slot()
    def _ask_invert(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Invert a picture to the model's noise", samples_folder(),
                                              _FILE_TYPES)
        if path:
            self.invert_file(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls() and any(u.isLocalFile() and not is_model_path(u.toLocalFile())
                                              for u in event.mimeData().urls()):  # a model goes to the window
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files and self.invert_file(files[0]):
            event.acceptProposedAction()
