"""The main window's actions (Start, Pause, Stop, Save, Open…, Quit, with their shortcuts) and its
menus: a part of :class:`~genstudio.gui.main_window.MainWindow`, mixed into it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

__all__ = ["MenusAndActions"]


class MenusAndActions:
    """The window's actions and menus (a :class:`~genstudio.gui.main_window.MainWindow` part: it
    uses the window's controller, panel, loader, settings, dock and hints)."""

    def _make_actions(self) -> None:
        std = QKeySequence.StandardKey
        table = (  # attribute, text, slot, shortcut, tooltip
            ("act_start", "Start", self.start_run, "Ctrl+Return", "Train what the run panel describes"),
            ("act_pause", "Pause", self.toggle_pause, "Ctrl+P", "Pause or resume between two steps"),
            ("act_step", "Step", self.step_run, "Ctrl+Right",
             "Paused: run one training step, then show where it pushes G's points (2-D GAN)"),
            ("act_stop", "Stop", self.stop_run, "Ctrl+.", "Finish the step, write a checkpoint, stop"),
            ("act_save", "Save checkpoint", self.save_checkpoint, _keys(std.Save, "Ctrl+S"),
             "Write a checkpoint of the running model now"),
            ("act_arena", "Arena: GAN against diffusion…", self.toggle_arena, "",
             "Train a GAN and a diffusion model on the panel's 2-D data with one CPU budget, live"),
            ("act_open", "Open checkpoint…", self._choose_checkpoint, _keys(std.Open, "Ctrl+O"),
             "Load a .safetensors checkpoint into the views"),
            ("act_open_run", "Open run folder…", self._choose_run_folder, "Ctrl+Shift+O",
             "Show a run folder's curves and previews and follow it as it grows"),
            ("act_open_diffusers", "Open diffusers model folder…", self._choose_diffusers_folder, "Ctrl+Alt+O",
             "Open a diffusers folder saved on disk in the scrubber: a UNet2DModel (DDPM / DDIM) or a Stable "
             "Diffusion pipeline (prompt, latent and decoded frames)"),
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
        file_menu.addActions([self.act_open, self.act_open_run, self.act_open_diffusers])
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addActions([self.act_start, self.act_pause, self.act_step, self.act_stop])
        run_menu.addAction("Try: train a GAN on ring8", self.try_ring8)
        run_menu.addAction(self.act_arena)
        run_menu.addSeparator()
        run_menu.addAction(self.act_save)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.dock.toggleViewAction())
        view_menu.addSeparator()
        for i, name in enumerate(("Monitor", "Latent", "Scrubber", "Super-resolution"), start=1):
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
        arena = self.arena.is_busy()
        self.act_start.setEnabled(not running and not arena and self.panel.is_valid())
        self.act_arena.setEnabled(not running)
        self.act_pause.setEnabled(state in ("running", "paused"))
        self.act_pause.setText("Resume" if state == "paused" else "Pause")
        self.act_step.setEnabled(state == "paused")
        self.monitor.tool.set_allowed(not running and not arena and state == "idle")  # drawing: before a run, not during one
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
    def _choose_diffusers_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open diffusers model folder", self.settings.last_folder("open"))
        if path:
            self.loader.load(path)  # on a thread; a dialog says why a folder cannot be opened

    @Slot()
    def _about(self) -> None:
        QMessageBox.about(self, "About GenStudio",
                          "<b>GenStudio</b><br>Train and explore GANs and diffusion models live.")

    @Slot()
    def _show_hints(self) -> None:
        for hint in self.hints.values():
            self.settings.set_hint_dismissed(hint.key, False)
            hint.show()


def _keys(standard: QKeySequence.StandardKey, fallback: str) -> QKeySequence:
    """The platform's standard shortcut, or ``fallback`` where the platform defines none."""
    seq = QKeySequence(standard)
    return seq if not seq.isEmpty() else QKeySequence(fallback)
