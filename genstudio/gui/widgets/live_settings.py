"""Settings a running GAN takes on at its next step: learning rates, the D:G step ratio and the
live remedies (unrolled D steps, R1). "Apply" asks the run (``RunController.change``); the run
records the change and it is marked on the loss curves."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from genstudio.config import ConfigError, RunConfig, parse_lr
from genstudio.gan.remedies import MAX_D_STEPS, MAX_UNROLLED

__all__ = ["LiveSettings"]


class LiveSettings(QWidget):
    """A row of the live settings of a GAN run and an Apply button.

    Signals
    -------
    changeRequested(dict)
        The settings that differ from the run's (``lr``, ``d_lr``, ``d_steps``, ``unrolled``, ``r1``).
    """

    changeRequested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config: RunConfig | None = None
        self.lr_g = QLineEdit()
        self.lr_d = QLineEdit()
        for box, who in ((self.lr_g, "G"), (self.lr_d, "D")):
            box.setFixedWidth(62)
            box.setToolTip(f"{who}'s Adam learning rate from the next step")
        self.d_steps = QSpinBox()
        self.d_steps.setRange(1, MAX_D_STEPS)
        self.d_steps.setToolTip("D steps per G step (Goodfellow et al.'s k)")
        self.unrolled = QSpinBox()
        self.unrolled.setRange(0, MAX_UNROLLED)
        self.unrolled.setToolTip("G answers D unrolled k steps ahead (Metz et al., Unrolled GANs); 0 = off")
        self.r1 = QDoubleSpinBox()
        self.r1.setRange(0.0, 1000.0)
        self.r1.setDecimals(2)
        self.r1.setToolTip("R1 penalty γ on D's gradient at real data (Mescheder et al.); 0 = off")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Takes effect at the next step; marked on the loss curves")
        self.apply_button.clicked.connect(self.apply)
        self.message = QLabel("")
        self.message.setStyleSheet("color: #ef5f5f;")
        for spin in (self.d_steps, self.unrolled, self.r1):
            spin.setFixedWidth(62)
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        # two short rows, so the curves' pane keeps its width
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 0, 4, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        cells = ((0, 0, "lr G", self.lr_g), (0, 1, "lr D", self.lr_d),
                 (1, 0, "D steps", self.d_steps), (1, 1, "unrolled", self.unrolled), (1, 2, "R1 γ", self.r1))
        for row, col, text, widget in cells:
            grid.addWidget(QLabel(text), row, 2 * col)
            grid.addWidget(widget, row, 2 * col + 1)
        grid.addWidget(self.apply_button, 0, 4, 1, 2)
        grid.addWidget(self.message, 2, 0, 1, 7)
        grid.setColumnStretch(6, 1)
        self.setEnabled(False)

    def show_config(self, config: RunConfig) -> None:
        """Fill the fields with what ``config`` (the run's, as it now trains) says."""
        from genstudio.gan.remedies import gan_options

        self._config = config
        opts = gan_options(config)
        self.lr_g.setText(f"{config.lr:g}")
        self.lr_d.setText(f"{opts.d_lr:g}")
        self.d_steps.setValue(opts.d_steps)
        self.unrolled.setValue(opts.unrolled)
        self.r1.setValue(opts.r1)
        self.show_error("")

    def changes(self) -> dict[str, Any]:
        """What the fields change against the run's settings (empty if nothing).

        Raises
        ------
        ConfigError
            A learning rate that is not a number a run takes.
        """
        if self._config is None:
            return {}
        from genstudio.gan.remedies import gan_options

        opts = gan_options(self._config)
        lr, d_lr = parse_lr(self.lr_g.text()), parse_lr(self.lr_d.text())
        wanted = {"lr": lr, "d_lr": d_lr, "d_steps": self.d_steps.value(), "unrolled": self.unrolled.value(),
                  "r1": float(self.r1.value())}
        now = {"lr": self._config.lr, "d_lr": opts.d_lr, "d_steps": opts.d_steps, "unrolled": opts.unrolled,
               "r1": opts.r1}
        out = {k: v for k, v in wanted.items() if v != now[k]}
        if "lr" in out and "d_lr" not in out and "d_lr" not in self._config.extra:
            out["d_lr"] = d_lr  # D keeps its rate when only G's changes
        return out

    @Slot()
    def apply(self) -> None:
        try:
            changes = self.changes()
        except ConfigError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        if changes:
            self.changeRequested.emit(changes)

    def show_error(self, text: str) -> None:
        """Say under the row why a change was refused ("" hides the line)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
