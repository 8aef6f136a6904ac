"""The reverse (sampling) process of a diffusion model: sample, record, scrub, branch, export.

:class:`ReverseView` samples N images (DDPM, or DDIM with its steps and η) on the
:class:`~genstudio.gui.sampling_controller.SamplingController`'s thread, with a progress bar and
Cancel, and records every step. The timestep slider then scrubs the recording: x_t, ε̂ and x̂_0 of
the selected sample side by side (and, for a prompt-guided recording, the guidance direction
ε̂_c − ε̂_∅: where the prompt pushes the picture at t, and one cross-attention map per word of
the prompt), and the grid of all N at that step (click a cell to select it).
The slider's left end ("final sample") shows exactly what the sampler returned. **Branch** continues
from the current step with another seed (or η) — or, for a prompt-guided recording, another prompt,
negative prompt or guidance s on the same noise — and shows both endings and their mean |difference|:
how much of the picture was already decided at that t. The recording exports as a GIF or PNG
frames. For 2-D models the cloud at step t is drawn over the data, with the field of −ε̂ at t and,
where the data's exact denoiser is known, its −ε*, the heat map of ‖ε̂ − ε*‖, the error against t
and the exact denoiser's own samples (``exact_lab``, an :class:`~genstudio.views.exact_lab.ExactLab`).
**Invert a picture…** (or a drop; ``reverse_invert.py``) makes a picture's DDIM inversion the
recording, and a strip under the grid shows the selected final sample's nearest training images.

What the person is doing — the spec being edited, the recording, the step and sample shown, the
branch's seed and η and its ending — is the view's ``state``, a Qt-free
:class:`~genstudio.views.scrubber.ScrubberState`; the controls, timestep bar and branch panel render it
and send edits to it.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
    QStackedWidget, QVBoxLayout, QWidget,
)

from genstudio.data import POINT_SETS
from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.attention_strip import AttentionStrip
from genstudio.gui.sampling_controller import SamplingController
from genstudio.gui.widgets.branch_panel import BranchPanel
from genstudio.gui.widgets.click_grid import ClickGrid
from genstudio.gui.widgets.exact_panel import ExactPanel
from genstudio.gui.widgets.export_size import ExportSizeButton
from genstudio.gui.widgets.neighbour_strip import NeighbourStrip
from genstudio.gui.widgets.forward_view import FIELD_EXTENT
from genstudio.gui.widgets.latent_frames import LatentFrames
from genstudio.gui.widgets.points2d import Points2DView
from genstudio.gui.widgets.prompt_controls import PromptControls
from genstudio.gui.widgets.reverse_export import ReverseExport
from genstudio.gui.widgets.reverse_invert import ReverseInvert
from genstudio.gui.widgets.reverse_points import ReversePoints
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.gui.widgets.sampler_controls import SamplerControls
from genstudio.gui.widgets.timestep_bar import TimestepBar
from genstudio.imaging import make_grid
from genstudio.latent_images import is_latent_model, to_direction_pictures, to_pictures
from genstudio.sampling import SampleSpec, SamplingResult
from genstudio.scrub import EPS_DISPLAY_RANGE, dataset_items
from genstudio.views.exact_lab import ExactLab
from genstudio.views.scrubber import FINAL, ScrubberState

__all__ = ["ReverseView", "FINAL"]


class ReverseView(ReverseInvert, ReverseExport, ReversePoints, QWidget):
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
        self.state = ScrubberState()  # spec, recording, step, selection, branch: the widgets render it
        self._branch_from, self._branch_what = 0, ""
        self.sampler = SamplingController(self)
        self.sampler.progress.connect(self._on_progress)
        self.sampler.preview.connect(self._on_preview)
        self.sampler.finished.connect(self._on_finished)
        self.sampler.failed.connect(self._on_failed)
        self.sampler.cancelled.connect(self._on_cancelled)
        self.sampler.busyChanged.connect(self._on_busy)
        self._field = RenderController(self, first=("field",))
        self._field.rendered.connect(self._on_field)
        self._field.failed.connect(lambda kind, _seq, msg: self.message.emit(f"{kind} failed: {msg}"))
        self.exact_lab = ExactLab()  # the exact denoiser beside the learned one (2-D models of a known mixture)
        self._build()
        self.state.changed.connect(self._on_state)
        self.exact_lab.changed.connect(self._on_exact_lab)
        self.set_model(None)

    def _build(self) -> None:
        self.controls = SamplerControls(self.state)
        self.controls.sampleClicked.connect(lambda: self.sample())
        self.controls.cancelClicked.connect(self.cancel)
        self.prompt = PromptControls(self.state)  # hidden for a model without text
        self.invert_button = QPushButton("Invert a picture…")
        self.invert_button.setToolTip("Run a picture of yours back to x_T (DDIM inversion; or drop one on this "
                                      "view), scrub it, and regenerate it from any x_t with Branch")
        self.invert_button.clicked.connect(self._ask_invert)
        self.controls.layout().insertWidget(7, self.invert_button)  # after Sample and Cancel
        self.setAcceptDrops(True)

        self._sel = {k: SampleView() for k in ("x_t", "eps", "x0", "guide")}  # guide: ε̂_c − ε̂_∅ (guided only)
        self._pick = QSpinBox()
        self._pick.setPrefix("sample #")
        self._pick.valueChanged.connect(self.state.select)
        self._grid_what = QComboBox()
        self._grid_what.addItems(["grid shows x_t", "grid shows predicted x_0"])
        self._grid_what.currentIndexChanged.connect(lambda i: self.state.set_grid_x0(i == 1))
        self._step = QLabel("")
        fm = self._step.fontMetrics()
        self._step.setFixedSize(max(fm.horizontalAdvance(s) for s in ("the final samples", "step 0000 of 0000")) + 12,
                                fm.height() + 4)  # a fixed size: no re-layout on each move
        self._grid = ClickGrid()
        self._grid.cellClicked.connect(self.state.select)
        pictures = QWidget()
        pl = QGridLayout(pictures)
        pl.setContentsMargins(0, 0, 0, 0)
        for col, k in enumerate(("x_t", "eps", "x0", "guide")):
            pl.addWidget(self._sel[k], 1, col)
        for col, widgets in ((0, (self._pick, self._step)), (4, (self._grid_what,))):
            cell = QHBoxLayout()
            for w in widgets:
                cell.addWidget(w)
            cell.addStretch(1)
            pl.addLayout(cell, 0, col, 1, 3 if col == 0 else 1)
        pl.addWidget(self._grid, 1, 4)
        self.attention = AttentionStrip()  # per-word cross-attention at t: a prompt-guided recording only
        pl.addWidget(self.attention, 2, 0, 1, 4)
        self.neighbours = NeighbourStrip()  # the selected final sample's nearest training images
        pl.addWidget(self.neighbours, 2, 4)  # under the grid, beside the attention maps
        self.latent_frames = LatentFrames()  # a latent model: the latent channels and the exact decodes
        pl.addWidget(self.latent_frames, 3, 0, 1, 5)
        pl.setRowStretch(1, 4)
        pl.setRowStretch(2, 1)
        pl.setRowStretch(3, 2)
        pl.setColumnStretch(4, 2)
        for col in range(3):
            pl.setColumnStretch(col, 1)
        self._pictures = pl
        self._show_guide(False)
        self._cloud = Points2DView(generated="samples")  # no discriminator here: nothing is "fake"
        self.exact_panel = ExactPanel(self.exact_lab, self._cloud)
        plane = QWidget()  # a 2-D model's page: the plot, and the exact denoiser's column beside it
        row = QHBoxLayout(plane)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._cloud, 1)
        row.addWidget(self.exact_panel)
        self._stack = QStackedWidget()
        self._stack.addWidget(pictures)
        self._stack.addWidget(plane)

        self.branch_panel = BranchPanel(self.state)
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
        self.bar.timestepChanged.connect(self.state.set_timestep)
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self.prompt)
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
        self.state.set_model(model)  # drops the recording
        self.neighbours.set_model(None if is_latent_model(model) else model)  # latents have no training images
        self._exact_for_model()
        points = bool(model is not None and model.is_points)
        self._stack.setCurrentIndex(1 if points else 0)
        if points:
            data = model.meta.get("data", "")
            self._real = dataset_items(data if data in POINT_SETS else "ring8", count=1000)
            self._cloud.set_real(self._real)
            self._fit_extent()
        self._update_controls()

    # ------------------------------------------------------------------ sampling
    def sample(self, spec: SampleSpec | None = None) -> bool:
        """Start sampling (the state's spec, or ``spec``); False if busy, shut down or no model."""
        if self._model is None or self.sampler.is_busy() or self.sampler.is_closed():
            return False
        try:
            spec = self.state.plan_sample(spec)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.controls.start_progress(self.state.total_steps(spec))
        if (step := getattr(self._model, "step_seconds", None)) is not None and step == step:  # timed on opening
            self.message.emit(f"sampling: about {self._model.estimate_seconds(spec):,.0f} s "
                              f"({self.state.total_steps(spec)} steps × {spec.n} at {step:.2f} s per guided U-Net step)")
        self.sampler.start("sample", self._model, spec, record=True)
        return True

    def cancel(self) -> None:
        """Stop the running job between two steps; nothing of it is shown."""
        self.sampler.cancel()

    def branch(self, seed: int | None = None, eta: float | None = None) -> bool:
        """Continue from the current step with ``seed`` / ``eta`` (default: the state's branch options)."""
        if self.state.result is None or self._model is None or self.sampler.is_busy() or self.sampler.is_closed():
            return False
        try:
            plan = self.state.plan_branch(seed, eta)
        except ValueError as exc:  # a word of the branch's prompt the model never saw
            self.message.emit(str(exc))
            return False
        self._branch_from, self._branch_what = plan.t, plan.what
        self.controls.start_progress(plan.steps)
        self.sampler.start("branch", self._model, plan.spec, record=False, start_x=plan.start_x,
                           start_index=plan.start_index)
        return True

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.controls.set_progress(done, total)

    @Slot(str, int, object, object)
    def _on_preview(self, job: str, t: int, x_t: object, x0: object) -> None:
        """Draw the newest step of a running sampling job (≤ 10 a second), until its recording arrives."""
        if job != "sample" or self.state.result is not None:
            return
        x0_wanted = self.state.grid_x0
        batch = to_pictures(self._model, np.asarray(x0 if x0_wanted else x_t, np.float32))  # (N, ...)
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
            self.state.set_result(result)
        elif job == "invert":
            self._on_inverted(result)
        elif job == "branch":
            self.state.set_branch_ending(self._branch_from, result.final, self._branch_what)

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
        self.state.set_busy(busy)
        self._update_controls()
        self.busyChanged.emit(busy)

    def is_busy(self) -> bool:
        return self.sampler.is_busy()

    def idle(self) -> bool:
        """No sampling running and the ε̂ field (2-D) of the current step drawn."""
        return (not self.sampler.is_busy() and self._field.idle() and self.attention.idle()
                and self.neighbours.idle() and self.latent_frames.idle())

    # ------------------------------------------------------------------ the state, drawn
    def _on_state(self, what: str) -> None:
        st = self.state
        if what == "result":
            self._field.cancel("field")
            if st.result is not None:
                self._pick.blockSignals(True)
                self._pick.setMaximum(st.result.spec.n - 1)
                self._pick.blockSignals(False)
            self._show_guide(st.result is not None and st.result.trajectory.guidance is not None)
            self._fit_extent()
            self._request_exact_samples()
            self._show_branch()
            self._update_controls()
            self.bar.set_timesteps(st.timesteps(), FINAL)  # show the samples first
            self._show()
            self._show_neighbours()
        elif what == "timestep":
            if self.bar.timestep() != st.timestep:
                self.bar.set_timestep(st.timestep)  # snaps to a recorded step and tells the state
            self._show()
        elif what == "selected":
            if self._pick.value() != st.selected:
                self._pick.blockSignals(True)
                self._pick.setValue(st.selected)
                self._pick.blockSignals(False)
            self._show()
            self._show_neighbours()
        elif what == "grid":
            self._grid_what.blockSignals(True)
            self._grid_what.setCurrentIndex(1 if st.grid_x0 else 0)
            self._grid_what.blockSignals(False)
            self._show()
        elif what == "branch":
            self._show_branch()

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
        st = self.state
        r = st.result
        if r is None:
            for v in (*self._sel.values(), self._grid):
                v.clear()
            self.attention.clear()
            self.latent_frames.clear()
            self._step.setText("")
            self._cloud.set_fake(np.empty((0, 2)))
            self._cloud.set_arrows(np.empty((0, 2)), np.empty((0, 2)))
            self.exact_panel.show_fields(None)
            self._cloud.set_caption("no samples yet" if self._model is not None else "load a diffusion model")
            return
        traj, t, i = r.trajectory, st.timestep, st.selected
        k = st.step_index()
        final = t == FINAL
        inverted = st.inverted  # a picture's inversion: at the end, the picture beside its reconstruction
        if final:
            x_t = x0 = r.final  # (N, ...) float32
            what = "the final samples" if inverted is None else "reconstructed"
        else:  # views into the recording (float16 or float32); only what is drawn gets converted
            x_t, x0 = traj.x_t[k], traj.x0[k]
            what = f"step {k + 1} of {len(traj)}"
        if x_t.ndim == 2:
            self._cloud.set_fake(x_t.astype(np.float32))
            self._cloud.set_caption(f"{len(x_t)} samples, {what}" + ("" if final else f" (t = {t}); arrows: {self.exact_lab.arrows_caption()}"))
            self._request_field(t)
            self._show_exact_points()
            return
        one = slice(i, i + 1)
        m = self._model  # a latent model's states are drawn through its fast preview (latent_images)
        # captions change only with the sample or at the final step (a new caption each move would
        # re-lay out the tab); the bar and the step label say which t is shown
        if inverted is None:
            left, left_caption = x_t[one], f"sample #{i}: " + ("x_0" if final else "x_t")
        else:
            left, left_caption = (inverted.image, f"your picture: {inverted.name}") if final else (x_t[one], "inverted x_t")
        self._sel["x_t"].set_images(make_grid(to_pictures(m, left), pad=1), left_caption)
        self._sel["eps"].set_images(make_grid(to_direction_pictures(m, traj.eps[k][one]) / EPS_DISPLAY_RANGE, pad=1),
                                    "ε̂ of the last step (±2.5σ)" if final else "ε̂ (±2.5σ)")
        self._sel["x0"].set_images(make_grid(to_pictures(m, x0[one]), pad=1),
                                   ("the sample" if inverted is None else f"reconstruction, {inverted.psnr:.1f} dB")
                                   if final else "predicted x_0")
        guide = traj.direction(k)  # None when unguided
        if guide is not None:  # where the prompt pushes at t: ε̂_c − ε̂_∅, grey 0, ±its largest |value|
            g = to_direction_pictures(m, guide[one])  # far smaller than ε̂: on ε̂'s ±2.5σ it would be plain grey
            self._sel["guide"].set_images(make_grid(g / max(float(np.abs(g).max()), 1e-6), pad=1),
                                          "ε̂_c − ε̂_∅ (last step)" if final else "ε̂_c − ε̂_∅ (±max)")
        self.attention.show_step(self._model, r, k, i, final)
        self.latent_frames.show_step(m, r, k, i, final)
        grid = to_pictures(m, x0 if st.grid_x0 else x_t)
        self._grid.cells = (len(grid), max(1, min(len(grid), math.ceil(math.sqrt(len(grid))))), grid.shape[-1])
        self._grid.set_images(make_grid(grid, pad=1), f"all {len(grid)} — click one to select it")
        self._step.setText(what)

    def _show_neighbours(self) -> None:
        """The selected final sample's nearest training images (images only)."""
        r = self.state.result
        if r is not None and r.final.ndim == 4:
            i = self.state.selected
            self.neighbours.show_sample(r.final[i], "the reconstruction" if self.state.inverted is not None
                                        else f"final sample #{i}")

    def _show_guide(self, shown: bool) -> None:
        """The guidance direction's panel, beside x̂_0, for a guided recording only."""
        self._sel["guide"].setVisible(shown)
        self._pictures.setColumnStretch(3, 1 if shown else 0)

    def _show_branch(self) -> None:
        r, b = self.state.result, self.state.branch
        if r is None or b is None:
            self.branch_panel.clear()
        else:
            if is_latent_model(self._model):  # both endings through the latent preview
                b = b._replace(final=to_pictures(self._model, b.final))
            self.branch_panel.show_endings(to_pictures(self._model, r.final), b, self._extent, "original ending" if self.state.inverted is None
                                           else "reconstruction (DDIM η = 0 from x_T)")
        self.layout().setStretchFactor(self.branch_panel, 0 if b is None else 2)

    @Slot()
    def _send_sample(self) -> None:
        r = self.state.result
        if r is not None:
            self.imageChosen.emit(r.final[self.state.selected].copy())

    # ------------------------------------------------------------------ state
    def _update_controls(self) -> None:
        busy, have, model = self.sampler.is_busy(), self.state.result is not None, self._model is not None
        self.branch_panel.set_enabled(have and not busy)
        for w in (self._gif, self._frames, self._use):
            w.setEnabled(have and not busy)
        latent = is_latent_model(self._model)  # its samples are latents: no forward view, no inversion yet
        self._use.setVisible(not (model and self._model.is_points) and not latent)
        self.invert_button.setEnabled(model and not busy and not self._model.is_points and not latent)

    def shutdown(self) -> None:
        """Cancel sampling and stop the threads (waits for the running step)."""
        self.bar.pause()
        self.sampler.shutdown()
        self._field.shutdown()
        self.attention.shutdown()
        self.latent_frames.shutdown()
        self.neighbours.shutdown()
