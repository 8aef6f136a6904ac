"""The latent the explorer shows, ``z = ψ · (z_dims + Σ_k α_k v_k)``: the seed's draw, the
dimension and direction sliders, the 2-D pad, truncation ψ, and whether z was edited since the
draw: a part of :class:`~genstudio.gui.widgets.latent_panel.LatentView`, mixed into it."""

from __future__ import annotations

import random

import numpy as np
from PySide6.QtCore import Slot

from genstudio.latent import truncate

__all__ = ["LatentZ"]


class LatentZ:
    """The seed, z and ψ (a :class:`~genstudio.gui.widgets.latent_panel.LatentView` part: it uses the
    view's model, sliders, seed box, ψ slider and label, and ``_request`` to render)."""

    def _draw(self, seed: int) -> np.ndarray:
        return self._model.noise(1, int(seed))[0].numpy().astype(np.float32)  # (nz,)

    def current_z(self) -> np.ndarray:
        """The latent shown: ``ψ · (z_dims + Σ α_k v_k)``, float32 (nz,)."""
        z = self._dims.values().astype(np.float32)
        alpha = self._dirs.values()
        if self._directions is not None and alpha.size and np.any(alpha):
            z = (z.astype(np.float64) + alpha @ self._directions.astype(np.float64)).astype(np.float32)
        return truncate(z, self._psi)

    def seed(self) -> int:
        return self._seed

    def z_edited(self) -> bool:
        """Whether z (before ψ) is no longer the seed's draw: a slider, a direction, the pad or a paste
        moved it. The seed field then reads "seed 123 *" and the picture's caption "seed 123, edited"."""
        if self._model is None:
            return False
        if np.any(self._dirs.values()):
            return True
        return not np.array_equal(self._dims.values().astype(np.float32), self._draw(self._seed))

    def set_seed(self, seed: int) -> None:
        """Draw z for ``seed`` (locked dimensions keep their values)."""
        if int(seed) == self._seed_box.value():
            self._on_seed(int(seed))  # the same seed again: draw anyway (locks may have changed)
        else:
            self._seed_box.setValue(int(seed))  # -> _on_seed

    @Slot(int)
    def _on_seed(self, seed: int) -> None:
        self._seed = int(seed)
        if self._model is not None:
            self._dims.set_values(self._draw(seed), respect_locks=True)
            self._request()

    @Slot()
    def random(self) -> None:
        """A fresh random seed and its draw; locked dimensions keep their values."""
        self.set_seed(random.randrange(2**31 - 1))

    @Slot()
    def reset(self) -> None:
        """Back to the seed's draw in every dimension, no direction offsets, ψ = 1."""
        if self._model is None:
            return
        self._dims.set_values(self._draw(self._seed))
        self._dirs.set_values(np.zeros(self._dirs.count()))
        self._set_psi(1.0)
        self._request()

    def set_psi(self, psi: float) -> None:
        """Set truncation ψ in [0, 1] (as the slider does)."""
        self._psi_slider.setValue(int(round(float(psi) * 100)))

    def _set_psi(self, psi: float) -> None:
        self._psi_slider.blockSignals(True)
        self._psi_slider.setValue(int(round(psi * 100)))
        self._psi_slider.blockSignals(False)
        self._psi = float(psi)
        self._psi_label.setText(f"ψ {psi:.2f}")

    @Slot(int)
    def _on_psi(self, value: int) -> None:
        self._psi = value / 100.0
        self._psi_label.setText(f"ψ {self._psi:.2f}")
        self._request()

    @Slot(int, float)
    def _on_dim(self, index: int, value: float) -> None:
        self._request()

    @Slot(int, float)
    def _on_dir(self, index: int, value: float) -> None:
        self._request()

    @Slot(float, float)
    def _on_pad(self, x: float, y: float) -> None:
        if self._model is not None:
            self._dims.set_value(0, x)
            self._dims.set_value(1, y)
            self._request()
