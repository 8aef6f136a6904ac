"""The Latent view's part for style-based generators: it adds the "Style" tab (directions in W, noise,
layer view: :class:`~genstudio.gui.widgets.style_panel.StylePanel`) and the "Style mixing" tab
(:class:`~genstudio.gui.widgets.style_mixing.StyleMixingView`) when the model has styles, routes the
top bar's truncation ψ into W, and renders the picture through the style state so the layer view
follows every slider. A part of :class:`~genstudio.gui.widgets.latent_panel.LatentView`, mixed into it."""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from genstudio.gui.widgets.style_mixing import StyleMixingView
from genstudio.gui.widgets.style_panel import StylePanel
from genstudio.latent import map_latents
from genstudio.views.style import StyleState, w_directions

__all__ = ["LatentStyle"]

PSI_TIP_Z = "Truncation ψ: z ← ψ·z; smaller is more typical, less varied"
PSI_TIP_W = "Truncation ψ in W: w ← w̄ + ψ (w − w̄), w̄ the mean of 10,000 draws; 0 gives the average face"


class LatentStyle:
    """Widgets ⇄ :class:`~genstudio.views.style.StyleState` (uses the view's ``_side``, ``_left``,
    ``_renderer``, ``_psi_slider``, ``state``, ``_model``, ``_interp`` and ``_request``)."""

    def _style_setup(self) -> None:
        self.style = StyleState()
        self.style.changed.connect(self._on_style)
        self.style_panel = StylePanel(self.style)
        self.style_mixing = StyleMixingView(self.style)
        self._left.currentChanged.connect(self._style_tab_shown)

    def _style_set_model(self, model: Any) -> None:
        """Show or hide the style tabs for ``model`` and start its W directions."""
        self.style.set_model(model)
        for tabs, page, name in ((self._side, self.style_panel, "Style"), (self._left, self.style_mixing,
                                                                           "Style mixing")):
            i = tabs.indexOf(page)
            if self.style.active and i < 0:
                tabs.addTab(page, name)
            elif not self.style.active and i >= 0:
                tabs.removeTab(i)
        self._psi_slider.setToolTip(PSI_TIP_W if self.style.active else PSI_TIP_Z)
        if self.style.active:
            self._renderer.submit("w_directions", lambda progress: w_directions(model))

    def _style_psi(self, psi: float) -> bool:
        """The top bar's ψ: into W for a style model (True), else not handled."""
        if not self.style.active:
            return False
        self.style.set_psi(psi)
        self._psi_label.setText(f"ψ {psi:.2f}")
        return True

    def _on_style(self, what: str, index: int | None) -> None:
        if what in ("model", "directions"):
            return
        if what == "mixing":
            self._request_mixing()
            return
        self._request()  # the picture and the neighbourhood grid
        self._request_mixing()
        if what != "layer":
            self._interp.refresh()  # the A → B walk shows the same ψ, W directions and noise

    def _pictures(self) -> Callable[[np.ndarray], np.ndarray]:
        """How latents become pictures now (frozen here, run on the render thread): through the style
        settings for a style model, so the neighbourhood grid and the A → B walk show what the picture shows."""
        return functools.partial(map_latents, self.style.snapshot() if self.style.active else self._model)

    def _style_job(self, z: np.ndarray, seed: int, edited: bool):
        """The main render job for a style model: the picture and the chosen layer's view."""
        snap = self.style.snapshot()

        def job(progress):
            image, view = snap.render(z)
            return (z, seed, snap.psi), image, edited, view

        return job

    def _request_mixing(self) -> None:
        if self.style.active and self._left.currentWidget() is self.style_mixing:
            snap = self.style.snapshot()
            self._renderer.submit("mixing", lambda progress: snap.mixing_grid())

    def _style_tab_shown(self, index: int) -> None:
        if self.style.active and self._left.widget(index) is self.style_mixing:
            self._request_mixing()

    def _style_rendered(self, kind: str, result: Any) -> bool:
        """Take a style render's result (True), or leave it to the view."""
        if kind == "w_directions":
            self.style.set_directions(*result)
        elif kind == "mixing":
            self.style_mixing.show_grid(result)
        else:
            return False
        return True
