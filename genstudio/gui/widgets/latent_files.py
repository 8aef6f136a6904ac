"""The latent explorer's clipboard and files: copy / paste z as text, save the picture (PNG with z,
seed and ψ in its text chunks) and z (``.npy``): a part of
:class:`~genstudio.gui.widgets.latent_panel.LatentView`, mixed into it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from genstudio.imaging import DEFAULT_EXPORT_SIZE, cloud_extent, resize_long_side, save_png, scatter_image
from genstudio.latent import encode_z, save_latent
from genstudio.scrub import real_points

__all__ = ["LatentFiles"]


class LatentFiles:
    """Copy, paste and save z and the picture (a :class:`~genstudio.gui.widgets.latent_panel.LatentView`
    part: it uses the view's model, sliders, picture, pad, interpolation panel and status line)."""

    def copy_z(self) -> str:
        """Put the current z on the clipboard as a JSON list; returns the text."""
        text = encode_z(self.state.current_z())
        QGuiApplication.clipboard().setText(text)
        self._say("Copied z to the clipboard.")
        return text

    def paste_z(self, text: str | None = None) -> bool:
        """Set z from ``text`` (default: the clipboard). Bad text leaves z unchanged and says why."""
        if self._model is None:
            return False
        text = QGuiApplication.clipboard().text() if text is None else text
        try:
            self.state.paste(text)
        except ValueError as exc:
            self._say(f"Paste z: {exc}", error=True)
            return False
        self._say("Pasted z.")
        return True

    def save_image(self, path: str | Path) -> Path:
        """Write the picture shown as PNG with its z, seed and ψ in text chunks.

        Written at the export size (the interpolation row's ⤢ button, also in the z ▾ menu); a 2-D
        model writes a scatter plot: the real data faint, G's cloud, and the current G(z) in yellow.
        """
        if self._shown is None:
            raise RuntimeError("nothing rendered yet")
        z, seed, psi = self._shown
        size, smooth = self._interp.export_size.long_side(), self._interp.export_size.smooth()
        if self._model.is_points:
            real = real_points(self._model.meta.get("data", ""))
            out_point = self._pad.output_point()[None]  # (1, 2)
            picture = scatter_image(self._cloud if self._cloud is not None else np.empty((0, 2)),
                                    cloud_extent(real, self._cloud, out_point), size or DEFAULT_EXPORT_SIZE,
                                    real=real, title=f"G(z), seed {seed}", highlight=out_point)
        else:
            picture = resize_long_side(self._image.current_grid(), size, smooth)
        meta = {"z": encode_z(z), "seed": str(seed), "psi": f"{psi:g}", "model": self._model.describe(),
                "Software": "GenStudio"}
        out = save_png(path, picture, meta)
        self._say(f"Saved {out.name}.")
        return out

    def save_z(self, path: str | Path) -> Path:
        """Write the current z as a float32 ``.npy`` (atomically); returns the path."""
        out = Path(save_latent(path, self.state.current_z()))
        self._say(f"Saved {out.name}.")
        return out

    @Slot()
    def _on_paste(self) -> None:
        self.paste_z()  # (clicked(bool) must not reach paste_z's text argument)

    def project_image(self, path: str | Path, steps: int = 300) -> bool:
        """Start finding the z whose image matches the picture at ``path`` (a GAN of images): when it
        is found it becomes the explorer's z, so the sliders edit the person's own picture."""
        from genstudio.data import DataError, uint8_to_tensor
        from genstudio.data.folder import read_one_image

        if self._model is None or self._model.is_points:
            self._say("Projecting a picture needs a GAN of images.", error=True)
            return False
        channels, size = self._model.sample_shape[0], self._model.sample_shape[-1]
        try:
            pixels = read_one_image(path, int(size), gray=channels == 1)  # (size, size, C) uint8
        except DataError as exc:
            self._say(str(exc), error=True)
            return False
        image = uint8_to_tensor(pixels[None].copy()).numpy()[0]  # (C, size, size) in [-1, 1]
        if not self._projector.start(self._model, image, Path(path).name, steps):
            return False  # one is running: its details must stay for its result
        self._projecting = (self._model, Path(path).name, image)
        return True

    @Slot(object)
    def _on_projected(self, projection) -> None:
        from genstudio.metrics import psnr

        model, name, image = self._projecting
        if model is not self._model:  # another model is shown now: its latent is another space
            return
        self.state.set_z(projection.z)
        self._say(f"Projected {name}: {psnr(projection.image, image):.1f} dB PSNR at {image.shape[-1]} px; "
                  "the sliders now edit it.")

    @Slot()
    def _ask_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Project a picture into the GAN", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.webp *.gif *.tif *.tiff)")
        if path:
            self.project_image(path)

    @Slot()
    def _ask_save_image(self) -> None:
        if self._shown is not None:
            self._ask_save("the image", f"seed{self.state.seed}.png", "PNG (*.png)", self.save_image)

    @Slot()
    def _ask_save_z(self) -> None:
        self._ask_save("z", f"seed{self.state.seed}.npy", "NumPy (*.npy)", self.save_z)

    def _ask_save(self, what: str, name: str, file_filter: str, save) -> None:
        """A save dialog for ``what``; ``save(path)`` writes it, and a failure is said in the status line."""
        path, _ = QFileDialog.getSaveFileName(self, f"Save {what}", name, file_filter)
        try:
            if path:
                save(path)
        except OSError as exc:
            self._say(f"Could not save {what}: {exc}", error=True)
