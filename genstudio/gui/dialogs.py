"""Small modal dialogs the main window uses: an error message, "stop the run?", "diverged".

Each function is a thin wrapper around ``QMessageBox`` so the wording lives in one place and
tests can replace a function (or the window's ``confirm_close`` / ``show_error`` hooks) instead
of clicking a real box.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["show_error", "ask_stop_run", "show_diverged"]


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """Show a modal error box with a one-line ``message`` and optional ``details`` (a traceback).

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
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def ask_stop_run(parent: QWidget | None) -> bool:
    """Ask whether to stop the running training before closing; True means stop and close."""
    answer = QMessageBox.question(
        parent, "Stop the run?",
        "A training run is in progress.\n\nStop it and quit? The current step finishes and a "
        "checkpoint is written, so the run can be resumed later.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def show_diverged(parent: QWidget | None, step: int, message: str) -> None:
    """Tell the user the run diverged and how to go on."""
    QMessageBox.warning(
        parent, "Training diverged",
        f"Training diverged at step {step:,}.\n\n{message}\n\nThe last good checkpoint is kept. "
        "The run panel is set to resume it: lower the learning rate and press Start.")
