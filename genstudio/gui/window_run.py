"""Starting a run from the run panel and reacting to it (started, finished, halted by a fault,
failed): a part of :class:`~genstudio.gui.main_window.MainWindow`, mixed into it."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Slot

from genstudio.config import ConfigError, RunConfig
from genstudio.data import is_points
from genstudio.gui import dialogs
from genstudio.gui.run_follower import RunFollower, metrics_until_last_checkpoint
from genstudio.runs.events import Finished, Paused, Started
from genstudio.runs.folder import RunDir

__all__ = ["RunWiring", "RING8_TRY"]

_log = logging.getLogger("genstudio.gui.main_window")  # the window's log, as before the split

#: The one-click first run: a small MLP GAN on eight Gaussians learns visibly within a minute on a CPU,
#: with the measured ring8 recipe (genstudio.recipes) in every field the form has.
RING8_TRY = {"kind": "gan", "data": "ring8", "seed": 0, "edited": []}


class RunWiring:
    """Start, pause, stop and save a run, and the window's reactions to the
    :class:`~genstudio.gui.controller.RunController`'s signals (a
    :class:`~genstudio.gui.main_window.MainWindow` part: it uses the window's controller, panel,
    monitor, status and dialogs hooks)."""

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
        if self.controller.is_running() or self.arena.is_busy() or not self.panel.is_valid():
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
        self.monitor.set_run_folder(folder)  # its saved previews are the time-lapse
        self.refresh_hints()
        self.run_status.reset()
        self.panel.set_message(f"Writing to {folder}")
        if resume:  # show the curves the run already has, and where its settings changed
            self.monitor.add_metrics(metrics_until_last_checkpoint(folder))
            for change in RunDir(folder).read_changes():
                self.monitor.mark_change(change["step"], str(change.get("label", "")))
        self.controller.start(config, folder, resume=resume)
        self.panel.set_running(True)
        verb = "resuming" if resume else "training"
        from genstudio.families import get_family

        self._set_subject(f"{verb} {get_family(config.kind).noun} on {config.data} · {folder.name}")
        return True

    def _settle_resume(self, config: RunConfig, folder: Path) -> RunConfig | None:
        """The config to start when resuming ``folder`` (the form may change); None to start nothing."""
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
    def step_run(self) -> None:
        """Paused: one training step, then paused again (the Monitor shows where it pushed G's points)."""
        if self.controller.step():
            self.show_view("Monitor")

    @Slot()
    def train_on_drawing(self) -> bool:
        """Save the Monitor's drawing as a ``points:FILE.npy`` data set (in the runs folder's
        ``drawings``) and train the run panel's model on it in a new folder."""
        from genstudio.data import DataError

        if self.controller.is_running():
            return False
        try:
            path = self.monitor.tool.state.save(self.panel.form.runs_parent / "drawings")
        except (DataError, OSError) as exc:
            self.show_error("Cannot save the drawing", str(exc), "")
            return False
        self.monitor.tool.state.set_active(False)
        self.panel.set_data(f"points:{path}")
        self.panel.use_new_folder()
        return self.start_run()

    @Slot()
    def stop_run(self) -> None:
        """Stop the run: the step finishes and a checkpoint is written."""
        self.controller.stop()

    @Slot()
    def save_checkpoint(self) -> None:
        """Write a checkpoint of the running model between the next two steps."""
        self.controller.request_save()
        self.statusBar().showMessage("Saving a checkpoint after the current step…", 3000)

    @Slot(dict)
    def change_settings(self, changes: dict) -> bool:
        """Give the running run new live settings (the Monitor's row): they take effect at its next step."""
        try:
            self.controller.change(**changes)
        except ConfigError as exc:
            self.monitor.live.show_error(str(exc))
            return False
        self.monitor.live.show_config(self.controller.config)
        from genstudio.runs.faults import describe_changes

        self.statusBar().showMessage(f"From the next step: {describe_changes(changes)}", 5000)
        return True

    @Slot(object)
    def _on_run_started(self, started: Started) -> None:
        if started.config.kind == "gan":  # the live settings row shows what the run trains with
            self.monitor.live.show_config(started.config)
            self.monitor.live.setEnabled(True)
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
        if self.controller.config.kind == "gan":
            self.monitor.live.show_config(self.controller.config)
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
        self.monitor.live.setEnabled(False)
        self.panel.set_running(False)
        self._update_actions()
        if self._refollow is not None:  # the run never started: the Monitor goes back to what it showed
            path, self._refollow = self._refollow, None
            if RunFollower.looks_like_run(path):
                self._follow(path)
                self._set_subject(f"{path.name} (run folder)")
