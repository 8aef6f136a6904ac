"""The reverse (sampling) process of a diffusion model: sample, record, scrub, branch, export.

:class:`ReverseView` samples N images (DDPM, or DDIM with its steps and η) on the
:class:`~genstudio.gui.sampling_controller.SamplingController`'s thread, with a progress bar and
Cancel, and records every step. The timestep slider then scrubs the recording: x_t, ε̂ and x̂_0 of
the selected sample side by side, and the grid of all N at that step (click a cell to select it).
The slider's left end ("final sample") shows exactly what the sampler returned. **Branch** continues
from the current step with another seed (or η) and shows both endings and their mean |difference|:
how much of the picture was already decided at that t. The recording exports as a GIF or PNG
frames. For 2-D models the cloud at step t is drawn over the data, with the field of −ε̂ at t.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
    QStackedWidget, QVBoxLayout, QWidget,
)

from genstudio.data import POINT_SETS
from genstudio.diffusion.trajectory import Trajectory
from genstudio.gui.render_worker import RenderController
from genstudio.gui.sampling_controller import SamplingController
from genstudio.gui.widgets.branch_panel import BranchPanel
from genstudio.gui.widgets.click_grid import ClickGrid
from genstudio.gui.widgets.export_size import ExportSizeButton
from genstudio.gui.widgets.forward_view import FIELD_EXTENT
from genstudio.gui.widgets.points2d import Points2DView
from genstudio.gui.widgets.reverse_export import ReverseExport
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.gui.widgets.sampler_controls import SamplerControls
from genstudio.gui.widgets.timestep_bar import TimestepBar
from genstudio.imaging import cloud_extent, make_grid
from genstudio.sampling import SampleSpec, SamplingResult, branch_start, record_dtype_for
from genstudio.scrub import (
    EPS_DISPLAY_RANGE, dataset_items, eps_field, field_arrows, mean_abs_difference,
)

__all__ = ["ReverseView", "FINAL"]

FINAL = -1  # the slider's "timestep" of the sampler's output
MAX_RECORD_BYTES = 2 * 2**30  # a recording larger than this is refused (lower N, or use DDIM)


class ReverseView(ReverseExport, QWidget):
    """Sample with a recorded trajectory and scrub it; branch and export.

    Signals
    -------
    imageChosen(object)
        The selected final sample (C, H, W) float32, to noise in the forward view.
    message(str)
        A one-line note for the person.
    busyChanged(bool)
        Sampling or branching is running.
    """

    imageChosen = Signal(object)
    message = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = None
        self._result: SamplingResult | None = None
        self._branch: tuple[int, np.ndarray, float] | None = None  # (t, final, mean |diff|)
        self._k = {}  # timestep -> recorded step index
        self._branch_from = 0
        self.sampler = SamplingController(self)
        self.sampler.progress.connect(self._on_progress)
        self.sampler.preview.connect(self._on_preview)
        self.sampler.finished.connect(self._on_finished)
        self.sampler.failed.connect(self._on_failed)
        self.sampler.cancelled.connect(self._on_cancelled)
        self.sampler.busyChanged.connect(self._on_busy)
        self._field = RenderController(self, first=("field",))
        self._field.rendered.connect(self._on_field)
        self._build()
        self.set_model(None)

    def _build(self) -> None:
        self.controls = SamplerControls()
        self.controls.sampleClicked.connect(lambda: self.sample())
        self.controls.cancelClicked.connect(self.cancel)

        self._sel = {k: SampleView() for k in ("x_t", "eps", "x0")}
        self._pick = QSpinBox()
        self._pick.setPrefix("sample #")
        self._pick.valueChanged.connect(lambda _i: self._show())
        self._grid_what = QComboBox()
        self._grid_what.addItems(["grid shows x_t", "grid shows predicted x_0"])
        self._grid_what.currentIndexChanged.connect(lambda _i: self._show())
        self._step = QLabel("")
        fm = self._step.fontMetrics()
        self._step.setFixedSize(max(fm.horizontalAdvance(s) for s in ("the final samples", "step 0000 of 0000")) + 12,
                                fm.height() + 4)  # a fixed size: no re-layout on each move
        self._grid = ClickGrid()
        self._grid.cellClicked.connect(self._pick.setValue)
        pictures = QWidget()
        pl = QGridLayout(pictures)
        pl.setContentsMargins(0, 0, 0, 0)
        for col, k in enumerate(("x_t", "eps", "x0")):
            pl.addWidget(self._sel[k], 1, col)
        for col, widgets in ((0, (self._pick, self._step)), (3, (self._grid_what,))):
            cell = QHBoxLayout()
            for w in widgets:
                cell.addWidget(w)
            cell.addStretch(1)
            pl.addLayout(cell, 0, col, 1, 3 if col == 0 else 1)
        pl.addWidget(self._grid, 1, 3)
        pl.setColumnStretch(3, 2)
        for col in range(3):
            pl.setColumnStretch(col, 1)
        self._cloud = Points2DView()
        self._stack = QStackedWidget()
        self._stack.addWidget(pictures)
        self._stack.addWidget(self._cloud)

        self.branch_panel = BranchPanel()
        self.branch_panel.branchClicked.connect(lambda: self.branch())
        self._gif, self._frames, self._use = QPushButton("GIF…"), QPushButton("Frames…"), \
            QPushButton("Noise it →")
        self._gif.setToolTip("Export the reverse process of the selected sample as an animated GIF")
        self._frames.setToolTip("Export the reverse process as PNG frames")
        self._gif.clicked.connect(self._ask_gif)
        self._frames.clicked.connect(self._ask_frames)
        self._use.setToolTip("Send the selected final sample to the forward view")
        self._use.clicked.connect(self._send_sample)
        self.export_size = ExportSizeButton()
        for w in (self._use, self.export_size, self._gif, self._frames):
            self.branch_panel.row.addWidget(w)

        self.bar = TimestepBar(direction=-1)
        self.bar.timestepChanged.connect(lambda _t: self._show())
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self._stack, 3)
        layout.addWidget(self.branch_panel)  # grows (stretch 2) only while it shows two endings
        layout.addWidget(self.bar)

    # ------------------------------------------------------------------ model
    def set_model(self, model) -> None:
        """Sample from ``model`` (a DiffusionModel, or None); any recording is dropped."""
        if self.sampler.is_busy():
            self.cancel()
        self._model = model
        self._real = None  # (M, 2) real data of a 2-D model: drawn behind the samples, and exported
        self._extent = FIELD_EXTENT  # (xmin, xmax, ymin, ymax) of a 2-D plot, its ε̂ field and exports
        self._set_result(None)
        points = bool(model is not None and model.is_points)
        self._stack.setCurrentIndex(1 if points else 0)
        if points:
            data = model.meta.get("data", "")
            self._real = dataset_items(data if data in POINT_SETS else "ring8", count=1000)
            self._cloud.set_real(self._real)
            self._fit_extent()
        self.controls.set_model(model)
        self._update_controls()

    # ------------------------------------------------------------------ sampling
    def spec(self) -> SampleSpec:
        """What the sampling controls ask for."""
        return self.controls.spec()

    def sample(self, spec: SampleSpec | None = None) -> bool:
        """Start sampling (the controls' spec, or ``spec``); False if busy, shut down or no model."""
        if self._model is None or self.sampler.is_busy() or self.sampler.is_closed():
            return False
        if spec is not None:
            self.controls.set_spec(spec)
        spec = self.spec()
        steps, shape = spec.total_steps(self._model.schedule.num_steps), (spec.n, *self._model.sample_shape)
        if Trajectory.estimate_nbytes(steps, shape, record_dtype_for(steps, shape)) > MAX_RECORD_BYTES:
            self.message.emit(f"recording {steps} steps of {spec.n} samples needs more than "
                              f"{MAX_RECORD_BYTES // 2**30} GB: lower N or use DDIM with fewer steps")
            return False
        self._set_result(None)  # the old recording is being replaced
        self.branch_panel.seed.setValue(spec.seed + 1)
        self.controls.start_progress(spec.total_steps(self._model.schedule.num_steps))
        self.sampler.start("sample", self._model, spec, record=True)
        return True

    def cancel(self) -> None:
        """Stop the running job between two steps; nothing of it is shown."""
        self.sampler.cancel()

    def branch(self, seed: int | None = None, eta: float | None = None) -> bool:
        """Continue from the current step with ``seed`` / ``eta`` (default: the branch controls)."""
        r = self._result
        if r is None or self._model is None or self.sampler.is_busy() or self.sampler.is_closed():
            return False
        panel = self.branch_panel
        if seed is not None:
            panel.seed.setValue(seed)
        if eta is not None:
            panel.eta.setValue(eta)
        k = self.step_index()
        x, index = branch_start(r.trajectory, k)
        spec = replace(r.spec, seed=panel.seed.value(),
                       eta=panel.eta.value() if r.spec.definition.takes_eta else r.spec.eta)
        self._branch_from = int(r.trajectory.timesteps[k])
        self.controls.start_progress(len(r.trajectory) - k)
        self.sampler.start("branch", self._model, spec, record=False, start_x=x, start_index=index)
        return True

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.controls.set_progress(done, total)

    @Slot(str, int, object, object)
    def _on_preview(self, job: str, t: int, x_t: object, x0: object) -> None:
        """Draw the newest step of a running sampling job (≤ 10 a second), until its recording arrives."""
        if job != "sample" or self._result is not None:
            return
        x0_wanted = self._grid_what.currentIndex() == 1
        batch = np.asarray(x0 if x0_wanted else x_t, np.float32)  # (N, ...)
        what = f"sampling… t = {t} (preview of {'predicted x_0' if x0_wanted else 'x_t'})"
        if batch.ndim == 2:  # a 2-D model: the cloud moves
            self._cloud.set_fake(batch)
            self._cloud.set_caption(what)
            return
        self._grid.cells = (len(batch), max(1, math.ceil(math.sqrt(len(batch)))), batch.shape[-1])
        self._grid.set_images(make_grid(batch, pad=1), what)

    def preview_caption(self) -> str:
        """The caption of the grid (or the 2-D plot) — "sampling… t = …" while a preview is shown."""
        return self._cloud.caption() if self._model is not None and self._model.is_points else self._grid.caption()

    @Slot(str, object)
    def _on_finished(self, job: str, result: SamplingResult) -> None:
        if job == "sample":
            self._set_result(result)
        elif job == "branch" and self._result is not None:
            diff = mean_abs_difference(result.final, self._result.final)
            self._branch = (self._branch_from, result.final, diff)
            self._show_branch()

    @Slot(str, str, str)
    def _on_failed(self, job: str, message: str, _details: str) -> None:
        self._show()  # a sampling preview goes with its job
        self.message.emit(f"{job} failed: {message}")

    @Slot(str)
    def _on_cancelled(self, job: str) -> None:
        self._show()  # a sampling preview goes with its job: nothing of it is shown
        self.controls.set_progress(0, 1)
        self.message.emit(f"{job} cancelled")

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self._update_controls()
        self.busyChanged.emit(busy)

    def is_busy(self) -> bool:
        return self.sampler.is_busy()

    def idle(self) -> bool:
        """No sampling running and the ε̂ field (2-D) of the current step drawn."""
        return not self.sampler.is_busy() and self._field.idle()

    # ------------------------------------------------------------------ the recording
    def result(self) -> SamplingResult | None:
        return self._result

    def trajectory(self) -> Trajectory | None:
        return None if self._result is None else self._result.trajectory

    def branch_result(self) -> tuple[int, np.ndarray, float] | None:
        """(t branched from, the branch's final samples, mean |difference| to the original), or None."""
        return self._branch

    def _set_result(self, result: SamplingResult | None) -> None:
        self._result, self._branch = result, None
        self._field.cancel("field")
        if result is None:
            self._k = {}
            self.bar.set_timesteps([FINAL], FINAL)
        else:
            ts = result.trajectory.timesteps
            self._k = {int(t): k for k, t in enumerate(ts)}
            self._pick.setMaximum(result.spec.n - 1)
            if result.spec.definition.takes_eta:  # DDIM with η = 0 is deterministic: a branch needs noise
                self.branch_panel.eta.setValue(result.spec.eta if result.spec.eta > 0 else 1.0)
            self.bar.set_timesteps(np.append(ts, FINAL), FINAL)  # show the samples first
        self._fit_extent()
        self._show_branch()
        self._update_controls()
        self._show()

    def _fit_extent(self) -> None:
        """Frame a 2-D plot on the data and the recording, one box for every step.

        The box holds the real data and the central 98 % of the cloud at each recorded step (x_T is
        N(0, I)-wide, wider than ring8's radius 2), padded and square. It is fixed per recording, so
        the view does not jump while scrubbing; a few stragglers may lie outside it.
        """
        if self._model is None or not self._model.is_points:
            return
        clouds = [self._real]
        if self._result is not None:
            traj = self._result.trajectory
            ks = np.unique(np.linspace(0, len(traj) - 1, min(len(traj), 40)).astype(int))
            clouds += [traj.x_t[k].astype(np.float32) for k in ks] + [self._result.final]
        self._extent = cloud_extent(*clouds, quantile=1.0, margin=0.08)
        self._cloud.set_view_range(*self._extent)

    def extent(self) -> tuple[float, float, float, float]:
        """The box a 2-D model's plot is framed on (and its ε̂ field and exports drawn over)."""
        return self._extent

    def step_index(self) -> int:
        """The recorded step shown (the last one while the final samples are shown)."""
        t = self.bar.timestep()
        return self._k.get(t, len(self._k) - 1)

    def selected(self) -> int:
        return self._pick.value()

    def select(self, i: int) -> None:
        self._pick.setValue(int(i))

    def shown_grid(self) -> np.ndarray | None:
        """The uint8 grid (H, W, 3) of all N at the current step."""
        return self._grid.current_grid()

    def grid_view(self) -> SampleView:
        """The grid of all N at the current step."""
        return self._grid

    def shown_selected(self) -> np.ndarray | None:
        """The uint8 picture (H, W, 3) in the selected sample's x_t panel."""
        return self._sel["x_t"].current_grid()

    def _show(self) -> None:
        """Draw the current step of the recording (cheap: slices and grids, no network)."""
        r = self._result
        if r is None:
            for v in (*self._sel.values(), self._grid):
                v.clear()
            self._step.setText("")
            self._cloud.set_fake(np.empty((0, 2)))
            self._cloud.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
            self._cloud.set_caption("no samples yet" if self._model is not None else "load a diffusion model")
            return
        traj, t, i = r.trajectory, self.bar.timestep(), self._pick.value()
        k = self.step_index()
        final = t == FINAL
        if final:
            x_t = x0 = r.final  # (N, ...) float32
            what = "the final samples"
        else:  # views into the recording (float16 or float32); only what is drawn gets converted
            x_t, x0 = traj.x_t[k], traj.x0[k]
            what = f"step {k + 1} of {len(traj)}"
        if x_t.ndim == 2:
            self._cloud.set_fake(x_t.astype(np.float32))
            self._cloud.set_caption(f"{len(x_t)} samples, {what}" + ("" if final else f" (t = {t}); arrows: −ε̂"))
            self._request_field(t)
            return
        one = slice(i, i + 1)
        # captions change only with the sample or at the final step (a new caption each move would
        # re-lay out the tab); the bar and the step label say which t is shown
        self._sel["x_t"].set_images(make_grid(x_t[one].astype(np.float32), pad=1),
                                    f"sample #{i}: " + ("x_0" if final else "x_t"))
        self._sel["eps"].set_images(make_grid(traj.eps[k][one].astype(np.float32) / EPS_DISPLAY_RANGE, pad=1),
                                    "ε̂ of the last step (±2.5σ)" if final else "ε̂ (±2.5σ)")
        self._sel["x0"].set_images(make_grid(x0[one].astype(np.float32), pad=1),
                                   "the sample" if final else "predicted x_0")
        grid = (x0 if self._grid_what.currentIndex() == 1 else x_t).astype(np.float32)
        self._grid.cells = (len(grid), max(1, min(len(grid), math.ceil(math.sqrt(len(grid))))), grid.shape[-1])
        self._grid.set_images(make_grid(grid, pad=1), f"all {len(grid)} — click one to select it")
        self._step.setText(what)

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
        if self._result is not None and t == self.bar.timestep() and extent == self._extent:
            self._cloud.set_arrows(origins, field_arrows(eps, (extent[1] - extent[0]) / 19))

    def _show_branch(self) -> None:
        r, b = self._result, self._branch
        if r is None or b is None:
            self.branch_panel.clear()
        else:
            self.branch_panel.show_endings(r.final, b[1], b[0], b[2], self._extent)
        self.layout().setStretchFactor(self.branch_panel, 0 if b is None else 2)

    @Slot()
    def _send_sample(self) -> None:
        if self._result is not None:
            self.imageChosen.emit(self._result.final[self._pick.value()].copy())

    # ------------------------------------------------------------------ state
    def _update_controls(self) -> None:
        busy, have, model = self.sampler.is_busy(), self._result is not None, self._model is not None
        self.controls.set_busy(busy)
        self.branch_panel.set_enabled(have and not busy, self._result.spec.sampler if have else None)
        for w in (self._gif, self._frames, self._use):
            w.setEnabled(have and not busy)
        self._use.setVisible(not (model and self._model.is_points))

    def shutdown(self) -> None:
        """Cancel sampling and stop the threads (waits for the running step)."""
        self.bar.pause()
        self.sampler.shutdown()
        self._field.shutdown()
