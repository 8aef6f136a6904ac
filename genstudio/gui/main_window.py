"""The main window: run panel in a dock, views as tabs, live status in the status bar.

Other views plug in with :meth:`MainWindow.add_view` and listen to
:attr:`MainWindow.checkpointOpened` (a checkpoint the user opened, as a ready model) and to the
:class:`~genstudio.gui.controller.RunController` at :attr:`MainWindow.controller` (run started /
finished, and ``request_snapshot()`` → ``snapshotReady(tensors, meta)`` for the model being
trained). The display is refreshed by ONE ~30 Hz timer that drains the live run's mailbox and the
followed run folder's mailbox into the Monitor tab and the status bar.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QMainWindow, QMessageBox, QScrollArea, QTabWidget, QWidget,
)

from genstudio.config import ConfigError, RunConfig
from genstudio.data import is_points
from genstudio.gui import dialogs
from genstudio.gui.checkpoint_loader import CheckpointLoader
from genstudio.gui.controller import RunController
from genstudio.gui.model_router import ModelRouter
from genstudio.gui.run_follower import RunFollower, metrics_until_last_checkpoint
from genstudio.gui.settings import AppSettings
from genstudio.gui.view_keys import ViewKeys
from genstudio.gui.widgets.hint import RING8_BUTTON, HintBar, latent_hint, monitor_hint, scrubber_hint, with_hint
from genstudio.gui.widgets.latent_panel import LatentView
from genstudio.gui.widgets.lazy_view import LazyView
from genstudio.gui.widgets.monitor import MonitorView
from genstudio.gui.widgets.run_panel import RunPanel
from genstudio.gui.widgets.scrubber import ScrubberView
from genstudio.gui.widgets.status import RunStatus
from genstudio.runs.events import Finished, Paused, Started
from genstudio.safe_text import safe_text

__all__ = ["MainWindow"]

_log = logging.getLogger(__name__)

DRAIN_MS = 33  # ~30 Hz: the only rate at which training data reach the screen
#: The one-click first run: a small MLP GAN on eight Gaussians learns visibly within a minute on a CPU,
#: with the measured ring8 recipe (genstudio.recipes) in every field the form has.
RING8_TRY = {"kind": "gan", "data": "ring8", "seed": 0, "edited": []}


class MainWindow(QMainWindow):
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
        self.controller = RunController(self)
        self.follower: RunFollower | None = None
        self.loaded_checkpoint: str | None = None
        self.confirm_close: Callable[[], bool] = lambda: dialogs.ask_stop_run(self)
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
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        # built when first shown or asked for (see the latent / scrubber properties): a faster start
        self._pages = {"Latent": LazyView(LatentView), "Scrubber": LazyView(ScrubberView)}
        self.hints: dict[str, HintBar] = {}
        for name, view in (("Monitor", self.monitor), *self._pages.items()):
            monitor = name == "Monitor"
            hint = HintBar(name.lower(), "", self.settings, action=RING8_BUTTON if monitor else "",
                           on_action=self.try_ring8 if monitor else None)
            self.hints[name] = hint
            self.tabs.addTab(with_hint(view, hint), name)
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

        self._make_actions()
        self.view_keys = ViewKeys(self, self.tabs, lambda: self.latent, lambda: self.scrubber)
        self.panel.set_actions(self.act_start, self.act_pause, self.act_stop, self.act_save)
        self.panel.validityChanged.connect(self._update_actions)
        c = self.controller
        c.runStarted.connect(self._on_run_started)
        c.runFinished.connect(self._on_run_finished)
        c.runFailed.connect(self._on_run_failed)
        c.runHalted.connect(self._on_run_halted)
        c.stateChanged.connect(self._on_state_changed)
        c.threadFinished.connect(self._on_thread_finished)
        self.router = ModelRouter(c, self.tabs, lambda: self.latent, lambda: self.scrubber,
                                  lambda text: self.statusBar().showMessage(text, 8000), self)
        for page in self._pages.values():
            page.when_built(self.router.attach)
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

    def load_bundled(self) -> list[str]:
        """Open the bundled models for the views that show them; the names of those opened.

        A view not built yet gets its model when it is built. A bundled file that cannot be read is
        reported in the status bar and skipped.
        """
        from genstudio.bundled import BUNDLED, bundled_path
        from genstudio.checkpoint import CheckpointError
        from genstudio.loading import load_model

        opened = []
        for view_name, stems in BUNDLED.items():
            page = self._pages["Latent" if view_name == "latent" else "Scrubber"]
            for stem in stems:
                path = bundled_path(stem)
                if path is None:
                    continue
                try:
                    model = load_model(path, "auto")
                except (CheckpointError, OSError) as exc:
                    self.statusBar().showMessage(f"Bundled {path.name} cannot be opened: {exc}", 10000)
                    continue
                page.when_built(lambda view, model=model: view.set_model(model))
                page.when_built(self.refresh_hints)  # then its hint speaks of that model
                opened.append(path.name)
                break
        return opened

    @Slot()
    def try_ring8(self) -> bool:
        """The one-click first run: a GAN on ring8 with settings that learn within a minute."""
        if self.controller.is_running():
            self.statusBar().showMessage("A run is already going.", 5000)
            return False
        self.panel.set_fields(RING8_TRY)
        self.panel.use_new_folder()
        self.show_view("Monitor")
        return self.start_run()

    @Slot()
    def start_run(self) -> bool:
        """Start training what the run panel describes; False if it cannot start.

        With Resume ticked on a folder whose run differs from the form in what defines it (model,
        data, architecture, size…), the person chooses first: resume the folder's run as it was,
        start the form's run in a new folder, or cancel.
        """
        if self.controller.is_running() or not self.panel.is_valid():
            return False
        try:
            config = self.panel.config()
        except ConfigError as exc:
            self.show_error("Cannot start the run", str(exc), "")
            return False
        folder, resume = self.panel.run_folder(), self.panel.resume_requested()
        if resume:
            config = self._settle_resume(config, folder)
            if config is None:
                return False
            folder, resume = self.panel.run_folder(), self.panel.resume_requested()
        self._refollow = self.follower.run_dir.path if self.follower is not None else None
        self._stop_following()
        self.settings.set_runs_parent(folder.parent)
        self.settings.set_run_panel(self.panel.fields())
        self.panel.set_runs_parent(folder.parent)
        self.monitor.begin(config.kind, is_points(config.data), f"{config.kind.upper()} on {config.data}")
        self._monitor_shows = (config.kind, is_points(config.data), config.data)
        self.refresh_hints()
        self.run_status.reset()
        self.panel.set_message(f"Writing to {folder}")
        if resume:  # show the curves the run already has
            self.monitor.add_metrics(metrics_until_last_checkpoint(folder))
        self.controller.start(config, folder, resume=resume)
        self.panel.set_running(True)
        verb = "resuming" if resume else "training"
        name = "GAN" if config.kind == "gan" else "diffusion"
        self._set_subject(f"{verb} {name} on {config.data} · {folder.name}")
        return True

    def _settle_resume(self, config: RunConfig, folder: Path) -> RunConfig | None:
        """The config to start when resuming ``folder`` (the form may change); None to start nothing."""
        from genstudio.runs.folder import RunDir
        from genstudio.runs.identity import defining_differences

        rd = RunDir(folder)
        try:
            saved = rd.read_config() if rd.config_path.exists() else None
        except (OSError, ValueError, TypeError) as exc:
            self.show_error("Cannot resume the run", f"{rd.config_path} cannot be read: {exc}", "")
            return None
        differences = defining_differences(saved, config) if saved is not None else []
        if not differences:
            return config
        choice = self.ask_resume_mismatch(str(folder), differences)
        if choice == dialogs.RESUME_AS_SAVED:
            self.panel.set_fields({"kind": saved.kind, "data": saved.data, "size": saved.size})
            self.panel.set_resume(folder)
            self.panel.set_message(f"Resuming {folder.name} as it was saved.")
        elif choice == dialogs.START_NEW:
            self.panel.use_new_folder()
        else:
            return None
        try:
            return self.panel.config()
        except ConfigError as exc:
            self.show_error("Cannot start the run", str(exc), "")
            return None

    @Slot()
    def toggle_pause(self) -> None:
        """Pause the run between two steps, or resume it."""
        self.controller.toggle_pause()

    @Slot()
    def stop_run(self) -> None:
        """Stop the run: the step finishes and a checkpoint is written."""
        self.controller.stop()

    @Slot()
    def save_checkpoint(self) -> None:
        """Write a checkpoint of the running model between the next two steps."""
        self.controller.request_save()
        self.statusBar().showMessage("Saving a checkpoint after the current step…", 3000)

    def open_checkpoint(self, path: str | Path) -> Any | None:
        """Load a checkpoint here (blocking), show it and emit ``checkpointOpened``; None on failure.

        The menu and start-up paths use ``self.loader`` instead, which loads on a thread.
        """
        from genstudio.checkpoint import CheckpointError
        from genstudio.loading import load_model

        try:
            model = load_model(path, "auto")
        except (CheckpointError, OSError, ValueError) as exc:
            self.show_error("Cannot open the checkpoint", safe_text(str(exc)), "")
            return None
        self._show_opened(Path(path), model)
        return model

    @Slot(str, object)
    def _on_checkpoint_loaded(self, path: str, model: Any) -> None:
        self._show_opened(Path(path), model)

    @Slot(str, str)
    def _on_checkpoint_failed(self, _path: str, message: str) -> None:
        self.show_error("Cannot open the checkpoint", message, "")

    def _show_opened(self, path: Path, model: Any) -> None:
        self.loaded_checkpoint = str(path)
        self.settings.set_last_folder("open", path.parent)
        describe = getattr(model, "describe", None)
        text = describe() if callable(describe) else f"{model.kind} model"
        self.statusBar().showMessage(safe_text(f"Opened {path.name}: {text}"), 15000)
        if not self.controller.is_running():
            self._set_subject(safe_text(path.name))
        self.checkpointOpened.emit(str(path), model)

    def open_run_folder(self, path: str | Path) -> bool:
        """Show a run folder's curves and newest preview and keep following it as it grows."""
        path = Path(path)
        if self.controller.is_running():
            self.show_error("A run is in progress", "Stop the run before opening another run folder.", "")
            return False
        if not RunFollower.looks_like_run(path):
            self.show_error("Not a run folder", f"{path} has no config.json or metrics.jsonl.", "")
            return False
        follower = self._follow(path)
        cfg = follower.config
        self.settings.set_last_folder("open_run", path.parent)
        if cfg is not None and follower.run_dir.last_checkpoint.exists():  # Start would resume it
            self.panel.set_fields({"kind": cfg.kind, "data": cfg.data, "size": cfg.size, "batch": cfg.batch,
                                   "lr": f"{cfg.lr:g}", "steps": cfg.steps, "seed": cfg.seed})
            self.panel.set_resume(path)
        if follower.problem:
            self.statusBar().showMessage(follower.problem, 10000)
        self._set_subject(f"{path.name} (run folder)")
        return True

    def _follow(self, path: Path) -> RunFollower:
        """Show ``path``'s curves in the Monitor and follow the folder as it grows."""
        self._stop_following()
        follower = RunFollower(path, parent=self)
        follower.failed.connect(self._on_follower_failed)
        cfg = follower.config
        kind = cfg.kind if cfg else "gan"
        self.monitor.begin(kind, bool(cfg and is_points(cfg.data)),
                           f"{kind.upper()} on {cfg.data}" if cfg else path.name)
        self._monitor_shows = (kind, bool(cfg and is_points(cfg.data)), cfg.data if cfg else None)
        self.refresh_hints()
        self.run_status.reset()
        self.follower = follower
        follower.start()
        return follower

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

    # ------------------------------------------------------------------ controller reactions
    @Slot(object)
    def _on_run_started(self, started: Started) -> None:
        self._refollow = None  # the run took the Monitor over
        self.statusBar().showMessage(f"Training on {started.device} in {started.run_dir}", 5000)

    @Slot(object)
    def _on_run_finished(self, finished: Finished) -> None:
        reason, step, message = finished.reason, finished.step, finished.message
        self.drain()
        if self.controller.config is not None:  # what the run last trained with (a dialog may have changed it)
            self.panel.show_run_settings(self.controller.config)
        self.run_status.show_ended({"done": "Finished", "stopped": "Stopped"}.get(reason, f"Stopped ({reason})"),
                                   step)
        folder = self.controller.run_dir
        where = f"{folder.name}/checkpoints" if folder is not None else "the run folder"
        if reason == "done":
            self.statusBar().showMessage(f"Finished at step {step:,}", 10000)
            self.panel.set_message(f"Finished at step {step:,}; the checkpoint is in {where}.")
            self.panel.use_new_folder()
        elif reason == "stopped":
            self.statusBar().showMessage(f"Stopped at step {step:,}", 10000)
            self.panel.set_message(f"Stopped at step {step:,}; the checkpoint is in {where}. "
                                   "Start resumes it; New starts a fresh run.")
            if folder is not None:
                self.panel.set_resume(folder)
        else:
            if folder is not None:
                self.panel.set_resume(folder)
            self.panel.set_message(f"Stopped: {reason} at step {step:,}. {message}")
            if reason == "diverged":
                self.show_diverged(step, message)
            else:
                self.show_error("Training stopped: " + reason, message, "")
        self._set_subject(f"{folder.name if folder else 'run'} ({reason} at step {step:,})")

    @Slot(object)
    def _on_run_halted(self, paused: Paused) -> None:
        """A fault paused the run (a divergence has rolled it back): ask how to go on."""
        reason, step, message = paused.reason, paused.step, paused.message
        self.drain()
        folder = self.controller.run_dir
        if reason == "diverged" and folder is not None:  # the curves go back with the run
            self.monitor.begin(self.monitor.kind(), self.monitor.is_points())
            self.monitor.add_metrics(metrics_until_last_checkpoint(folder) if step else [])
        self.panel.set_message(f"Paused: {reason} at step {step:,}.")
        changes = self.ask_recovery(reason, step, message, self.controller.config)
        if changes is None:
            self.controller.stop()
            return
        try:
            self.controller.resume(**changes)
        except ConfigError as exc:  # the dialog checks the values; a replaced hook may not
            self.show_error("Cannot resume the run", str(exc), "")
            self.controller.stop()
            return
        self.panel.show_run_settings(self.controller.config)
        with_ = ", ".join(f"{'learning rate' if k == 'lr' else k} {v:g}" for k, v in changes.items())
        self.panel.set_message(f"Resumed at step {step:,}" + (f" with {with_}." if with_ else "."))

    @Slot(str, str, str)
    def _on_run_failed(self, title: str, message: str, details: str) -> None:
        """Say what went wrong in words; the traceback goes to the log, never into the dialog."""
        if details:
            _log.error("%s: %s\n%s", title, message, details)
        if self.run_status.status():  # it had started: no speed or time left for a run that is over
            self.drain()
            self.run_status.show_ended("Stopped by an error", self.run_status.step_value())
        self._set_subject("no run")
        self.show_error(title, message, "")

    @Slot(str)
    def _on_state_changed(self, state: str) -> None:
        self._update_actions()

    @Slot()
    def _on_thread_finished(self) -> None:
        self.panel.set_running(False)
        self._update_actions()
        if self._refollow is not None:  # the run never started: the Monitor goes back to what it showed
            path, self._refollow = self._refollow, None
            if RunFollower.looks_like_run(path):
                self._follow(path)
                self._set_subject(f"{path.name} (run folder)")

    @Slot(str)
    def _on_follower_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)

    # ------------------------------------------------------------------ actions and menus
    def _make_actions(self) -> None:
        std = QKeySequence.StandardKey
        table = (  # attribute, text, slot, shortcut, tooltip
            ("act_start", "Start", self.start_run, "Ctrl+Return", "Train what the run panel describes"),
            ("act_pause", "Pause", self.toggle_pause, "Ctrl+P", "Pause or resume between two steps"),
            ("act_stop", "Stop", self.stop_run, "Ctrl+.", "Finish the step, write a checkpoint, stop"),
            ("act_save", "Save checkpoint", self.save_checkpoint, _keys(std.Save, "Ctrl+S"),
             "Write a checkpoint of the running model now"),
            ("act_open", "Open checkpoint…", self._choose_checkpoint, _keys(std.Open, "Ctrl+O"),
             "Load a .safetensors checkpoint into the views"),
            ("act_open_run", "Open run folder…", self._choose_run_folder, "Ctrl+Shift+O",
             "Show a run folder's curves and previews and follow it as it grows"),
            ("act_quit", "Quit", self.close, _keys(std.Quit, "Ctrl+Q"), "Quit GenStudio"),
        )
        for name, text, slot, keys, tip in table:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            key_text = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            act.setToolTip(f"{tip} ({key_text})")
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            setattr(self, name, act)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.act_open, self.act_open_run])
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addActions([self.act_start, self.act_pause, self.act_stop])
        run_menu.addAction("Try: train a GAN on ring8", self.try_ring8)
        run_menu.addSeparator()
        run_menu.addAction(self.act_save)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.dock.toggleViewAction())
        view_menu.addSeparator()
        for i, name in enumerate(("Monitor", "Latent", "Scrubber"), start=1):
            act = view_menu.addAction(name, lambda n=name: self.show_view(n))
            act.setShortcut(QKeySequence(f"Ctrl+{i}"))
        view_menu.addSeparator()
        view_menu.addAction("Show the hints again", self._show_hints)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("About GenStudio", self._about)

    @Slot()
    def _update_actions(self) -> None:
        state = self.controller.state
        running = self.controller.is_running()
        self.act_start.setEnabled(not running and self.panel.is_valid())
        self.act_pause.setEnabled(state in ("running", "paused"))
        self.act_pause.setText("Resume" if state == "paused" else "Pause")
        self.act_stop.setEnabled(state in ("running", "paused"))
        self.act_save.setEnabled(state in ("running", "paused"))
        self.act_open_run.setEnabled(not running)

    @Slot()
    def _choose_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", self.settings.last_folder("open"),
                                              "Checkpoints (*.safetensors *.pt *.pth);;All files (*)")
        if path:
            self.loader.load(path)

    @Slot()
    def _choose_run_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open run folder",
                                                self.settings.last_folder("open_run"))
        if path:
            self.open_run_folder(path)

    @Slot()
    def _about(self) -> None:
        QMessageBox.about(self, "About GenStudio",
                          "<b>GenStudio</b><br>Train and explore GANs and diffusion models live.")

    # ------------------------------------------------------------------ window life
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Ask before stopping a run; stop it, wait (painting) for its checkpoint, then close."""
        if self.controller.is_running():
            if not self.confirm_close():
                event.ignore()
                return
            self.statusBar().showMessage("Stopping: finishing the step and writing a checkpoint…")
            self.controller.stop()
            if not self.controller.wait_finished(self.close_timeout_s):
                self.show_error("Still stopping", "The run has not stopped yet; close again in a moment.", "")
                event.ignore()
                return
        self._stop_following()
        self.loader.shutdown()
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
    @Slot()
    def refresh_hints(self, *_: object) -> None:
        """Fit each tab's hint to what it shows: the Monitor's run, the Latent / Scrubber model."""
        self.hints["Monitor"].set_text(monitor_hint(*self._monitor_shows))
        for name, hint_for in (("Latent", latent_hint), ("Scrubber", scrubber_hint)):
            page = self._pages[name]  # a view not built yet is not shown either: its hint waits
            model = page.view().model() if page.is_built() else None
            default = None if name == "Latent" else "digits"  # the forward process starts on digits
            data = (getattr(model, "meta", None) or {}).get("data") if model is not None else default
            self.hints[name].set_text(hint_for(bool(getattr(model, "is_points", False)), data))

    @Slot()
    def _show_hints(self) -> None:
        for hint in self.hints.values():
            self.settings.set_hint_dismissed(hint.key, False)
            hint.show()

    def _set_subject(self, text: str) -> None:
        self._subject = text
        self.setWindowTitle(f"GenStudio — {text}")

    def _stop_following(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower.deleteLater()
            self.follower = None


def _keys(standard: QKeySequence.StandardKey, fallback: str) -> QKeySequence:
    """The platform's standard shortcut, or ``fallback`` where the platform defines none."""
    seq = QKeySequence(standard)
    return seq if not seq.isEmpty() else QKeySequence(fallback)
