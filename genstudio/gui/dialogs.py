"""Small modal dialogs the main window uses: an error message, "stop the run?", "diverged",
"the run paused on a fault: how to go on?", and "this folder's run differs from the form".

Each function is a thin wrapper so the wording lives in one place and tests can replace a
function (or the window's ``confirm_close`` / ``show_error`` / ``ask_recovery`` hooks) instead
of clicking a real box.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMessageBox, QSpinBox, QVBoxLayout, QWidget,
)

from genstudio.config import ConfigError, RunConfig, parse_lr

__all__ = ["show_error", "ask_stop_run", "show_diverged", "ask_recovery", "RecoveryDialog",
           "ask_resume_mismatch", "RESUME_AS_SAVED", "START_NEW"]

RESUME_AS_SAVED, START_NEW = "resume", "new"  # ask_resume_mismatch's answers (None: cancel)


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """Show a modal error box with a one-line ``message`` and optional plain-text ``details``.

    ``details`` is for the person using the app (what was saved, what to try), never a traceback:
    the main window writes tracebacks to the log instead.

    Parameters
    ----------
    parent : QWidget or None
    title : str
        The window title, e.g. "Cannot start the run".
    message : str
        What went wrong and, where possible, what to do about it.
    details : str, optional
        Shown behind a "Show Details…" button.
    """
    if "Traceback (most recent call last)" in details:  # a caller slipped: keep code out of the dialog
        details = ""
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


#: ``ask_stop_run``'s answer: close the window and leave the run training in its own process.
LEAVE_RUNNING = "leave running"


def ask_stop_run(parent: QWidget | None, can_leave: bool = False) -> bool | str:
    """Ask whether to stop the running training before closing: True means stop and close, False
    cancel, :data:`LEAVE_RUNNING` (offered when ``can_leave``: the run is in a process of its own)
    close and let the run train on, writing its folder (open the folder later to follow it)."""
    box = stop_run_box(parent, can_leave)
    box.exec()
    clicked = box.clickedButton()
    if clicked is not None and clicked.objectName() == "leave":
        return LEAVE_RUNNING
    return box.standardButton(clicked) == QMessageBox.StandardButton.Yes


def stop_run_box(parent: QWidget | None, can_leave: bool) -> QMessageBox:
    """The question :func:`ask_stop_run` asks (not yet shown)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Stop the run?",
                      "A training run is in progress.\n\nStop it and quit? The current step finishes and a "
                      "checkpoint is written, so the run can be resumed later."
                      + ("\n\nOr leave it training: it keeps writing its run folder, and opening the "
                         "folder later follows it." if can_leave else ""),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Yes).setText("Stop and quit")
    if can_leave:
        box.addButton("Leave it training", QMessageBox.ButtonRole.AcceptRole).setObjectName("leave")
    return box


def show_diverged(parent: QWidget | None, step: int, message: str) -> None:
    """Tell the user the run diverged and how to go on."""
    QMessageBox.warning(
        parent, "Training diverged",
        f"Training diverged at step {step:,}.\n\n{message}\n\n"  # the message says what is kept, if anything
        "The run panel is set to resume it: lower the learning rate and press Start.")


class RecoveryDialog(QDialog):
    """Asks how a run paused by a fault goes on: Resume with a learning rate and batch, or Stop.

    A divergence suggests a learning rate ten times lower; running out of memory suggests half the
    batch. Resume stays disabled while a value is impossible, and the field says why.

    Parameters
    ----------
    reason : str
        "diverged" or "out of memory".
    step : int
        Where the run now stands (after a divergence: the step it went back to).
    message : str
        What happened, from the run.
    config : RunConfig
        The run's current settings.
    """

    def __init__(self, reason: str, step: int, message: str, config: RunConfig,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config
        diverged = reason == "diverged"
        self.setWindowTitle("Training diverged" if diverged else "Out of memory")
        head = QLabel(f"<b>{'Training diverged' if diverged else 'Out of memory'}</b> — the run is "
                      f"paused at step {step:,}.")
        text = QLabel(message[:1].upper() + message[1:])
        text.setWordWrap(True)
        hint = QLabel("Resume with a lower learning rate, or stop: stopping keeps the last good "
                      "checkpoint." if diverged else "Resume with a smaller batch, or stop: stopping "
                      "writes a checkpoint of the steps done so far.")
        hint.setWordWrap(True)
        self.lr = QLineEdit(f"{config.lr / 10 if diverged else config.lr:g}")
        self.batch = QSpinBox()
        self.batch.setRange(1, 65536)
        self.batch.setValue(config.batch if diverged else max(1, config.batch // 2))
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form = QFormLayout()
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch)
        self.buttons = QDialogButtonBox()
        self.resume_button = self.buttons.addButton("Resume", QDialogButtonBox.ButtonRole.AcceptRole)
        self.stop_button = self.buttons.addButton("Stop the run", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        self.setMinimumWidth(480)  # wrapped text then gets the height it needs
        for w in (head, text, hint):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.lr.textChanged.connect(self._revalidate)
        self.batch.valueChanged.connect(self._revalidate)
        self._revalidate()

    def changes(self) -> dict[str, Any] | None:
        """The settings that differ from the run's (``lr``, ``batch``); None while one is impossible."""
        try:
            new = self._config.replace(lr=parse_lr(self.lr.text()), batch=self.batch.value()).validate()
        except ConfigError:
            return None
        return {k: getattr(new, k) for k in ("lr", "batch") if getattr(new, k) != getattr(self._config, k)}

    @Slot()
    def _revalidate(self) -> None:
        ok = self.changes() is not None
        self.resume_button.setEnabled(ok)
        self.problem.setVisible(not ok)
        if not ok:
            self.problem.setText("The learning rate must be a number above 0 and at most 1e6, like 2e-5.")


def ask_recovery(parent: QWidget | None, reason: str, step: int, message: str,
                 config: RunConfig) -> dict[str, Any] | None:
    """Show a :class:`RecoveryDialog`; the settings to resume with (maybe ``{}``), or None to stop."""
    dialog = RecoveryDialog(reason, step, message, config, parent)
    try:
        return dialog.changes() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


def ask_resume_mismatch(parent: QWidget | None, folder: str, differences: list[str]) -> str | None:
    """Ask what Start should do when the folder's run is not the run the form describes.

    Returns
    -------
    str or None
        :data:`RESUME_AS_SAVED` (resume the folder's run as it was saved), :data:`START_NEW` (start
        the form's run in a new folder), or None (cancel: nothing starts).
    """
    box = QMessageBox(QMessageBox.Icon.Question, "Resume a different run?",
                      f"The run in “{folder}” is not the run the form describes:", parent=parent)
    box.setInformativeText("\n".join(f"• {d}" for d in differences)
                           + "\n\nA resumed run keeps its own model and data.")
    resume = box.addButton("Resume the folder's run as it was", QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton("Start a new run in a new folder", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(new)
    box.exec()
    clicked = box.clickedButton()
    return RESUME_AS_SAVED if clicked is resume else START_NEW if clicked is new else None
