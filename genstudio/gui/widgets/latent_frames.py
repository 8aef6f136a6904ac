"""A latent model's step in the scrubber: the latent channels of x_t and x̂₀ and their exact decodes.

A model that samples in an autoencoder's latent space (:func:`genstudio.latent_images.is_latent_model`:
a Stable Diffusion folder, GenStudio's own latent diffusion) records latents, which are not pictures
until its decoder runs. The reverse view draws its grid, panels and sampling preview through the
model's fast ``latent_preview`` (a linear map of the channels); :class:`LatentFrames` is the row
under them for the selected sample at the selected step: each latent channel of x_t and of x̂₀ as a
grey picture (±3, unit-variance latents), and both decoded exactly by ``decode_latents`` (the VAE)
on a :class:`~genstudio.gui.render_worker.RenderController` thread, newest request wins. Hidden
for a model that samples pixels.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QWidget

from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.imaging import make_grid
from genstudio.latent_images import channel_tiles, is_latent_model

__all__ = ["LatentFrames"]


class LatentFrames(QWidget):
    """x_t's channels · x̂₀'s channels · decoded x_t · decoded x̂₀, for one sample at one step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._render = RenderController(self, first=("decode",), torch_threads=1)
        self._render.rendered.connect(self._on_decoded)
        self._render.failed.connect(self._on_failed)
        self.views = {k: SampleView() for k in ("x_t", "x0", "decoded_x_t", "decoded_x0")}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for v in self.views.values():
            row.addWidget(v, 1)
        self.decoded: tuple[str, np.ndarray] | None = None  # (what, (2, 3, H, W)) the newest exact decode
        self.setVisible(False)

    def show_step(self, model, result, k: int, i: int, final: bool) -> None:
        """Sample ``i`` of a :class:`~genstudio.sampling.SamplingResult` at recorded step ``k`` (``final``:
        the final sample); hidden unless ``model`` samples in a latent space."""
        if model is None or result is None or not is_latent_model(model) or result.final.ndim != 4:
            self.clear()
            return
        self.setVisible(True)
        traj = result.trajectory
        x_t = result.final[i] if final else traj.x_t[k][i]  # (C, h, w)
        x0 = result.final[i] if final else traj.x0[k][i]
        what = "the final sample" if final else f"t = {int(traj.timesteps[k])}"
        cols = int(np.ceil(np.sqrt(x_t.shape[0])))
        self.views["x_t"].set_images(make_grid(channel_tiles(x_t), nrow=cols, pad=1), "latent channels of x_t")
        self.views["x0"].set_images(make_grid(channel_tiles(x0), nrow=cols, pad=1), "latent channels of x̂₀")
        z = torch.from_numpy(np.stack([x_t, x0]).astype(np.float32))  # (2, C, h, w)
        self._render.submit("decode", lambda _p: (what, model.decode_latents(z).numpy()))

    @Slot(str, int, object)
    def _on_decoded(self, _kind: str, _seq: int, result: object) -> None:
        what, pics = result  # (2, 3, H, W) in [−1, 1]
        self.decoded = (what, pics)
        self.views["decoded_x_t"].set_images(make_grid(pics[:1], pad=1), f"x_t decoded (VAE), {what}")
        self.views["decoded_x0"].set_images(make_grid(pics[1:], pad=1), f"x̂₀ decoded (VAE), {what}")

    @Slot(str, int, str)
    def _on_failed(self, _kind: str, _seq: int, message: str) -> None:
        self.views["decoded_x0"].clear()
        self.views["decoded_x0"].set_images(np.zeros((1, 3, 8, 8), np.float32), f"decoding failed: {message}")

    def clear(self) -> None:
        self._render.cancel("decode")
        self.decoded = None
        for v in self.views.values():
            v.clear()
        self.setVisible(False)

    def idle(self) -> bool:
        return self._render.idle()

    def shutdown(self) -> None:
        self._render.shutdown()
