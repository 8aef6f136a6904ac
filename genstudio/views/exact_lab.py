"""The exact-denoiser side of the scrubber's 2-D view: which fields are drawn, the heat map, the
error curve and the perfect model's samples (Qt-free; :class:`~genstudio.gui.widgets.exact_panel.ExactPanel`
and the reverse view render it).

Every change emits ``changed(what)``: ``"model"`` (a model arrived: its exact denoiser, or the
reason there is none), ``"fields"`` (learned, exact or both), ``"heat"``, ``"exact_samples"`` (sample
the exact denoiser too), ``"curve"`` (the error against t arrived) and ``"exact_result"`` (the exact
denoiser's recording arrived or was dropped).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from genstudio.diffusion.exact import ExactDenoiser
from genstudio.diffusion.exact_compare import ErrorCurve, exact_denoiser_of
from genstudio.sampling import SampleSpec, SamplingResult
from genstudio.views.events import Event

__all__ = ["ExactLab", "FIELDS"]

#: What the arrows show: key → label of the panel's list.
FIELDS = {"learned": "−ε̂ (learned)", "exact": "−ε* (exact)", "both": "both, overlaid"}


class ExactLab:
    """The learned model against its exact denoiser: what is drawn, and what has been computed.

    ``model`` needs ``is_points``, ``schedule`` and ``meta`` (its data set), as a 2-D
    :class:`~genstudio.diffusion.model.DiffusionModel` has; an image model has no exact denoiser.
    """

    def __init__(self) -> None:
        self.changed = Event()
        self.model: Any = None
        self.exact: ExactDenoiser | None = None
        self.note = ""  # why there is no exact denoiser ("" when there is one, or no model)
        self.fields = "learned"
        self.heat = False
        self.exact_samples = False
        self.curve: ErrorCurve | None = None
        self.exact_result: SamplingResult | None = None

    def set_model(self, model: Any) -> None:
        """Compare ``model`` with the exact denoiser of its data (a 2-D model only); drops the rest."""
        self.model, self.exact, self.note = model, None, ""
        self.curve = self.exact_result = None
        if model is not None and getattr(model, "is_points", False):
            try:
                self.exact = exact_denoiser_of(model)
            except (ValueError, OSError) as exc:  # DataError for a data set this machine cannot load
                self.note = f"no exact denoiser: {exc}"
        self.changed.emit("model")

    @property
    def available(self) -> bool:
        return self.exact is not None

    def describe(self) -> str:
        """One line on the ideal model compared with ("" without one)."""
        return self.exact.mixture.description if self.exact is not None else self.note

    def set_fields(self, fields: str) -> None:
        """Draw −ε̂, −ε* or both (a key of :data:`FIELDS`)."""
        if fields not in FIELDS:
            raise ValueError(f"fields must be one of {', '.join(FIELDS)}, not {fields!r}")
        self.fields = fields
        self.changed.emit("fields")

    def shows(self, which: str) -> bool:
        """Whether the ``"learned"`` or ``"exact"`` field is drawn now."""
        return self.fields in (which, "both") and (which == "learned" or self.available)

    def arrows_caption(self) -> str:
        """What the arrows are, for the plot's caption: "−ε̂", "−ε* (exact)" or both with their colours."""
        if not self.shows("exact"):
            return "−ε̂"
        return "−ε̂ (grey) and −ε* (orange)" if self.shows("learned") else "−ε* (exact)"

    def set_heat(self, on: bool) -> None:
        """Show the heat map of ‖ε̂ − ε*‖ at the step shown."""
        self.heat = bool(on)
        self.changed.emit("heat")

    def set_exact_samples(self, on: bool) -> None:
        """Also sample the exact denoiser (same spec, same noise) and draw its points with the learned ones."""
        self.exact_samples = bool(on)
        if not on:
            self.exact_result = None
        self.changed.emit("exact_samples")

    def set_curve(self, curve: ErrorCurve | None) -> None:
        self.curve = curve
        self.changed.emit("curve")

    def exact_spec(self, learned: SamplingResult) -> SampleSpec:
        """The spec the exact denoiser samples with beside ``learned``: the same, recorded."""
        return replace(learned.spec, record=True)

    def set_exact_result(self, result: SamplingResult | None) -> None:
        self.exact_result = result
        self.changed.emit("exact_result")
