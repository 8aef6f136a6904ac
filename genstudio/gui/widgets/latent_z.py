"""The latent explorer's binding to its state (:class:`~genstudio.views.latent.LatentState`): edits in
the seed field, the ψ slider, the dimension and direction sliders, the locks and the 2-D pad go to the
state; the state's ``changed`` event puts its values back into those widgets and asks for a render.
A part of :class:`~genstudio.gui.widgets.latent_panel.LatentView`, mixed into it."""

from __future__ import annotations

from PySide6.QtCore import Slot

__all__ = ["LatentZ"]


class LatentZ:
    """Widgets ⇄ :class:`~genstudio.views.latent.LatentState` (a
    :class:`~genstudio.gui.widgets.latent_panel.LatentView` part: it uses the view's ``state``,
    sliders, seed box, ψ slider and label, pad, and ``_request`` to render)."""

    # ------------------------------------------------------------------ state -> widgets
    def _on_state(self, what: str, index: int | None) -> None:
        s = self.state
        if s.model is None or what in ("model", "walk", "t"):
            return  # set_model rebuilds the rows; the interpolation panel follows the walk itself
        if what == "drawn":
            self._show_seed(s.seed)
            self._dims.set_values(s.dims)  # re-anchored: a row's ⟲ returns here
            if self._dirs.count() == s.alpha.size:
                self._dirs.set_values(s.alpha)
            self._show_psi(self.style.psi if self.style.active else s.psi)
        elif what == "dim":
            if self._dims.values()[index] != s.dims[index]:
                self._dims.set_value(index, s.dims[index])
        elif what == "point":
            for i in (0, 1):
                self._dims.set_value(i, s.dims[i])
        elif what == "alpha":
            if self._dirs.values()[index] != s.alpha[index]:
                self._dirs.set_value(index, s.alpha[index])
        elif what == "psi":
            self._show_psi(s.psi)
        elif what == "locks":
            self._dims.set_locked(index, bool(s.locked[index]), emit=False)
            return
        elif what == "directions":
            return
        self._request()

    def _show_seed(self, seed: int) -> None:
        if self._seed_box.value() != seed:
            self._seed_box.blockSignals(True)
            self._seed_box.setValue(seed)
            self._seed_box.blockSignals(False)

    def _show_psi(self, psi: float) -> None:
        position = int(round(psi * 100))
        if self._psi_slider.value() != position:
            self._psi_slider.blockSignals(True)
            self._psi_slider.setValue(position)
            self._psi_slider.blockSignals(False)
        self._psi_label.setText(f"ψ {psi:.2f}")

    # ------------------------------------------------------------------ widgets -> state
    @Slot(int)
    def _on_seed(self, seed: int) -> None:
        self.state.set_seed(seed)

    @Slot()
    def random(self) -> None:
        """A fresh random seed and its draw; locked dimensions keep their values."""
        self.state.random()

    @Slot()
    def reset(self) -> None:
        """Back to the seed's draw in every dimension, no direction offsets, ψ = 1."""
        if self.style.active:
            self.style.set_psi(1.0)
        self.state.reset()

    @Slot(int)
    def _on_psi(self, value: int) -> None:
        if not self._style_psi(value / 100.0):  # a style model truncates in W (latent_style.py)
            self.state.set_psi(value / 100.0)

    @Slot(int, float)
    def _on_dim(self, index: int, value: float) -> None:
        self.state.set_dim(index, value)

    @Slot(int, bool)
    def _on_lock(self, index: int, locked: bool) -> None:
        self.state.set_locked(index, locked)

    @Slot(int, float)
    def _on_dir(self, index: int, value: float) -> None:
        self.state.set_alpha(index, value)

    @Slot(float, float)
    def _on_pad(self, x: float, y: float) -> None:
        if self.state.model is not None:
            self.state.set_point(x, y)
