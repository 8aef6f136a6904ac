"""Follow a run folder on disk (finished, or still being written by ``genstudio train``).

A ``QTimer`` polls twice a second: :class:`~genstudio.runs.folder.MetricsFollower` hands over only the
lines appended since the last poll (never re-reading the file), and the previews folder is checked
for a newer ``step_*.png`` / ``.npz``. Everything goes into a
:class:`~genstudio.gui.mailbox.Mailbox`, drained by the main window's display timer exactly like a
live run's, so the Monitor tab draws a followed run and a live run through one path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from genstudio.config import RunConfig
from genstudio.gui.mailbox import Mailbox
from genstudio.gui.status_update import RunStatusUpdate
from genstudio.runs.folder import MetricsFollower, RunDir
from genstudio.runs.timelapse import load_preview_file  # noqa: F401 (its home was here)

__all__ = ["RunFollower", "load_preview_file", "metrics_until_last_checkpoint"]

POLL_MS = 500


def metrics_until_last_checkpoint(folder: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """``(step, record)`` pairs of a run's metrics up to its last checkpoint (what a resume keeps).

    Empty if the folder has no readable checkpoint or metrics.
    """
    from genstudio.checkpoint import CheckpointError, read_header

    rd = RunDir(folder)
    try:
        last = int(read_header(rd.last_checkpoint).get("step", 0))
        records = rd.read_metrics()
    except (CheckpointError, OSError, ValueError):
        return []
    return [(r["step"], r) for r in records if r["step"] <= last]


class RunFollower(QObject):
    """Polls one run folder and posts what is new into :attr:`mailbox`.

    Parameters
    ----------
    path : str or Path
        The run folder (holds ``config.json`` and / or ``metrics.jsonl``).
    interval_ms : int
        Poll period; 500 ms shows new lines within a second.

    Signals
    -------
    failed(str)
        A preview or the config could not be read (the follower keeps going).
    """

    failed = Signal(str)

    def __init__(self, path: str | Path, interval_ms: int = POLL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir = RunDir(path)
        self.mailbox = Mailbox()
        self.config: RunConfig | None = None
        self.problem = ""  # why config.json could not be read, if it could not
        if self.run_dir.config_path.exists():
            try:
                self.config = self.run_dir.read_config()
            except (ValueError, TypeError, OSError) as exc:
                self.problem = f"config.json cannot be read: {exc}"
        self._metrics = MetricsFollower(self.run_dir.metrics_path)
        self._preview_key: tuple[str, float] | None = None
        self._first_time: float | None = None
        self._last: tuple[int, float] | None = None  # (step, time) of the newest record
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    @staticmethod
    def looks_like_run(path: str | Path) -> bool:
        """True if ``path`` is a folder with a config.json or a metrics.jsonl."""
        rd = RunDir(path)
        return rd.path.is_dir() and (rd.config_path.exists() or rd.metrics_path.exists())

    def start(self) -> None:
        """Load what is there now (metrics, newest preview, real points) and keep following."""
        cfg = self.config
        if cfg is not None:
            self.mailbox.post_status(RunStatusUpdate(total=cfg.steps, device=f"{cfg.device} (run on disk)",
                                                     paused=False))
            self._post_real_points(cfg)
        self.poll()
        self._timer.start()

    def stop(self) -> None:
        """Stop polling."""
        self._timer.stop()

    def is_following(self) -> bool:
        return self._timer.isActive()

    @Slot()
    def poll(self) -> None:
        """Post new metric lines and a newer preview, if any."""
        records, reset = self._metrics.poll()
        if reset:
            self._first_time, self._last = None, None
            self.mailbox.post_status(RunStatusUpdate(reset=True))
        if records:
            self._post_records(records)
        self._check_preview()

    # ------------------------------------------------------------------ internals
    def _post_records(self, records: list[dict[str, Any]]) -> None:
        for rec in records:
            step = rec["step"]
            self.mailbox.post_metrics(step, {k: v for k, v in rec.items() if k not in ("step", "time")})
        newest = records[-1]
        step, t = newest["step"], newest.get("time")
        elapsed = rate = None
        if isinstance(t, (int, float)):
            if self._first_time is None:
                self._first_time = float(records[0].get("time", t))
            elapsed = float(t) - self._first_time
            if self._last is not None and float(t) > self._last[1] and step > self._last[0]:
                rate = (step - self._last[0]) / (float(t) - self._last[1])
            elif len(records) >= 2 and isinstance(records[0].get("time"), (int, float)):
                dt = float(t) - float(records[0]["time"])
                if dt > 0:
                    rate = (step - records[0]["step"]) / dt
            self._last = (step, float(t))
        self.mailbox.post_status(RunStatusUpdate(step=step, elapsed=elapsed, rate=rate))

    def _check_preview(self) -> None:
        path = self.run_dir.latest_preview()
        if path is None:
            return
        try:
            key = (path.name, path.stat().st_mtime)
        except OSError:
            return
        if key == self._preview_key:
            return
        try:
            preview = load_preview_file(path)
        except (OSError, ValueError, KeyError) as exc:  # a half-synced file: try again next poll
            self.failed.emit(f"{path.name}: {exc}")
            return
        self._preview_key = key
        step = int(path.stem.split("_")[-1]) if path.stem.split("_")[-1].isdigit() else 0
        self.mailbox.post_preview(step, preview)

    def _post_real_points(self, cfg: RunConfig) -> None:
        from genstudio.gui.training_job import real_points

        try:
            pts = real_points(cfg)
        except ValueError as exc:  # DataError is a ValueError
            self.failed.emit(str(exc))
            return
        if pts is not None:
            self.mailbox.post_status(RunStatusUpdate(real_points=pts))
