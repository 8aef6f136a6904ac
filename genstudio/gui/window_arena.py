"""Run ▸ Arena: GAN against diffusion on the run panel's 2-D data, live in the Monitor: a part of
:class:`~genstudio.gui.main_window.MainWindow`, mixed into it (``genstudio arena`` in the app)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QInputDialog

from genstudio.gui.arena_runner import ArenaDone, ArenaRunner

__all__ = ["ArenaWiring", "ARENA_BUDGET"]

ARENA_BUDGET = 20.0  # CPU-seconds per contender the dialog proposes: both curves within a minute or so


class ArenaWiring:
    """The arena's runner, its menu action's slot and its reactions (a
    :class:`~genstudio.gui.main_window.MainWindow` part: it uses the window's panel, monitor,
    controller, status bar and ``show_error``)."""

    def _make_arena(self) -> None:
        self.arena = ArenaRunner(self)
        self.arena.point.connect(self._on_arena_point)
        self.arena.done.connect(self._on_arena_done)
        self.arena.failed.connect(self._on_arena_failed)
        self.arena.busyChanged.connect(self._on_arena_busy)
        #: asked for the budget (CPU-seconds per contender) of an arena on ``data``; None cancels
        self.ask_arena_budget = lambda data: _ask_budget(self, data)
        #: genstudio arena's --evals and --n: evaluations per contender, points sampled at each
        self.arena_options = {"evals": 10, "n": 2000}

    @Slot()
    def toggle_arena(self) -> bool:
        """Start an arena on the run panel's 2-D data (ring8 if the panel holds images), or stop the
        one running; True if one started."""
        from genstudio.data import DataError, is_points, load_dataset

        if self.arena.is_busy():
            self.arena.stop()
            self.statusBar().showMessage("Stopping the arena at its next evaluation…", 5000)
            return False
        if self.controller.is_running():
            self.statusBar().showMessage("A run is going: stop it before starting the arena.", 5000)
            return False
        form = self.panel.form
        data = form["data"] if form["data"] and is_points(form["data"]) else "ring8"
        budget = self.ask_arena_budget(data)
        if budget is None:
            return False
        try:
            shown = load_dataset(data, num_points=2000, seed=0)
        except DataError as exc:
            self.show_error("Cannot start the arena", str(exc), "")
            return False
        label = "drawn" if data.startswith("points:") else data
        out = form.runs_parent / f"{datetime.now():%Y-%m-%d_%H-%M-%S} arena {label}"
        self._stop_following()
        self.monitor.show_arena(data, budget, shown.tensor.numpy(), shown.centers is not None)
        self.show_view("Monitor")
        self.arena.start(data, budget, int(form["seed"]), out, **self.arena_options)
        self._set_subject(f"arena on {label} · {out.name}")
        return True

    @Slot(object)
    def _on_arena_point(self, point) -> None:
        self.monitor.arena.add(point)

    @Slot(object)
    def _on_arena_done(self, done: ArenaDone) -> None:
        self.monitor.arena.set_table(done.table)
        self.statusBar().showMessage(f"Arena done: the table, plot and runs are in {done.folder}", 10000)

    @Slot(str)
    def _on_arena_failed(self, message: str) -> None:
        self.show_error("The arena stopped with an error", message, "")

    @Slot(bool)
    def _on_arena_busy(self, busy: bool) -> None:
        self.act_arena.setText("Stop the arena" if busy else "Arena: GAN against diffusion…")
        self._update_actions()


def _ask_budget(parent, data: str) -> float | None:
    value, ok = QInputDialog.getDouble(parent, "Arena: GAN against diffusion",
                                       f"CPU-seconds of training for each model on {data}:",
                                       ARENA_BUDGET, 1.0, 3600.0, 0)
    return float(value) if ok else None
