"""The forward view's error curve: the model's ‖ε − ε̂‖² over 100 timesteps of the picture shown,
computed on a background thread with a progress bar (where over t the model struggles): a part of
:class:`~genstudio.gui.widgets.forward_view.ForwardView`, mixed into it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot

from genstudio.scrub import error_curve_steps, even_timesteps

__all__ = ["ForwardErrorCurve"]


class ForwardErrorCurve:
    """Start and follow the error-curve job (a :class:`~genstudio.gui.widgets.forward_view.ForwardView`
    part: it uses the view's model and ``state`` (process, schedule, version), plot, progress bar and ``_curve`` renderer;
    the view's ``_on_rendered`` draws the result)."""

    def _start_error_curve(self) -> None:
        self._curve.cancel("errors")
        st = self.state
        if st.process is None or not st.uses_model():
            self.plot.clear_errors("compare mode: the model's error belongs to its own schedule" if st.compare
                                   else "load a diffusion model to see where it struggles")
            self._progress.setVisible(False)
            return
        model, x0, eps, version = self._model, st.process.x0, st.process.eps.copy(), st.version
        ts = even_timesteps(st.schedule.num_steps, 100)
        self.plot.clear_errors("computing …")
        self._progress.setValue(0)
        self._progress.setVisible(True)

        def job(progress):
            parts_t, parts_e = [], []
            for chunk_t, chunk_e in error_curve_steps(model, x0, eps, ts):
                parts_t.append(chunk_t)
                parts_e.append(chunk_e)
                progress(sum(len(p) for p in parts_t) / len(ts))  # raises once superseded
            return ("errors", version, np.concatenate(parts_t), np.concatenate(parts_e))

        self._curve.submit("errors", job)

    def errors_idle(self) -> bool:
        """True when no error curve is being computed."""
        return self._curve.idle()

    @Slot(str, float)
    def _on_curve_progress(self, _kind: str, fraction: float) -> None:
        self._progress.setValue(int(round(100 * fraction)))
