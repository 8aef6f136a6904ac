"""The export size choice: a small "⤢ 512 px ▾" button whose menu picks the size and the scaling.

Exports (the reverse process as GIF or frames, the latent view's image, the interpolation GIF)
are written with the long side at 256, 512 (default) or 1024 pixels, or at the model's native size,
scaled with nearest neighbour (crisp pixel blocks: each model pixel a square, as the app shows it)
unless "Smooth scaling" is ticked. The resizing itself is Qt-free
(:func:`genstudio.imaging.resize_long_side`); this widget only holds the choice.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from genstudio.imaging import DEFAULT_EXPORT_SIZE, EXPORT_SIZES

__all__ = ["ExportSizeButton"]


def _label(size: int | None) -> str:
    return "native size" if size is None else f"{size} px"


class ExportSizeButton(QToolButton):
    """A tool button with a menu of export sizes and a "Smooth scaling" toggle.

    :meth:`menu` can also be added as a submenu elsewhere (e.g. the latent view's z ▾ menu).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._menu = QMenu("Export size", self)
        self._group = QActionGroup(self)
        self._actions: dict[int | None, QAction] = {}
        for size in EXPORT_SIZES:
            act = self._menu.addAction(_label(size) + (" (long side)" if size else ": one pixel per model pixel"))
            act.setCheckable(True)
            act.setData(size)
            self._group.addAction(act)
            self._actions[size] = act
        self._menu.addSeparator()
        self._smooth = self._menu.addAction("Smooth scaling (for photos; off: crisp pixel blocks)")
        self._smooth.setCheckable(True)
        self._group.triggered.connect(lambda _a: self._update_text())
        self.setMenu(self._menu)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolTip("Size of exported pictures and GIFs")
        self.set_long_side(DEFAULT_EXPORT_SIZE)

    def long_side(self) -> int | None:
        """The chosen long side in pixels (None: native size)."""
        return self._group.checkedAction().data()

    def set_long_side(self, size: int | None) -> None:
        if size not in self._actions:
            raise ValueError(f"export size must be one of {EXPORT_SIZES}, not {size!r}")
        self._actions[size].setChecked(True)
        self._update_text()

    def smooth(self) -> bool:
        """Lanczos resampling instead of nearest neighbour."""
        return self._smooth.isChecked()

    def set_smooth(self, on: bool) -> None:
        self._smooth.setChecked(bool(on))

    def size_menu(self) -> QMenu:
        """The menu (sizes and smoothing), to add as a submenu elsewhere."""
        return self._menu

    def _update_text(self) -> None:
        self.setText(f"⤢ {_label(self.long_side())} ▾")
