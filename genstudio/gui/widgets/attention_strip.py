"""Per-word cross-attention maps at the step shown: one small map per token of the prompt (DAAM-style).

:class:`AttentionStrip` asks :meth:`Text2ImageModel.attention_maps
<genstudio.text2image.model.Text2ImageModel.attention_maps>` for the selected sample's x_t at t (the
maps averaged over heads and layers, upsampled to the image) on a
:class:`~genstudio.gui.render_worker.RenderController` thread, newest request wins, and shows one
map per word, labelled with it. Each map is stretched to its own range (white: where that word is attended to
most, black: least), as DAAM draws them: the softmax over the prompt's tokens gives every word a
similar share almost everywhere, so one shared scale shows near-uniform grey. One call is a
single forward of the network at batch 1 (about 3 ms for the bundled 16 px model on one core).
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.sample_view import SampleView

__all__ = ["AttentionStrip", "MAX_WORDS_SHOWN"]

MAX_WORDS_SHOWN = 12  # a longer prompt shows its first 12 words' maps


class AttentionStrip(QWidget):
    """A row of per-word attention maps for (x_t, t, prompt); hidden when there is no prompt."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._render = RenderController(self, first=("attention",), torch_threads=1)
        self._render.rendered.connect(self._on_maps)
        self._render.failed.connect(lambda _k, _s, message: self._title.setText(f"attention maps failed: {message}"))
        self._title = QLabel("")
        self._title.setStyleSheet("color: #c8c8c8;")
        self.maps = [SampleView() for _ in range(MAX_WORDS_SHOWN)]
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._title)
        for v in self.maps:
            row.addWidget(v, 1)
        self.words: list[str] = []
        self.setMaximumHeight(110)
        self.setVisible(False)

    def request(self, model, x_t: np.ndarray, t: int, prompt: str, what: str) -> None:
        """Compute the maps of ``prompt`` for one sample ``x_t`` (C, H, W) at timestep ``t`` off the GUI thread."""
        if model is None or not hasattr(model, "attention_maps") or not (prompt or "").strip():
            self.clear()
            return
        self.setVisible(True)
        x = torch.from_numpy(np.asarray(x_t, np.float32)[None].copy())  # (1, C, H, W)
        tt = torch.tensor([int(t)])
        self._render.submit("attention", lambda _p: (what, *model.attention_maps(x, tt, prompt)))

    def show_step(self, model, result, k: int, i: int, final: bool) -> None:
        """The maps of sample ``i`` of a :class:`~genstudio.sampling.SamplingResult` at recorded step
        ``k`` (``final``: the final sample, at the last step's t); none for an unguided recording."""
        traj, prompt = result.trajectory, result.spec.prompt
        if traj.guidance is None or not prompt:
            self.clear()
            return
        x = result.final[i] if final else traj.x_t[k][i]
        t = int(traj.timesteps[k])
        self.request(model, x, t, prompt, "final" if final else f"t = {t}")

    def clear(self) -> None:
        self._render.cancel("attention")
        self.words = []
        self.setVisible(False)

    def idle(self) -> bool:
        return self._render.idle()

    def shutdown(self) -> None:
        self._render.shutdown()

    @Slot(str, int, object)
    def _on_maps(self, _kind: str, _seq: int, result: object) -> None:
        what, words, maps = result  # maps (1, n_words, H, W) ≥ 0
        a = maps[0].numpy().astype(np.float32)[:MAX_WORDS_SHOWN]
        lo, hi = a.min(axis=(1, 2), keepdims=True), a.max(axis=(1, 2), keepdims=True)
        a = (a - lo) / np.maximum(hi - lo, 1e-8) * 2 - 1  # each word its own range: where, not how much
        self.words = list(words[:MAX_WORDS_SHOWN])
        self._title.setText(f"attention\nper word\n{what}")
        self._title.setToolTip("each map stretched to its own range: white where the word is attended to most")
        for k, view in enumerate(self.maps):
            view.setVisible(k < len(self.words))
            if k < len(self.words):
                view.set_images(a[k][None, None], self.words[k])
