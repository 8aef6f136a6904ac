"""A one-line "try this" hint above a view, with an optional action button and a close button.

Closing it is remembered (per hint key) in :class:`~genstudio.gui.settings.AppSettings`, so a
hint someone dismissed never comes back.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QToolButton, QVBoxLayout, QWidget,
)

from genstudio.gui.settings import AppSettings

__all__ = ["HintBar", "with_hint"]


class HintBar(QFrame):
    """The hint ``text`` (rich text allowed); ``action`` adds a button that runs ``on_action``."""

    def __init__(self, key: str, text: str, settings: AppSettings, *, action: str = "",
                 on_action: Callable[[], object] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HintBar")
        self.key, self._settings = key, settings
        self.label = QLabel(f"<b>Try this:</b> {text}")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self.label, 1)
        self.button: QPushButton | None = None
        if action and on_action is not None:
            self.button = QPushButton(action)
            self.button.clicked.connect(on_action)
            layout.addWidget(self.button)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Hide this hint for good")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        layout.addWidget(close)
        self.setVisible(not settings.hint_dismissed(key))

    def dismiss(self) -> None:
        """Hide the hint and remember that it was closed."""
        self.hide()
        self._settings.set_hint_dismissed(self.key)


def with_hint(view: QWidget, hint: HintBar) -> QWidget:
    """``view`` with ``hint`` above it; in a window narrower than the view needs, it scrolls."""
    scroll = QScrollArea()
    scroll.setWidget(view)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(hint)
    layout.addWidget(scroll, 1)
    return box
