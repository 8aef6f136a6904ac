"""The reverse view's 2-D plot: one frame for a whole recording, and the field of −ε̂ at the step shown
(computed on a worker thread): a part of :class:`~genstudio.gui.widgets.reverse_view.ReverseView`,
mixed into it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot

from genstudio.imaging import cloud_extent
from genstudio.scrub import eps_field, field_arrows
from genstudio.views.scrubber import FINAL

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
        model = self._model
        if t == FINAL or model is None:
            self._cloud.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
            return
        extent = self._extent
        self._field.submit("field", lambda _p, t=t: (t, extent, *eps_field(model, t, extent, 20)))

    @Slot(str, int, object)
    def _on_field(self, _kind: str, _seq: int, result: object) -> None:
        t, extent, origins, eps = result
        if self.state.result is not None and t == self.state.timestep and extent == self._extent:
            self._cloud.set_arrows(origins, field_arrows(eps, (extent[1] - extent[0]) / 19))
