"""Keys that act on the tab in front — R, Ctrl+Shift+C / V, Ctrl+E on the Latent tab, Space on the
Scrubber — whatever inside the window has focus.

Each key is a window-wide ``QAction`` enabled only while its tab is current, so the keys work right
after Ctrl+2 / Ctrl+3 or a menu (as QShortcuts on the views, they waited for a click inside the
tab). A text field with focus still gets its letters and spaces: Qt offers the key to the focused
widget first (``ShortcutOverride``), and editors take printable keys. Space on a focused button
or check box still presses it (buttons do not claim the key, so the action hands it back).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QApplication, QTabWidget, QWidget

__all__ = ["ViewKeys"]


class ViewKeys(QObject):
    """The view keys of ``window``, whose central ``tabs`` hold the views.

    Parameters
    ----------
    window : QWidget
        Where the actions live (their shortcuts work anywhere in it).
    tabs : QTabWidget
        The tabs; a key works while its tab (by tab text) is current.
    latent, scrubber : callable () -> QWidget
        The Latent and Scrubber views (built on first call).

    Attributes
    ----------
    actions : dict[str, list[QAction]]
        Tab name → its actions (listed in the README's Keys table).
    """

    def __init__(self, window: QWidget, tabs: QTabWidget, latent: Callable[[], QWidget],
                 scrubber: Callable[[], QWidget]) -> None:
        super().__init__(window)
        self._tabs, self._latent, self._scrubber = tabs, latent, scrubber
        table = (  # tab, keys, text, slot (the tab is current, so its view is built)
            ("Latent", "R", "New random z", self._random),
            ("Latent", "Ctrl+Shift+C", "Copy z", self._copy),
            ("Latent", "Ctrl+Shift+V", "Paste z", self._paste),
            ("Latent", "Ctrl+E", "Save the image…", self._save_image),
            ("Scrubber", "Space", "Play / pause", self.toggle_scrubber_play),
            ("Monitor", "Space", "Play / pause the time-lapse", self.toggle_timelapse),
        )
        self.actions: dict[str, list[QAction]] = {}
        for tab, keys, text, slot in table:
            act = QAction(text, window)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            window.addAction(act)
            self.actions.setdefault(tab, []).append(act)
        tabs.currentChanged.connect(self._follow_tab)
        self._follow_tab()

    @Slot()
    def _follow_tab(self) -> None:
        current = self._tabs.tabText(self._tabs.currentIndex())
        for tab, actions in self.actions.items():
            for act in actions:
                act.setEnabled(tab == current)

    @Slot()
    def _random(self) -> None:
        self._latent().random()

    @Slot()
    def _copy(self) -> None:
        self._latent().copy_z()

    @Slot()
    def _paste(self) -> None:
        self._latent().paste_z()

    @Slot()
    def _save_image(self) -> None:
        self._latent()._ask_save_image()

    @Slot()
    def toggle_timelapse(self) -> None:
        """Play or pause the Monitor's training time-lapse."""
        focused = QApplication.focusWidget()
        if isinstance(focused, QAbstractButton) and focused.isEnabled():
            focused.animateClick()  # what Space does to a focused button
            return
        self.parent().monitor.timelapse.toggle()

    @Slot()
    def toggle_scrubber_play(self) -> None:
        """Play or pause the timestep animation of the Scrubber's page in front."""
        focused = QApplication.focusWidget()
        if isinstance(focused, QAbstractButton) and focused.isEnabled():
            focused.animateClick()  # what Space does to a focused button
            return
        bar = getattr(self._scrubber().tabs.currentWidget(), "bar", None)
        if bar is not None:
            bar.pause() if bar.is_playing() else bar.play()
