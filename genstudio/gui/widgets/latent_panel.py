"""The Latent tab: explore a GAN generator's latent space by hand.

:class:`LatentView` shows G(z) large (or, for a 2-D point GAN, the latent pad beside data space)
with sliders on the right: one per latent dimension (with lock and reset) and one per principal
direction found the GANSpace way (:func:`genstudio.latent.principal_directions`, computed in the
background with visible progress). Above: the seed field, Random, Reset, truncation ψ, copy/paste
of z, saving the image (PNG with z and seed in its text chunks) and z (``.npy``), and a button
asking for a snapshot of the model being trained. Beside the picture, a neighbourhood grid
(rows = directions, columns = -3σ … +3σ); under it, G(z)'s nearest training images and whether it
passes as a copy (:class:`~genstudio.gui.widgets.neighbour_strip.NeighbourStrip`); below,
interpolation between A and B.

The latent shown is ``z = ψ · (z_dims + Σ_k α_k v_k)``; it, the seed, the locks and the A → B walk
are the view's ``state``, a Qt-free :class:`~genstudio.views.latent.LatentState` that the widgets
render and edit (``latent_z.py`` binds them). Every change posts the newest z to one
:class:`~genstudio.gui.render_worker.RenderController`: the image follows a slider while it is
dragged, a newer z replaces a queued one, and a result that a newer request superseded is dropped.
The main window adds the view with ``add_view("Latent", view)``, calls :meth:`set_model` and
wires ``snapshotRequested``; it calls :meth:`shutdown` on close (``aboutToQuit`` does too).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QMenu, QPushButton, QSlider, QSpinBox, QSplitter, QStackedWidget, QTabWidget,
    QToolButton, QVBoxLayout, QWidget,
)

from genstudio.gui.projection_runner import ProjectionRunner
from genstudio.gui.render_worker import RenderController
from genstudio.gui.widgets.interpolation import InterpolationPanel
from genstudio.gui.widgets.latent_files import LatentFiles
from genstudio.gui.widgets.latent_pad2d import LatentPad2D
from genstudio.gui.widgets.latent_sliders import LatentSliders
from genstudio.gui.widgets.latent_style import LatentStyle
from genstudio.gui.widgets.latent_z import LatentZ
from genstudio.gui.widgets.neighbour_strip import NeighbourStrip
from genstudio.gui.widgets.neighbourhood_grid import NeighbourhoodGrid
from genstudio.gui.widgets.sample_view import SampleView
from genstudio.latent import latent_grid_lines, map_latents, principal_directions
from genstudio.views.latent import LatentState

__all__ = ["LatentView"]

N_DRAWS = 2000  # random draws for the principal directions (GANSpace uses 2,000-10,000)
N_DIRECTIONS = 20
EXTENT_2D = 3.0  # the 2-D pad shows z in [-3, 3]²
EMPTY = "Open a GAN checkpoint, or take a snapshot of the model being trained."


def _button(text: str, tip: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b


def _analysed(model: Any) -> str:
    """What the z directions are the principal axes of: G's own ``ganspace_label`` or its first block."""
    return getattr(getattr(model, "G", None), "ganspace_label", "G's first block")


