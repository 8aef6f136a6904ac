"""Opening what was trained: bundled models and checkpoints into the views, and run folders into the
Monitor, followed as they grow: a part of :class:`~genstudio.gui.main_window.MainWindow`, mixed
into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot

from genstudio.data import is_points
from genstudio.gui.run_follower import RunFollower
from genstudio.safe_text import safe_text

__all__ = ["OpenAndFollow"]


class OpenAndFollow:
    """Bundled models, File ▸ Open checkpoint and File ▸ Open run folder (a
    :class:`~genstudio.gui.main_window.MainWindow` part: it uses the window's views, loader,
    monitor, settings and follower)."""

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
            page = self._pages[{"latent": "Latent", "scrubber": "Scrubber",
                                "autoencoder": "Autoencoder"}.get(view_name, "Super-resolution")]
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
                if view_name != "superres":  # the super-resolution view compares all of its models
                    break
        return opened

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
        from genstudio.interop.diffusers_folder import is_diffusers_folder

        if is_diffusers_folder(path):  # a model saved by diffusers, not a run: it opens like a checkpoint
            self.loader.load(path)
            return True
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
        self.monitor.set_run_folder(path)  # its saved previews are the time-lapse
        self.refresh_hints()
        self.run_status.reset()
        self.follower = follower
        follower.start()
        return follower

    @Slot(str)
    def _on_follower_failed(self, message: str) -> None:
        """A line for 5 s in the status bar (the follower's or the Monitor's)."""
        self.statusBar().showMessage(message, 5000)

    def _stop_following(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower.deleteLater()
            self.follower = None
