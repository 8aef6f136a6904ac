"""The main window: run panel in a dock, views as tabs, live status in the status bar.

Other views plug in with :meth:`MainWindow.add_view` and listen to
:attr:`MainWindow.checkpointOpened` (a checkpoint the user opened, as a ready model) and to the
:class:`~genstudio.gui.controller.RunController` at :attr:`MainWindow.controller` (run started /
finished, and ``request_snapshot()`` → ``snapshotReady(tensors, meta)`` for the model being
trained). The display is refreshed by ONE ~30 Hz timer that drains the live run's mailbox and the
followed run folder's mailbox into the Monitor tab and the status bar.

The window's behaviour comes in parts, one file each: starting a run and reacting to it
(:mod:`~genstudio.gui.window_run`), opening checkpoints and following run folders
(:mod:`~genstudio.gui.window_open`), the actions and menus (:mod:`~genstudio.gui.window_menus`).
This file builds the window and holds what joins them: the views, the display timer, closing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QTabWidget, QWidget

from genstudio.gui import dialogs
from genstudio.gui.checkpoint_loader import CheckpointLoader
from genstudio.gui.controller import RunController
from genstudio.gui.model_router import ModelRouter
from genstudio.gui.run_follower import RunFollower
from genstudio.gui.settings import AppSettings
from genstudio.gui.view_keys import ViewKeys
from genstudio.gui.widgets.hint import RING8_BUTTON, HintBar, latent_hint, monitor_hint, scrubber_hint, with_hint
from genstudio.gui.widgets.latent_panel import LatentView
from genstudio.gui.widgets.lazy_view import LazyView
from genstudio.gui.widgets.monitor import MonitorView
from genstudio.gui.widgets.run_panel import RunPanel
from genstudio.gui.widgets.scrubber import ScrubberView
from genstudio.gui.widgets.superres_view import SuperResView
from genstudio.gui.widgets.autoencoder_view import AutoencoderView
from genstudio.gui.widgets.status import RunStatus
from genstudio.gui.window_arena import ArenaWiring
from genstudio.gui.window_drop import DropToOpen
from genstudio.gui.window_menus import MenusAndActions
from genstudio.gui.window_open import OpenAndFollow
from genstudio.gui.window_run import RunWiring

__all__ = ["MainWindow"]

DRAIN_MS = 33  # ~30 Hz: the only rate at which training data reach the screen


class MainWindow(RunWiring, OpenAndFollow, MenusAndActions, ArenaWiring, DropToOpen, QMainWindow):
    """GenStudio's window.

    Parameters
    ----------
    settings : AppSettings, optional
        Where geometry, folders and run-panel values persist (a fresh default store if omitted).

    Signals
    -------
    checkpointOpened(str, object)
        ``(path, model)`` after File ▸ Open checkpoint: a ``GanModel`` or ``DiffusionModel``.

    Attributes
    ----------
    confirm_close : callable () -> bool
        Asked when the window closes during a run; tests replace it to skip the dialog.
    show_error : callable (title, message, details) -> None
        How errors are shown; tests replace it to collect them.
    close_timeout_s : float
        How long closing waits for a stopping run.
    """

    checkpointOpened = Signal(str, object)

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.setAcceptDrops(True)  # a checkpoint or model folder dropped anywhere opens (window_drop.py)
        self.controller = RunController(self)
        self.follower: RunFollower | None = None
        self.loaded_checkpoint: str | None = None
        self.confirm_close: Callable[[], bool | str] = \
            lambda: dialogs.ask_stop_run(self, can_leave=self.controller.mode == "process")
        self.show_error: Callable[[str, str, str], None] = \
            lambda title, message, details="": dialogs.show_error(self, title, message, details)
        self.show_diverged: Callable[[int, str], None] = \
            lambda step, message: dialogs.show_diverged(self, step, message)
        self.ask_resume_mismatch: Callable[[str, list[str]], str | None] = \
            lambda folder, differences: dialogs.ask_resume_mismatch(self, folder, differences)
        self.ask_recovery: Callable[[str, int, str, Any], dict | None] = \
            lambda reason, step, message, config: dialogs.ask_recovery(self, reason, step, message, config)
        self.close_timeout_s = 20.0
        self._subject = "no run"
        self._monitor_shows: tuple[str | None, bool, str | None] = (None, False, None)  # kind, points, data
        self._refollow: Path | None = None  # the folder followed before Start: followed again if it fails

        self.monitor = MonitorView()
        self.monitor.message.connect(self._on_follower_failed)  # a status-bar line for 5 s
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        # built when first shown or asked for (see the latent / scrubber properties): a faster start
        self._pages = {"Latent": LazyView(LatentView), "Scrubber": LazyView(ScrubberView),
                       "Super-resolution": LazyView(SuperResView), "Autoencoder": LazyView(AutoencoderView)}
        self.hints: dict[str, HintBar] = {}
        for name, view in (("Monitor", self.monitor), *self._pages.items()):
            monitor = name == "Monitor"
            hint = HintBar(name.lower(), "", self.settings, action=RING8_BUTTON if monitor else "",
                           on_action=self.try_ring8 if monitor else None)
            self.hints[name] = hint
            self.tabs.addTab(with_hint(view, hint), name)
        self.hints["Super-resolution"].set_text("drag the wipe between two columns, zoom in, tick |SR − HR| for "
                                                "the error map, or Open image… to try a picture of your own.")
        self.hints["Autoencoder"].set_text("each row is a held-out image, its reconstruction, the error and the "
                                           "latent channels the decoder sees; step through the images above.")
        self.refresh_hints()
        self.setCentralWidget(self.tabs)

        self.panel = RunPanel(self.settings.runs_parent())
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.dock = QDockWidget("Training run", self)
        self.dock.setObjectName("RunDock")
        self.dock.setWidget(scroll)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

        self.run_status = RunStatus()
        self.statusBar().addPermanentWidget(self.run_status)

        self._make_arena()  # before the actions: they ask whether an arena runs
        self._make_actions()
        self.view_keys = ViewKeys(self, self.tabs, lambda: self.latent, lambda: self.scrubber)
        self.panel.set_actions(self.act_start, self.act_pause, self.act_stop, self.act_save)
        self.monitor.tool.set_step_action(self.act_step)
        self.monitor.tool.trainRequested.connect(self.train_on_drawing)
        self.panel.validityChanged.connect(self._update_actions)
        c = self.controller
        c.runStarted.connect(self._on_run_started)
        c.runFinished.connect(self._on_run_finished)
        c.runFailed.connect(self._on_run_failed)
        c.runHalted.connect(self._on_run_halted)
        c.stateChanged.connect(self._on_state_changed)
        c.threadFinished.connect(self._on_thread_finished)
        self.monitor.live.changeRequested.connect(self.change_settings)  # settings changed mid-run
        self.router = ModelRouter(c, self.tabs, lambda: self.latent, lambda: self.scrubber,
                                  lambda text: self.statusBar().showMessage(text, 8000), self)
        self.router.add_view("superres", self._pages["Super-resolution"].view)
        self.router.add_view("autoencoder", self._pages["Autoencoder"].view)
        for page in self._pages.values():
            page.when_built(self.router.attach)
        self._pages["Super-resolution"].when_built(
            lambda view: view.fineTuneRequested.connect(self._fine_tune_srgan))
        self.checkpointOpened.connect(lambda _path, model: self.router.show_model(model))
        self.loader = CheckpointLoader(self)  # File ▸ Open and paths given at start-up load off this thread
        self.loader.loaded.connect(self._on_checkpoint_loaded)
        self.loader.failed.connect(self._on_checkpoint_failed)
        self.checkpointOpened.connect(self.refresh_hints)
        c.snapshotReady.connect(self.refresh_hints)  # after the router (connected first) has shown it
        # queued: a tab shown for the first time builds its view and gives it its model first
        self.tabs.currentChanged.connect(self.refresh_hints, Qt.ConnectionType.QueuedConnection)

        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(DRAIN_MS)
        self._drain_timer.timeout.connect(self.drain)
        self._drain_timer.start()

        self._restore_settings()
        self._update_actions()
        self._set_subject("no run")

    # ------------------------------------------------------------------ public API
    @property
    def latent(self) -> LatentView:
        """The Latent tab's explorer (built on first use)."""
        return self._pages["Latent"].view()

    @property
    def scrubber(self) -> ScrubberView:
        """The Scrubber tab's view (built on first use)."""
        return self._pages["Scrubber"].view()

    def built_views(self) -> list[str]:
        """The names of the tabs whose view has been built so far."""
        return [name for name, page in self._pages.items() if page.is_built()]

    def add_view(self, name: str, widget: QWidget) -> int:
        """Add a tab to the central area and return its index."""
        return self.tabs.addTab(widget, name)

    def view(self, name: str) -> QWidget | None:
        """The tab called ``name``, if any."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == name:
                return self.tabs.widget(i)
        return None

    def show_view(self, name: str) -> None:
        """Bring the tab called ``name`` to the front."""
        page = self.view(name)
        if page is not None:
            self.tabs.setCurrentWidget(page)

    # ------------------------------------------------------------------ the display timer
    @Slot()
    def drain(self) -> None:
        """Move everything pending in the mailboxes to the screen (called at ~30 Hz)."""
        boxes = [self.controller.mailbox]
        if self.follower is not None:
            boxes.append(self.follower.mailbox)
        for box in boxes:
            drained = box.drain()
            if not drained:
                continue
            status = drained.status
            if status.reset and self.follower is not None:
                self.monitor.begin(self.monitor.kind(), self.monitor.is_points())  # the run was resumed
            self.monitor.apply(drained)
            self.run_status.apply(status)
            if status.saved is not None:
                self.statusBar().showMessage(f"Checkpoint written at step {status.saved_step:,}", 5000)



    # ------------------------------------------------------------------ window life
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Ask before stopping a run; stop it, wait (painting) for its checkpoint, then close."""
        if self.controller.is_running():
            choice = self.confirm_close()
            if not choice:
                event.ignore()
                return
            self.controller.close_processes()  # the warm one; and none is made when this run ends
            if choice != dialogs.LEAVE_RUNNING or self.controller.detach() is None:  # else: it trains on
                self.statusBar().showMessage("Stopping: finishing the step and writing a checkpoint…")
                self.controller.stop()
                if not self.controller.wait_finished(self.close_timeout_s):
                    self.show_error("Still stopping", "The run has not stopped yet; close again in a moment.", "")
                    event.ignore()
                    return
        self.controller.close_processes()  # the warm training process, if any
        self._stop_following()
        self.loader.shutdown()
        self.arena.shutdown()  # an arena running ends at its next evaluation
        self._drain_timer.stop()
        for page in self._pages.values():  # their render / sampling threads end before the window goes
            if page.is_built():
                page.view().shutdown()
        self._save_settings()
        event.accept()

    def _restore_settings(self) -> None:
        geometry = self.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
        fields = self.settings.run_panel()
        if fields:
            self.panel.set_fields(fields)
            self.panel.use_new_folder()

    def _save_settings(self) -> None:
        self.settings.set_window(self.saveGeometry(), self.saveState())
        self.settings.set_run_panel(self.panel.fields())
        self.settings.sync()

    # ------------------------------------------------------------------ helpers
    @Slot(str, str, int)
    def _fine_tune_srgan(self, checkpoint: str, data: str, size: int) -> None:
        """The Super-resolution view's "Fine-tune as SRGAN": the run form, filled for stage two."""
        if self.controller.is_running():
            self.statusBar().showMessage("A run is going: stop it before fine-tuning this SRResNet as SRGAN", 8000)
            return
        self.panel.form.fine_tune(checkpoint, data, size)
        self.dock.show()
        self.dock.raise_()

    @Slot()
    def refresh_hints(self, *_: object) -> None:
        """Fit each tab's hint to what it shows: the Monitor's run, the Latent / Scrubber model."""
        self.hints["Monitor"].set_text(monitor_hint(*self._monitor_shows))
        for name, hint_for in (("Latent", latent_hint), ("Scrubber", scrubber_hint)):
            page = self._pages[name]  # a view not built yet is not shown either: its hint waits
            model = page.view().model() if page.is_built() else None
            default = None if name == "Latent" else "digits"  # the forward process starts on digits
            data = (getattr(model, "meta", None) or {}).get("data") if model is not None else default
            text = {"text": getattr(model, "tokenizer", None) is not None} if name == "Scrubber" else {}
            self.hints[name].set_text(hint_for(bool(getattr(model, "is_points", False)), data, **text))

    def _set_subject(self, text: str) -> None:
        self._subject = text
        self.setWindowTitle(f"GenStudio — {text}")
