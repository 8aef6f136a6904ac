"""The reverse view's 2-D plot: one frame for a whole recording, the field of −ε̂ at the step shown
(computed on a worker thread) and, where the data's exact denoiser is known, −ε*, the heat map of
‖ε̂ − ε*‖, the error against t and the exact denoiser's own samples (the view's
:class:`~genstudio.gui.widgets.exact_panel.ExactPanel` draws them): a part of
:class:`~genstudio.gui.widgets.reverse_view.ReverseView`, mixed into it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot

from genstudio.diffusion.exact_compare import compare_fields, error_curve
from genstudio.gui.widgets.exact_panel import TRAILS
from genstudio.imaging import cloud_extent
from genstudio.sampling import SamplingProgress, SamplingResult, sampling_run
from genstudio.scrub import eps_field, field_arrows
from genstudio.views.scrubber import FINAL


def exact_sampling(exact, spec, progress) -> SamplingResult:
    """Sample the exact denoiser with ``spec`` (on the render thread; ``progress`` raises when superseded)."""
    for event in sampling_run(exact, spec, record=True):
        if isinstance(event, SamplingProgress):
            if event.done % 25 == 0:  # a cancellation point without a signal per step
                progress(event.done / event.total)
        elif isinstance(event, SamplingResult):
            return event
    raise RuntimeError("the exact denoiser's sampling ended without a result")

__all__ = ["ReversePoints"]


class ReversePoints:
    """Framing and ε̂ field of a 2-D model's cloud (uses the view's model, state, real data, cloud
    plot and field worker)."""

    def _fit_extent(self) -> None:
        """Frame a 2-D plot on the data and the recording, one box for every step.

        The box holds the real data and the central 98 % of the cloud at each recorded step (x_T is
        N(0, I)-wide, wider than ring8's radius 2), padded and square. It is fixed per recording, so
        the view does not jump while scrubbing; a few stragglers may lie outside it.
        """
        if self._model is None or not self._model.is_points:
            return
        clouds, r = [self._real], self.state.result
        if r is not None:
            traj = r.trajectory
            ks = np.unique(np.linspace(0, len(traj) - 1, min(len(traj), 40)).astype(int))
            clouds += [traj.x_t[k].astype(np.float32) for k in ks] + [r.final]
        self._extent = cloud_extent(*clouds, quantile=1.0, margin=0.08)
        self._cloud.set_view_range(*self._extent)

    def extent(self) -> tuple[float, float, float, float]:
        """The box a 2-D model's plot is framed on (and its ε̂ field and exports drawn over)."""
        return self._extent

    def _request_field(self, t: int) -> None:
        model, exact = self._model, self.exact_lab.exact
        self.exact_panel.set_timestep(None if t == FINAL else t)
        if t == FINAL or model is None:
            self._cloud.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
            self.exact_panel.show_fields(None)
            return
        extent = self._extent
        if exact is not None:  # both fields and the heat map: the panel draws what the person chose
            self._field.submit("field", lambda _p, t=t: compare_fields(model, exact, t, extent))
        else:
            self._field.submit("field", lambda _p, t=t: (t, extent, *eps_field(model, t, extent, 20)))

    @Slot(str, int, object)
    def _on_field(self, kind: str, _seq: int, result: object) -> None:
        if kind == "curve":
            self.exact_lab.set_curve(result)
            return
        if kind == "exact":
            if self.state.result is not None and result.spec == self.exact_lab.exact_spec(self.state.result):
                self.exact_lab.set_exact_result(result)
            return
        t, extent = (result.t, result.extent) if hasattr(result, "heat") else result[:2]
        if self.state.result is None or t != self.state.timestep or extent != self._extent:
            return
        if hasattr(result, "heat"):
            self.exact_panel.show_fields(result)
        else:
            self._cloud.set_arrows(result[2], field_arrows(result[3], (extent[1] - extent[0]) / 19))

    # ------------------------------------------------------------------ the exact denoiser
    def _exact_for_model(self) -> None:
        """A new model: its exact denoiser (if its data has one) and, in the background, its error by t."""
        self.exact_lab.set_model(self._model if self._model is not None and self._model.is_points else None)
        model, exact = self._model, self.exact_lab.exact
        if exact is not None:
            self._field.submit("curve", lambda _p: error_curve(model, exact))
        else:
            self._field.cancel("curve")

    def _request_exact_samples(self) -> None:
        """Sample the exact denoiser beside the recording shown (same spec, same noise), if asked to."""
        lab, r = self.exact_lab, self.state.result
        self._field.cancel("exact")
        lab.set_exact_result(None)
        if lab.exact is None or not lab.exact_samples or r is None:
            return
        exact, spec = lab.exact, lab.exact_spec(r)
        self._field.submit("exact", lambda p: exact_sampling(exact, spec, p))

    def _on_exact_lab(self, what: str) -> None:
        if what == "exact_samples":
            self._request_exact_samples()
        elif what == "exact_result":
            self._show_exact_points()
        elif what == "fields" and self.state.result is not None and self._model is not None:
            self._show()  # the caption names the arrows drawn

    def _show_exact_points(self) -> None:
        """The exact denoiser's cloud at the step shown (its recording has the same timesteps)."""
        e, st = self.exact_lab.exact_result, self.state
        if e is None or st.result is None:
            self.exact_panel.set_exact_points(None)
            self.exact_panel.set_trails(None, None)
            return
        k = min(st.step_index(), len(e.trajectory) - 1)
        final = st.timestep == FINAL
        self.exact_panel.set_exact_points(e.final if final else e.trajectory.x_t[k].astype(np.float32))
        # a few samples' paths from x_T to the step shown: the same noise, two models
        paths = []
        for r in (st.result, e):
            p = r.trajectory.x_t[:k + 1, :TRAILS].astype(np.float32).transpose(1, 0, 2)  # (S, k+1, 2)
            paths.append(np.concatenate([p, r.final[:TRAILS, None]], axis=1) if final else p)
        self.exact_panel.set_trails(*paths)
