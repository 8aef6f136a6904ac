"""The forward (noising) process of a diffusion model, scrubbed over t.

:class:`ForwardView` shows one image x_0 (from a data set, a file dropped on the view or chosen in
a dialog, or a sample sent from the reverse view), the fixed noise ε, and
x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε at the slider's t — computed in numpy on every move (microseconds, so
nothing is precomputed). With a model loaded it adds the model's ε̂ and x̂_0 at t (one network call
per move, on a latest-wins background thread) and the error ‖ε − ε̂‖² over 100 timesteps (another
background job with a progress bar). The schedule (linear / cosine, T) can be changed to compare;
with a model that is "compare mode" and the model's predictions are off, since they belong to its
own schedule. For 2-D point models the picture is the data cloud and ε̂ is drawn as an arrow field.
The schedule, x_0 with its ε and t are the view's ``state``, a Qt-free
:class:`~genstudio.views.forward.ForwardState` that the widgets render and edit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QStackedWidget, QVBoxLayout, QWidget,
)

from genstudio.config import SCHEDULES
from genstudio.data import BUILTIN, POINT_SETS
from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.forward_errors import ForwardErrorCurve
from genstudio.gui.widgets.image_source import ITEMS, ImageSource
from genstudio.gui.widgets.points2d import Points2DView
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.gui.widgets.schedule_plot import SchedulePlot
from genstudio.gui.widgets.timestep_bar import TimestepBar
from genstudio.gui.window_drop import is_model_path
from genstudio.imaging import cloud_extent, make_grid
from genstudio.scrub import (
    EPS_DISPLAY_RANGE, dataset_items, eps_field, field_arrows, load_image_file, predict,
    schedule_curves,
)
from genstudio.views.forward import DEFAULT_SIZE, ForwardState

__all__ = ["ForwardView", "DEFAULT_SIZE", "FIELD_EXTENT"]

FIELD_EXTENT = (-3.0, 3.0, -3.0, 3.0)  # a 2-D plot's box before it is fitted to the data
_IMAGE_SETS = tuple(n for n in BUILTIN if n not in POINT_SETS)


class ForwardView(ForwardErrorCurve, QWidget):
    """x_0, ε, x_t, ε̂ and x̂_0 at the slider's t, the schedule and the model's error over t.

    Signals
    -------
    message(str)
        A one-line note for the person (e.g. a file that could not be read).
    """

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = None
        self.state = ForwardState()  # schedule, x_0 and ε, t: the widgets render and edit it
        self._blank = ""  # why ε̂ / x̂_0 are blank now ("" while they show predictions)
        self._prediction: tuple[int, np.ndarray, np.ndarray] | None = None  # (t, ε̂, x̂_0) for images
        self._jobs = RenderController(self, first=("image", "pred"))
        self._jobs.rendered.connect(self._on_rendered)
        self._jobs.failed.connect(self._on_failed)
        self._curve = RenderController(self, first=("errors",))
        self._curve.rendered.connect(self._on_rendered)
        self._curve.failed.connect(self._on_failed)
        self._curve.progress.connect(self._on_curve_progress)
        self._build()
        self.setAcceptDrops(True)
        self.state.changed.connect(self._on_state)
        self._show_schedule()
        self.set_dataset("faces", 0)

    def _build(self) -> None:
        self.source = ImageSource()
        self.source.datasetChosen.connect(self.set_dataset)
        self.source.fileChosen.connect(self.load_file)
        self._kind = QComboBox()
        self._kind.addItems(SCHEDULES)
        self._steps = QSpinBox()
        self._steps.setRange(2, 4000)
        self._steps.setValue(1000)
        self._steps.setPrefix("T = ")
        self._steps.setKeyboardTracking(False)  # typed digits apply on Enter; arrows at once
        self._kind.activated.connect(self._on_schedule_edited)
        self._steps.valueChanged.connect(self._on_schedule_edited)
        self._back = QPushButton("Model's")  # short: the row must fit a 1280 px window with the run panel
        self._back.setToolTip("Back to the model's own schedule (leave compare mode)")
        self._back.clicked.connect(self._use_model_schedule)
        self._compare_note = ElidedLabel("", min_chars=0)  # elided: the note must not push "New ε" off the tab
        self._compare_note.setStyleSheet("color: #e6c84f;")
        self._new_eps = QPushButton("New ε")
        self._new_eps.setToolTip("Draw another fixed noise ε")
        self._new_eps.clicked.connect(self.new_noise)
        row = QHBoxLayout()
        for w in (self.source, QLabel("schedule"), self._kind, self._steps, self._back):
            row.addWidget(w)
        row.addWidget(self._compare_note, 1)
        row.addWidget(self._new_eps)

        self._panels = {k: SampleView() for k in ("x0", "eps", "xt", "eps_hat", "x0_hat")}
        pictures = QWidget()
        pic_row = QHBoxLayout(pictures)
        pic_row.setContentsMargins(0, 0, 0, 0)
        for k in ("x0", "eps", "xt", "eps_hat", "x0_hat"):
            pic_row.addWidget(self._panels[k], 1)
        self._points = Points2DView()
        self._extent = FIELD_EXTENT  # fitted to the cloud when one is noised
        self._points.set_view_range(*self._extent)
        self._stack = QStackedWidget()
        self._stack.addWidget(pictures)
        self._stack.addWidget(self._points)

        self.plot = SchedulePlot()
        self.plot.timestepPicked.connect(self.set_timestep)
        self._progress = QProgressBar()
        self._progress.setRange(0, 100)
        self._progress.setFormat("error over t: %p%")
        self._progress.setVisible(False)
        self.bar = TimestepBar(direction=+1)
        self.bar.timestepChanged.connect(self.state.set_timestep)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self._stack, 2)  # five square pictures are width-bound: the plot gets more height
        layout.addWidget(self.plot, 3)
        layout.addWidget(self._progress)
        layout.addWidget(self.bar)

    # ------------------------------------------------------------------ model and schedule
    def set_model(self, model) -> None:
        """Use ``model`` (a DiffusionModel, or None): its schedule becomes the default."""
        self._model = model
        self._jobs.cancel("pred")
        self._curve.cancel("errors")
        points = bool(model is not None and model.is_points)
        self.source.allow(None if model is None else points)
        st = self.state
        old, dataset = st.process, st.dataset  # x_0 waits for a picture that fits the model
        st.set_model(model)
        data = model.meta.get("data", "") if model is not None else ""
        if points:
            self.set_dataset(data if data in POINT_SETS else "ring8", 0)
        elif data in _IMAGE_SETS:
            self.set_dataset(data, self.source.index())
        elif dataset in _IMAGE_SETS:
            self.set_dataset(dataset, self.source.index())  # reload at the new size
        elif old is not None and old.x0.ndim == 4:
            self.set_image(old.x0[0], st.source)  # refit a file's picture
        else:
            self.set_dataset("faces", 0)

    def model(self):
        return self._model

    def set_schedule(self, kind: str, num_steps: int) -> None:
        """Show the forward process under another schedule (compare mode when a model is loaded)."""
        self.state.set_schedule(kind, num_steps)

    @Slot()
    def _on_schedule_edited(self) -> None:
        self.state.set_schedule(self._kind.currentText(), self._steps.value())

    @Slot()
    def _use_model_schedule(self) -> None:
        self.state.use_model_schedule()

    def _on_state(self, what: str) -> None:
        st = self.state
        if what == "schedule":
            self._show_schedule()
            self._start_error_curve()
        elif what in ("x0", "noise"):
            self._show_x0()
            self._refresh()
            self._start_error_curve()
        elif what == "timestep":
            if self.bar.timestep() != st.timestep:
                self.bar.set_timestep(st.timestep)
            self.plot.set_cursor(st.timestep)
            self._refresh()

    def _show_schedule(self) -> None:
        st, m = self.state, self._model
        for box, set_value in ((self._kind, lambda: self._kind.setCurrentText(st.schedule.kind)),
                               (self._steps, lambda: self._steps.setValue(st.schedule.num_steps))):
            box.blockSignals(True)
            set_value()
            box.blockSignals(False)
        ref = schedule_curves(m.schedule) if st.compare else None
        self.plot.set_schedule(schedule_curves(st.schedule), ref)
        self._back.setVisible(st.compare)
        self._compare_note.setText("compare mode: no ε̂ (the model learnt another schedule)" if st.compare else "")
        self.bar.set_timesteps(np.arange(st.schedule.num_steps), st.timestep)  # -> state.set_timestep

    # ------------------------------------------------------------------ x_0
    def set_image(self, image: np.ndarray | None, source: str = "image") -> None:
        """Noise this x_0: one image (C, H, W) in [−1, 1] (fitted to the model's size and channels, or
        32 px RGB without a model), or a 2-D point cloud (N, 2)."""
        if image is None:
            return
        try:
            self.state.set_x0(image, source)  # -> _on_state("x0")
        except ValueError as exc:
            self.message.emit(str(exc))

    def _show_x0(self) -> None:
        p, source = self.state.process, self.state.source
        x0 = p.x0
        self._stack.setCurrentIndex(1 if x0.ndim == 2 else 0)
        if x0.ndim == 2:
            self._points.set_real(x0)
            # one box for every t: the data and the central 98 % of ε (x_T ≈ ε), padded and square
            self._extent = cloud_extent(x0, p.eps, quantile=1.0, margin=0.08)
            self._points.set_view_range(*self._extent)
        else:
            self._panels["x0"].set_images(x0, f"x_0 — {source}")
            self._panels["eps"].set_images(p.eps / EPS_DISPLAY_RANGE, f"ε (fixed, seed {p.seed}; ±2.5σ)")

    def set_dataset(self, name: str, index: int = 0) -> None:
        """Take x_0 from built-in set ``name`` (item ``index``; the whole cloud for a 2-D set)."""
        size, ch = self.state.image_shape()
        self.source.set_current(name, index)
        count = 1000 if name in POINT_SETS else ITEMS

        def job(_progress, name=name, size=size, ch=ch, count=count, index=index):
            items = dataset_items(name, size, ch, count)
            return ("image", items if name in POINT_SETS else items[index % len(items)], f"{name} #{index}")

        self._jobs.submit("image", job)

    def load_file(self, path: str) -> bool:
        """Use the picture at ``path`` as x_0; False (and a ``message``) if it cannot be read."""
        m = self._model
        if m is not None and m.is_points:
            self.message.emit("a 2-D model noises point clouds, not pictures")
            return False
        size, ch = self.state.image_shape()
        try:
            x = load_image_file(path, size, ch)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.set_image(x, Path(path).name)
        return True

    def new_noise(self) -> None:
        """Draw another fixed ε."""
        self.state.new_noise()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls() and any(u.isLocalFile() and not is_model_path(u.toLocalFile())
                                              for u in event.mimeData().urls()):  # a model goes to the window
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files and self.load_file(files[0]):
            event.acceptProposedAction()

    # ------------------------------------------------------------------ t
    @Slot(int)
    def set_timestep(self, t: int) -> None:
        self.state.set_timestep(t)

    def shown_xt(self) -> np.ndarray | None:
        """The uint8 grid (H, W, 3) of the x_t panel."""
        return self._panels["xt"].current_grid()

    def panel(self, name: str) -> SampleView:
        """One of the pictures: "x0", "eps", "xt", "eps_hat" or "x0_hat"."""
        return self._panels[name]

    def prediction(self) -> tuple[int, np.ndarray, np.ndarray] | None:
        """(t, ε̂, x̂_0) shown for images, or None."""
        return self._prediction

    def _refresh(self) -> None:
        """Show x_t at the current t and ask for ε̂ there (latest wins)."""
        st = self.state
        p, t = st.process, st.timestep
        if p is None:
            return
        x_t = p.frame(t)
        signal, noise = p.coefficients(t)
        if x_t.ndim == 2:
            self._points.set_fake(x_t)
            self._points.set_caption(f"x_t at t = {t}: {signal:.3f}·x_0 + {noise:.3f}·ε")
        else:
            self._panels["xt"].set_images(make_grid(x_t, pad=1), "x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε")
        if not st.uses_model():
            self._show_no_prediction()
            return
        model, version = self._model, st.version
        if x_t.ndim == 2:
            extent = self._extent

            def job(_progress, t=t):
                origins, eps = eps_field(model, t, extent, 20)
                return ("field", version, t, origins, eps)
        else:
            def job(_progress, x_t=x_t, t=t):
                eps, x0 = predict(model, x_t, t)
                return ("pred", version, t, eps, x0)
        self._jobs.submit("pred", job)

    def _show_no_prediction(self) -> None:
        why = self.state.why_no_prediction()
        if why == self._blank:
            return  # already blank: keep scrubbing cheap
        self._blank, self._prediction = why, None
        for k, name in (("eps_hat", "ε̂"), ("x0_hat", "predicted x_0")):
            self._panels[k].clear()
            self._panels[k].set_images(np.zeros((1, 1, 3), np.uint8) + 22, f"{name}: {why}")
        self._points.set_arrows(np.empty((0, 2)), np.empty((0, 2)))

    def predictions_idle(self) -> bool:
        """True when every requested picture, ε̂ and error curve has arrived."""
        return self._jobs.idle() and self._curve.idle()

    @Slot(str, int, object)
    def _on_rendered(self, _kind: str, _seq: int, result: object) -> None:
        what = result[0]
        if what == "image":
            _, items, source = result
            self.set_image(items, source)
            return
        st = self.state
        if result[1] != st.version or not st.uses_model():
            return  # x_0, ε or the schedule changed since this was asked
        if what == "errors":
            self.plot.add_errors(result[2], result[3])
            self._progress.setVisible(False)
        elif what == "pred" and result[2] == st.timestep:
            _, _, t, eps, x0 = result
            self._prediction, self._blank = (t, eps, x0), ""
            self._panels["eps_hat"].set_images(make_grid(eps / EPS_DISPLAY_RANGE, pad=1), "ε̂ (model, ±2.5σ)")
            self._panels["x0_hat"].set_images(make_grid(x0, pad=1), "predicted x_0 (model)")
        elif what == "field" and result[2] == st.timestep:
            _, _, t, origins, eps = result
            spacing = (self._extent[1] - self._extent[0]) / 19
            self._points.set_arrows(origins, field_arrows(eps, spacing))

    @Slot(str, int, str)
    def _on_failed(self, kind: str, _seq: int, message: str) -> None:
        if kind == "errors":
            self._progress.setVisible(False)
        self.message.emit(message)

    # ------------------------------------------------------------------ lifetime
    def shutdown(self) -> None:
        """Stop the background threads (waits for a running network call)."""
        self.bar.pause()
        self._jobs.shutdown()
        self._curve.shutdown()