class LatentView(LatentZ, LatentStyle, LatentFiles, QWidget):
    """The latent explorer tab.

    Signals
    -------
    snapshotRequested()
        "Take snapshot of training" was clicked; answer with :meth:`set_model`.
    """

    snapshotRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: Any = None
        self.state = LatentState()  # the seed, z, ψ, locks and walk: the widgets render and edit it
        self.state.changed.connect(self._on_state)
        self._shown: tuple[np.ndarray, int, float] | None = None  # z, seed, ψ of the picture shown
        self._renderer = RenderController(self)
        self._projector = ProjectionRunner(self)  # "Project a picture…": off the GUI thread, with Cancel
        self._projector.done.connect(self._on_projected)
        self._projector.failed.connect(lambda text: self._say(text, error=True))
        self._projecting: tuple | None = None
        self._renderer.rendered.connect(self._on_rendered)
        self._renderer.failed.connect(self._on_failed)
        self._renderer.progress.connect(self._on_progress)

        # --- top bar
        self._seed_box = QSpinBox()
        self._seed_box.setRange(0, 2**31 - 1)
        self._seed_box.setPrefix("seed ")
        self._seed_box.setKeyboardTracking(False)
        # wide enough for the largest seed and the "edited" star (random seeds have ten digits)
        self._seed_box.ensurePolished()  # the style sheet's font, not the default one
        self._seed_box.setFixedWidth(self._seed_box.fontMetrics().horizontalAdvance("seed 2147483647 *") + 34)
        self._seed_box.setToolTip("Same seed, same z. A * means z was edited since this seed's draw.")
        self._seed_box.valueChanged.connect(self._on_seed)
        self._psi_slider = QSlider(Qt.Orientation.Horizontal)
        self._psi_slider.setRange(0, 100)
        self._psi_slider.setValue(100)
        self._psi_slider.setFixedWidth(110)
        self._psi_slider.setToolTip("Truncation ψ: z ← ψ·z; smaller is more typical, less varied")
        self._psi_slider.valueChanged.connect(self._on_psi)
        self._psi_label = QLabel("ψ 1.00")
        self._psi_label.setMinimumWidth(44)
        self._snapshot = _button("Snapshot of training", "Explore the generator being trained now",
                                 self._on_snapshot)
        bar = QHBoxLayout()
        self._controls = [self._seed_box,
                          _button("Random", "Draw a new seed (locked dimensions stay)", self.random),
                          _button("Reset", "Back to the seed's draw; directions 0, ψ 1", self.reset),
                          self._psi_slider]
        for w in self._controls:
            if w is self._psi_slider:
                bar.addSpacing(8)
                bar.addWidget(QLabel("truncation"))
            bar.addWidget(w)
        bar.addWidget(self._psi_label)
        bar.addSpacing(12)
        # copy / paste / save live in one menu button, so the bar fits beside the run panel
        self._z_menu = QMenu(self)
        for text, tip, slot in (("Copy z", "Copy z as text (Ctrl+Shift+C)", self.copy_z),
                                ("Paste z", "Set z from text on the clipboard (Ctrl+Shift+V)", self._on_paste),
                                ("Save image…", "PNG, z and seed in its metadata (Ctrl+E)", self._ask_save_image),
                                ("Save z…", "z as a .npy file", self._ask_save_z),
                                ("Project a picture…", "Find the z whose image matches a picture of yours "
                                 "(GAN projection); the sliders then edit it", self._ask_project)):
            act = self._z_menu.addAction(text, slot)
            act.setToolTip(tip)
        self._z_menu.setToolTipsVisible(True)
        self._z_menu.addSeparator()  # the export size submenu goes below (added with the interpolation panel)
        z_button = QToolButton()
        z_button.setText("z ▾")
        z_button.setToolTip("Copy or paste z; save the image or z; project a picture of yours")
        z_button.setMenu(self._z_menu)
        z_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._controls.append(z_button)
        bar.addWidget(z_button)
        bar.addStretch(1)
        bar.addWidget(self._snapshot)

        # --- picture (image models) or pad (2-D models)
        self._image = SampleView(pad=0)
        self._pad = LatentPad2D(extent=EXTENT_2D)
        self._pad.pointMoved.connect(self._on_pad)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._image)
        self._stack.addWidget(self._pad)

        # --- sliders
        self._dims = LatentSliders(lockable=True)
        self._dims.valueChanged.connect(self._on_dim)
        self._dims.lockToggled.connect(self._on_lock)
        self._dirs = LatentSliders(lockable=False, span=5.0)
        self._dirs.valueChanged.connect(self._on_dir)
        self._side = QTabWidget()
        self._side.addTab(self._dims, "Dimensions")
        self._side.addTab(self._dirs, "Directions")

        # --- neighbourhood grid (a tab beside the picture) and interpolation (below)
        self._hood = NeighbourhoodGrid(self._renderer, self.state.current_z, lambda: self._left.currentIndex() == 1,
                                       self._pictures)
        self._left = QTabWidget()
        self._left.addTab(self._stack, "Picture")
        self._left.addTab(self._hood, "Neighbourhood")
        self._left.currentChanged.connect(self._hood.schedule)
        self._interp = InterpolationPanel(self._renderer, self.state, self._pictures)
        self._interp.endpointRequested.connect(self._on_endpoint)
        self._interp.pathChanged.connect(self._pad.set_path)
        self._interp.message.connect(self._say)
        self._z_menu.addMenu(self._interp.export_size.size_menu())  # one export size for image and GIF
        self._cloud: np.ndarray | None = None  # 2-D: the generated cloud shown on the pad (for Save image)

        self._status = QLabel(" ")
        self.neighbours = NeighbourStrip()  # G(z)'s nearest training images: did it copy?
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._left, 1)
        column.addWidget(self.neighbours)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(left)
        upper.addWidget(self._side)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setSizes([620, 420])
        self._split = QSplitter(Qt.Orientation.Vertical)
        self._split.addWidget(upper)
        self._split.addWidget(self._interp)
        self._split.setStretchFactor(0, 3)
        self._split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self._split, 1)
        layout.addWidget(self._status)
        self._style_setup()  # a style-based generator's tabs (latent_style.py)
        self.set_model(None)

    # ------------------------------------------------------------------ model
    def set_model(self, model: Any) -> None:
        """Explore ``model`` (a :class:`~genstudio.gan.model.GanModel`), or show nothing for None.

        A model with the same latent size as the previous one keeps the seed, z and locks (handy
        for successive snapshots of a run); directions are recomputed in the background.
        """
        if model is not None and not hasattr(model, "latent_dim"):
            self._say("The latent explorer works with GANs; this model has no latent z.", error=True)
            model = None
        keep = self.state.set_model(model)
        self._model, self._shown = model, None
        self._cloud = None
        self._renderer.cancel()  # nothing rendered for the old model may arrive now
        self._style_set_model(model)  # after the cancel: it starts the W directions
        for w in self._controls:
            w.setEnabled(model is not None)
        self._interp.set_model(model)
        self._dirs.set_rows([], np.zeros(0), empty_text="no directions yet")
        self._hood.set_model(model)
        self.neighbours.set_model(model)
        self._image.clear()
        if model is None:
            self._dims.set_rows([], np.zeros(0))
            self._image.set_images(np.full((1, 1, 3), 22, np.uint8), EMPTY)
            self._dirs.set_header("")
            self._dirs.set_progress(None)
            return
        points = bool(model.is_points)
        self.z_action("Project a picture…").setEnabled(not points)
        self._stack.setCurrentWidget(self._pad if points else self._image)
        self._left.setTabText(0, "Latent pad" if points else "Picture")
        self._left.setTabEnabled(1, not points)
        self._split.setSizes([800, 90] if points else [600, 260])  # 2-D: the walk is drawn on the pad
        if not keep:
            self._dims.set_rows([f"z{i}" for i in range(model.latent_dim)], self.state.dims)
        self._show_psi(self.state.psi)
        self._say(model.describe())
        self._start_directions(model)
        if points:
            self._start_cloud(model)
        self._request()

    def model(self) -> Any:
        return self._model

    def _start_directions(self, model: Any) -> None:
        self._dirs.set_header(f"Finding directions: PCA of {_analysed(model)} over {N_DRAWS:,} random draws…")
        self._dirs.set_progress(0.0)
        k = min(N_DIRECTIONS, model.latent_dim)
        self._renderer.submit("directions", lambda progress: principal_directions(
            model, n_samples=N_DRAWS, n_components=k, seed=0, progress=progress))

    def _start_cloud(self, model: Any) -> None:
        def job(progress):
            lines = latent_grid_lines(EXTENT_2D, n=11, points=64)  # (22, 64, 2)
            z = np.zeros((*lines.shape[:2], model.latent_dim), np.float32)
            z[..., :2] = lines  # further dims (if any) stay 0
            return map_latents(model, model.noise(N_DRAWS, 0).numpy()), lines, map_latents(model, z)

        self._renderer.submit("cloud", job)

    # ------------------------------------------------------------------ buttons
    @Slot()
    def _on_snapshot(self) -> None:
        self.snapshotRequested.emit()

    @Slot(str)
    def _on_endpoint(self, which: str) -> None:
        self.state.set_endpoint(which)

    # ------------------------------------------------------------------ rendering
    def _request(self) -> None:
        """Post the newest z to the render thread (replacing a queued one)."""
        if self._model is None:
            return
        model, s = self._model, self.state
        z, seed, psi, edited = s.current_z(), s.seed, s.psi, s.z_edited()
        if self._seed_box.suffix() != (" *" if edited else ""):
            self._seed_box.setSuffix(" *" if edited else "")
        if model.is_points:
            self._pad.set_latent_point(*s.dims[:2], emit=False)
        if self.style.active:  # ψ, directions and noise in W; the layer view comes back with the picture
            self._renderer.submit("main", self._style_job(z, seed, edited))
        else:
            self._renderer.submit("main", lambda progress: ((z, seed, psi), map_latents(model, z[None])[0], edited))
        self._hood.schedule()

    @Slot(str, int, object)
    def _on_rendered(self, kind: str, seq: int, result: object) -> None:
        if kind == "main":
            self._shown, out, edited, *layer_view = result
            z, seed, psi = self._shown
            if layer_view:
                self.style_panel.show_layer(layer_view[0])
            if self._model.is_points:
                self._pad.set_output_point(out)
            else:  # steady text while dragging: no relayout
                self._image.set_images(out[None], f"seed {seed}{', edited' if edited else ''}   ψ {psi:.2f}")
                self.neighbours.show_sample(out, f"G(z), seed {seed}{' edited' if edited else ''}")
        elif kind == "directions":
            self.state.set_directions(*result)
            k = self.state.directions.shape[0]
            self._dirs.set_rows([f"PC{i + 1}" for i in range(k)], self.state.alpha)
            self._dirs.set_progress(None)
            var = self.state.variances
            self._dirs.set_header(
                f"{k} principal directions of {_analysed(self._model)} over {N_DRAWS:,} draws (GANSpace), "
                f"most variance first ({var[0]:.3g} … {var[-1]:.3g}). Slider units: prior σ.")
            self._hood.set_directions(self.state.directions)
        elif self._style_rendered(kind, result):
            pass
        elif kind == "grid":
            self._hood.show_result(result)
        elif kind == "cloud":
            cloud, lines, warped = result
            self._cloud = np.asarray(cloud)
            self._pad.set_cloud(cloud)
            self._pad.set_grid(lines, warped)
            self._pad.fit_data_view(cloud)  # the grid's far corners may fly off: frame the mass

    @Slot(str, int, str)
    def _on_failed(self, kind: str, seq: int, text: str) -> None:
        if kind == "directions":
            self._dirs.set_progress(None)
            self._dirs.set_header(f"Could not find directions: {text}")
        elif not kind.startswith("interp"):
            self._say(f"Rendering failed: {text}", error=True)

    @Slot(str, float)
    def _on_progress(self, kind: str, fraction: float) -> None:
        if kind == "directions":
            self._dirs.set_progress(fraction)

    @Slot(str)
    def _say(self, text: str, error: bool = False) -> None:
        self._status.setStyleSheet("color: #ff7070;" if error else "color: #a0a0a0;")
        self._status.setText(text)

    # ------------------------------------------------------------------ hooks and lifetime
    def message(self) -> str:
        """The status line's text."""
        return self._status.text()

    def image(self) -> np.ndarray | None:
        """The uint8 (H, W, 3) picture shown (None for 2-D models or before the first render)."""
        return None if self._shown is None or self._model.is_points else self._image.current_grid()

    def neighbourhood_image(self) -> np.ndarray | None:
        return self._hood.image()

    def dimension_sliders(self) -> LatentSliders:
        return self._dims

    def direction_sliders(self) -> LatentSliders:
        return self._dirs

    def interpolation(self) -> InterpolationPanel:
        return self._interp

    def pad(self) -> LatentPad2D:
        return self._pad

    def show_neighbourhood(self) -> None:
        """Show the neighbourhood grid instead of the picture."""
        self._left.setCurrentIndex(1)

    def renderer(self) -> RenderController:
        return self._renderer

    def requested_seq(self, kind: str = "main") -> int:
        return self._renderer.requested_seq(kind)

    def rendered_seq(self, kind: str = "main") -> int:
        return self._renderer.rendered_seq(kind)

    def idle(self) -> bool:
        """True when every render asked for has arrived (tests wait on this)."""
        return self._renderer.idle() and not self._hood.waiting()

    def z_action(self, text: str):
        """The z menu's action called ``text`` ("Copy z", "Paste z", "Save image…", "Save z…")."""
        return next(a for a in self._z_menu.actions() if a.text() == text)

    def shutdown(self) -> None:
        """Stop the render thread (waits for the job in hand; never terminates it)."""
        self._hood.stop()
        self._projector.shutdown()
        self.neighbours.shutdown()
        self._renderer.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)
