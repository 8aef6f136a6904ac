"""Status bar widgets: device, step / total, steps per second, elapsed and remaining time, progress.

:class:`RunStatus` is one permanent widget for the main window's ``QStatusBar``. It is fed the
:class:`~genstudio.gui.status_update.RunStatusUpdate` drained from the mailbox and keeps the latest
value of each field, so a partial update (a plain step tick) still renders a complete line. A ``notice`` (e.g. image files of a folder
that were skipped) stays at the left of the line for the whole run ("⚠ 3 files skipped"), its full
text in the tooltip. When the run ends, :meth:`RunStatus.show_ended` replaces the live line with the
final state ("Stopped at step 1,234 · 1 min 20 s"): a speed and a time left would describe a run
that is no longer going.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QWidget

from genstudio.gui.status_update import RunStatusUpdate

__all__ = ["RunStatus", "format_duration", "format_span"]


def _hms(seconds: float | None) -> tuple[int, int, int] | None:
    """Whole hours, minutes and seconds of ``seconds``; None when it is unknown (None, not finite, < 0)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    h, rem = divmod(int(round(seconds)), 3600)
    return (h, *divmod(rem, 60))


def format_duration(seconds: float | None) -> str:
    """``75`` → "1:15", ``3700`` → "1:01:40", None or not finite → "–"."""
    hms = _hms(seconds)
    if hms is None:
        return "–"
    h, m, s = hms
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_span(seconds: float | None) -> str:
    """``80`` → "1 min 20 s", ``45`` → "45 s", ``3720`` → "1 h 2 min"; "" when unknown."""
    hms = _hms(seconds)
    if hms is None:
        return ""
    h, m, s = hms
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min {s} s" if s else f"{m} min"
    return f"{s} s"


class RunStatus(QWidget):
    """Notice · device · step / total · steps/s · elapsed · remaining · a progress bar."""

    #: Widest the notice may get before it is elided (its tooltip holds it whole).
    NOTICE_WIDTH = 240

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RunStatus")
        self._status = RunStatusUpdate()
        self.notice = QLabel()
        self.notice.setObjectName("runNotice")
        self.device = QLabel()
        self.step = QLabel()
        self.rate = QLabel()
        self.elapsed = QLabel()
        self.remaining = QLabel()
        self.progress = QProgressBar()
        self.progress.setFixedWidth(180)
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1000)
        self.device.setToolTip("Device the model trains on")
        self.step.setToolTip("Optimiser steps done / total")
        self.rate.setToolTip("Training speed, recent")
        self.elapsed.setToolTip("Training time in this session")
        self.remaining.setToolTip("Estimated time to the last step at the recent speed")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 0, 4, 0)  # a gap after a long status message on its left
        layout.setSpacing(10)
        layout.addWidget(self.notice)
        self._separators: dict[QWidget, QFrame] = {}  # the line before each label but the first
        for i, w in enumerate((self.device, self.step, self.rate, self.elapsed, self.remaining)):
            if i:
                self._separators[w] = _separator()
                layout.addWidget(self._separators[w])
            layout.addWidget(w)
        layout.addWidget(self.progress)
        self.reset()

    def reset(self) -> None:
        """Show an idle line (no run)."""
        self._status = RunStatusUpdate()
        self._show_notice("")
        self.device.setText("no run")
        for w in (self.step, self.rate, self.elapsed, self.remaining):
            w.setText("")
            self._show(w, False)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setVisible(False)

    def apply(self, update: RunStatusUpdate) -> None:
        """Merge a drained status update and redraw (an update of nothing the line shows changes nothing)."""
        update = update.shown()
        if not update:
            return
        f = self._status = self._status.merged(update)
        for w in (self.step, self.rate, self.elapsed, self.remaining, self.progress):
            self._show(w, True)
        self.step.setToolTip("Optimiser steps done / total")
        if update.notice is not None:
            self._show_notice(update.notice)
        if f.device is not None:
            self.device.setText(f"device {f.device}")
        step, total = int(f.step or 0), int(f.total or 0)
        self.step.setText(f"step {step:,} / {total:,}" if total else f"step {step:,}")
        if f.paused:
            self.rate.setText("paused")
        else:
            self.rate.setText(f"{f.rate:,.1f} steps/s" if f.rate else "– steps/s")
        self.elapsed.setText(f"elapsed {format_duration(f.elapsed)}")
        remaining = (total - step) / f.rate if f.rate and total else None
        self.remaining.setText(f"remaining {format_duration(remaining)}")
        if total:
            frac = min(max(step / total, 0.0), 1.0)
            self.progress.setValue(int(round(frac * 1000)))
            self.progress.setFormat(f"{frac * 100:.0f} %")

    def notice_text(self) -> str:
        """The whole notice of the run ("" when there is none)."""
        return self.notice.toolTip()

    def _show_notice(self, text: str) -> None:
        # "12 files in /long/path could not be read … skipped (e.g. …)" -> "⚠ 12 files skipped": the
        # line keeps room for the status messages, the tooltip holds the whole sentence
        count = re.match(r"([\d,]+ files?) in .* skipped", text)
        short = f"⚠ {count.group(1)} skipped" if count else f"⚠ {text}"
        shown = self.notice.fontMetrics().elidedText(short, Qt.TextElideMode.ElideRight, self.NOTICE_WIDTH)
        self.notice.setText(shown if text else "")
        self.notice.setToolTip(text)
        self.notice.setVisible(bool(text))

    def show_ended(self, how: str, step: int) -> None:
        """Show the final state of a run that ended: ``"<how> at step N · <training time>"``.

        Parameters
        ----------
        how : str
            "Finished", "Stopped", "Stopped (diverged)", …
        step : int
            The step the run ended at (its checkpoint's step).
        """
        self._status = replace(self._status, step=int(step), paused=False, rate=None)
        span = format_span(self._status.elapsed)
        self.step.setText(f"{how} at step {int(step):,}" + (f" · {span}" if span else ""))
        self.step.setToolTip("How the last run ended, and its training time in this session")
        self._show(self.step, True)
        for w in (self.rate, self.elapsed, self.remaining):
            self._show(w, False)
        total = int(self._status.total or 0)
        if total:
            frac = min(max(step / total, 0.0), 1.0)
            self.progress.setValue(int(round(frac * 1000)))
            self.progress.setFormat(f"{frac * 100:.0f} %")

    def text(self) -> str:
        """The line as shown (visible labels, " · " between them)."""
        return " · ".join(w.text() for w in (self.device, self.step, self.rate, self.elapsed, self.remaining)
                          if not w.isHidden() and w.text())

    def step_value(self) -> int:
        """The step shown now (0 before any run)."""
        return int(self._status.step or 0)

    def status(self) -> RunStatusUpdate:
        """The latest value of every status field (all None before any run)."""
        return self._status


    def _show(self, label: QWidget, visible: bool) -> None:
        label.setVisible(visible)
        if label in self._separators:
            self._separators[label].setVisible(visible)


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setObjectName("statusSeparator")
    return line
