"""The forward (noising) process of a diffusion model, scrubbed over t.

:class:`ForwardView` shows one image x_0 (from a data set, a file dropped on the view or chosen in
a dialog, or a sample sent from the reverse view), the fixed noise ε, and
x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε at the slider's t — computed in numpy on every move (microseconds, so
nothing is precomputed). With a model loaded it adds the model's ε̂ and x̂_0 at t (one network call
per move, on a latest-wins background thread) and the error ‖ε − ε̂‖² over 100 timesteps (another
background job with a progress bar). The schedule (linear / cosine, T) can be changed to compare;
with a model that is "compare mode" and the model's predictions are off, since they belong to its
own schedule. For 2-D point models the picture is the data cloud and ε̂ is drawn as an arrow field.
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
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.elided_label import ElidedLabel
from genstudio.gui.widgets.forward_errors import ForwardErrorCurve
from genstudio.gui.widgets.image_source import ITEMS, ImageSource
from genstudio.gui.widgets.points2d import Points2DView
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.gui.widgets.schedule_plot import SchedulePlot
from genstudio.gui.widgets.timestep_bar import TimestepBar
from genstudio.imaging import cloud_extent, make_grid
from genstudio.scrub import (
    EPS_DISPLAY_RANGE, ForwardProcess, dataset_items, eps_field, field_arrows, fit_image, load_image_file, predict,
    schedule_curves,
)

__all__ = ["ForwardView", "DEFAULT_SIZE", "FIELD_EXTENT"]

DEFAULT_SIZE, DEFAULT_CHANNELS = 32, 3  # the picture used without a model
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
        self._compare = False
        self._schedule = NoiseSchedule(1000, "linear")
        self._process: ForwardProcess | None = None
        self._source = ""  # what x_0 is, for captions
        self._dataset = ""  # the data set x_0 came from ("" for a file or a sample)
        self._seed = 0  # of the fixed ε
        self._blank = ""  # why ε̂ / x̂_0 are blank now ("" while they show predictions)
        self._prediction: tuple[int, np.ndarray, np.ndarray] | None = None  # (t, ε̂, x̂_0) for images
        self._version = 0  # bumps when x_0, ε or the schedule change: older ε̂ results are dropped
        self._jobs = RenderController(self, first=("image", "pred"))
        self._jobs.rendered.connect(self._on_rendered)
        self._jobs.failed.connect(self._on_failed)
        self._curve = RenderController(self, first=("errors",))
        self._curve.rendered.connect(self._on_rendered)
        self._curve.failed.connect(self._on_failed)
        self._curve.progress.connect(self._on_curve_progress)
        self._build()
        self.setAcceptDrops(True)
        self._apply_schedule()
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
        self.bar.timestepChanged.connect(self._on_timestep)

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
        self._compare = False
        self._jobs.cancel("pred")
        self._curve.cancel("errors")
        points = bool(model is not None and model.is_points)
        self.source.allow(None if model is None else points)
        old, self._process = self._process, None  # until an x_0 that fits the model is in place
        if model is not None:
            self._steps.blockSignals(True)
            self._kind.setCurrentText(model.schedule.kind)
            self._steps.setValue(model.schedule.num_steps)
            self._steps.blockSignals(False)
        self._apply_schedule()
        data = model.meta.get("data", "") if model is not None else ""
        if points:
            self.set_dataset(data if data in POINT_SETS else "ring8", 0)
        elif data in _IMAGE_SETS:
            self.set_dataset(data, self.source.index())
        elif self._dataset in _IMAGE_SETS:
            self.set_dataset(self._dataset, self.source.index())  # reload at the new size
        elif old is not None and old.x0.ndim == 4:
            self.set_image(old.x0[0], self._source)  # refit a file's picture
        else:
            self.set_dataset("faces", 0)

    def model(self):
        return self._model

    def compare_mode(self) -> bool:
        """True when a model is loaded but another schedule is shown (no ε̂)."""
        return self._compare

    def set_schedule(self, kind: str, num_steps: int) -> None:
        """Show the forward process under another schedule (compare mode when a model is loaded)."""
        self._kind.setCurrentText(kind)
        self._steps.setValue(int(num_steps))
        self._on_schedule_edited()

    def schedule(self) -> NoiseSchedule:
        return self._schedule

    @Slot()
    def _on_schedule_edited(self) -> None:
        kind, steps = self._kind.currentText(), self._steps.value()
        if (kind, steps) == (self._schedule.kind, self._schedule.num_steps):
            return
        m = self._model
        self._compare = m is not None and (kind, steps) != (m.schedule.kind, m.schedule.num_steps)
        self._apply_schedule()

    @Slot()
    def _use_model_schedule(self) -> None:
        if self._model is not None:
            self.set_schedule(self._model.schedule.kind, self._model.schedule.num_steps)

    def _apply_schedule(self) -> None:
        m = self._model
        if m is not None and not self._compare:
            self._schedule = m.schedule
        else:
            self._schedule = NoiseSchedule(self._steps.value(), self._kind.currentText())
        fraction = self.bar.timestep() / max(1, int(self.bar.timesteps()[-1]))
        ref = schedule_curves(m.schedule) if self._compare else None
        self.plot.set_schedule(schedule_curves(self._schedule), ref)
        self._back.setVisible(self._compare)
        self._compare_note.setText("compare mode: no ε̂ (the model learnt another schedule)" if self._compare else "")
        if self._process is not None:
            self._process.set_schedule(self._schedule)
        self._version += 1
        t = round(fraction * (self._schedule.num_steps - 1))
        self.bar.set_timesteps(np.arange(self._schedule.num_steps), t)
        self._start_error_curve()

    def _uses_model(self) -> bool:
        return self._model is not None and not self._compare

    # ------------------------------------------------------------------ x_0
    def set_image(self, image: np.ndarray | None, source: str = "image") -> None:
        """Noise this x_0: one image (C, H, W) in [−1, 1] (fitted to the model's size and channels, or
        32 px RGB without a model), or a 2-D point cloud (N, 2)."""
        if image is None:
            return
        a = np.asarray(image, np.float32)
        m = self._model
        cloud = a.ndim == 2 and a.shape[1] == 2
        if m is not None and cloud != m.is_points:
            self.message.emit("this model noises " + ("point clouds" if m.is_points else "images"))
            return
        if not source.startswith(tuple(f"{n} #" for n in BUILTIN)):
            self._dataset = ""
        if cloud:
            x0 = a  # (N, 2) cloud
        else:
            size, ch = (m.sample_shape[-1], m.sample_shape[0]) if m is not None and not m.is_points \
                else (DEFAULT_SIZE, DEFAULT_CHANNELS)
            x0 = fit_image(a, size, ch)[None]  # (1, C, size, size)
        seed = self._seed
        self._process = ForwardProcess(x0, self._schedule, seed)
        self._source = source
        self._stack.setCurrentIndex(1 if x0.ndim == 2 else 0)
        if x0.ndim == 2:
            self._points.set_real(x0)
            # one box for every t: the data and the central 98 % of ε (x_T ≈ ε), padded and square
            self._extent = cloud_extent(x0, self._process.eps, quantile=1.0, margin=0.08)
            self._points.set_view_range(*self._extent)
        else:
            self._panels["x0"].set_images(x0, f"x_0 — {source}")
            self._panels["eps"].set_images(self._process.eps / EPS_DISPLAY_RANGE, f"ε (fixed, seed {seed}; ±2.5σ)")
        self._version += 1
        self._refresh()
        self._start_error_curve()

    def set_dataset(self, name: str, index: int = 0) -> None:
        """Take x_0 from built-in set ``name`` (item ``index``; the whole cloud for a 2-D set)."""
        m = self._model
        size, ch = (m.sample_shape[-1], m.sample_shape[0]) if m is not None and not m.is_points \
            else (DEFAULT_SIZE, DEFAULT_CHANNELS)
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
        size, ch = (m.sample_shape[-1], m.sample_shape[0]) if m is not None else (DEFAULT_SIZE, DEFAULT_CHANNELS)
        try:
            x = load_image_file(path, size, ch)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.set_image(x, Path(path).name)
        return True

    def new_noise(self) -> None:
        """Draw another fixed ε."""
        if self._process is None:
            return
        self._seed += 1
        self._process.new_noise(self._seed)
        if self._process.x0.ndim == 4:
            self._panels["eps"].set_images(self._process.eps / EPS_DISPLAY_RANGE,
                                           f"ε (fixed, seed {self._process.seed}; ±2.5σ)")
        self._version += 1
        self._refresh()
        self._start_error_curve()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files and self.load_file(files[0]):
            event.acceptProposedAction()

    # ------------------------------------------------------------------ t
    def timestep(self) -> int:
        return self.bar.timestep()

    @Slot(int)
    def set_timestep(self, t: int) -> None:
        self.bar.set_timestep(int(t))

    @Slot(int)
    def _on_timestep(self, t: int) -> None:
        self.plot.set_cursor(t)
        self._refresh()

    def current_frame(self) -> np.ndarray | None:
        """x_t shown now, float32 (1, C, H, W) or (N, 2)."""
        return None if self._process is None else self._process.frame(self.timestep())

    def shown_xt(self) -> np.ndarray | None:
        """The uint8 grid (H, W, 3) of the x_t panel."""
        return self._panels["xt"].current_grid()

    def panel(self, name: str) -> SampleView:
        """One of the pictures: "x0", "eps", "xt", "eps_hat" or "x0_hat"."""
        return self._panels[name]

    def prediction(self) -> tuple[int, np.ndarray, np.ndarray] | None:
        """(t, ε̂, x̂_0) shown for images, or None."""
        return self._prediction

    def process(self) -> ForwardProcess | None:
        return self._process

    def _refresh(self) -> None:
        """Show x_t at the current t and ask for ε̂ there (latest wins)."""
        p = self._process
        if p is None:
            return
        t = self.timestep()
        x_t = p.frame(t)
        signal, noise = p.coefficients(t)
        if x_t.ndim == 2:
            self._points.set_fake(x_t)
            self._points.set_caption(f"x_t at t = {t}: {signal:.3f}·x_0 + {noise:.3f}·ε")
        else:
            self._panels["xt"].set_images(make_grid(x_t, pad=1), "x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε")
        if not self._uses_model():
            self._show_no_prediction()
            return
        model, version = self._model, self._version
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
        why = "compare mode" if self._compare else "no model loaded"
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
            self._dataset = source.split(" #")[0]
            self.set_image(items, source)
            return
        if result[1] != self._version or not self._uses_model():
            return  # x_0, ε or the schedule changed since this was asked
        if what == "errors":
            self.plot.add_errors(result[2], result[3])
            self._progress.setVisible(False)
        elif what == "pred" and result[2] == self.timestep():
            _, _, t, eps, x0 = result
            self._prediction, self._blank = (t, eps, x0), ""
            self._panels["eps_hat"].set_images(make_grid(eps / EPS_DISPLAY_RANGE, pad=1), "ε̂ (model, ±2.5σ)")
            self._panels["x0_hat"].set_images(make_grid(x0, pad=1), "predicted x_0 (model)")
        elif what == "field" and result[2] == self.timestep():
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
