"""A scrollable list of sliders, one per latent dimension (or per principal direction).

Each row shows a name, a slider, the value, an optional lock and a reset button. A slider's
integer position maps to a float around an exact *anchor* (the value it was given, e.g. the
seed's draw): ``value = anchor + (position - anchor_position) / steps_per_unit``. Moving a slider
away and back therefore restores the anchor bit for bit, and the picture with it.

:class:`LatentSliders` only holds numbers; it emits ``valueChanged(index, value)`` on every move
(while dragging, not only on release) and knows nothing about models.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["LatentSliders"]


class LatentSliders(QWidget):
    """Rows of ``name · slider · value · [lock] · reset`` in a scroll area.

    Parameters
    ----------
    parent : QWidget, optional
    span : float
        Sliders run from ``-span`` to ``+span``.
    steps_per_unit : int
        Slider positions per unit of value (resolution).
    lockable : bool
        Whether rows have a lock (its state is the owner's: ``lockToggled`` says when one is clicked).

    Signals
    -------
    valueChanged(int, float)
        A row's value changed by its slider or reset button.
    lockToggled(int, bool)
        A row's lock was clicked on or off.
    """

    valueChanged = Signal(int, float)
    lockToggled = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None, span: float = 4.0, steps_per_unit: int = 100,
                 lockable: bool = True) -> None:
        super().__init__(parent)
        self._span, self._steps, self._lockable = float(span), int(steps_per_unit), lockable
        self._anchors = np.zeros(0)  # exact values that position p0 stands for, float64
        self._p0 = np.zeros(0, np.int64)
        self._values = np.zeros(0)
        self._sliders: list[QSlider] = []
        self._labels: list[QLabel] = []
        self._value_labels: list[QLabel] = []
        self._locks: list[QToolButton] = []
        self._body = QWidget()
        self._body.setStyleSheet("QToolButton { padding: 1px 5px; }"  # compact rows
                                 "QToolButton:checked { background-color: #7a5c12; color: #ffffff; }")
        self._grid = QGridLayout(self._body)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        self._empty = QLabel("no model")
        self._empty.setStyleSheet("color: #909090;")
        self._grid.addWidget(self._empty, 0, 0, 1, 5)
        scroll = QScrollArea()
        scroll.setWidget(self._body)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._header = QLabel()
        self._header.setWordWrap(True)
        self._header.setStyleSheet("color: #a0a0a0;")
        self._header.setVisible(False)
        self._progress = QProgressBar()
        self._progress.setRange(0, 100)
        self._progress.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._header)
        layout.addWidget(self._progress)
        layout.addWidget(scroll, 1)

    def set_header(self, text: str) -> None:
        """A line of text above the rows (hidden when empty)."""
        self._header.setText(text)
        self._header.setVisible(bool(text))

    def set_progress(self, fraction: float | None) -> None:
        """Show a progress bar above the rows at ``fraction`` in [0, 1]; None hides it."""
        self._progress.setVisible(fraction is not None)
        if fraction is not None:
            self._progress.setValue(int(round(100 * fraction)))

    # ------------------------------------------------------------------ rows
    def set_rows(self, names: list[str], values: np.ndarray, empty_text: str = "no model") -> None:
        """Rebuild the rows: one per name, each anchored at its value (all unlocked)."""
        for widgets in (self._sliders, self._labels, self._value_labels, self._locks):
            for w in widgets:
                w.deleteLater()
            widgets.clear()
        for w in self.findChildren(QToolButton, "reset"):
            w.deleteLater()
        values = np.asarray(values, np.float64).ravel()
        if len(names) != values.shape[0]:
            raise ValueError(f"{len(names)} names for {values.shape[0]} values")
        self._empty.setText(empty_text)
        self._empty.setVisible(not names)
        lim = int(round(self._span * self._steps))
        for i, name in enumerate(names):
            label = QLabel(name)
            label.setStyleSheet("color: #c8c8c8;")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-lim, lim)
            slider.setProperty("row", i)
            slider.setMinimumWidth(90)
            slider.valueChanged.connect(self._on_slider)
            value = QLabel()
            value.setFixedSize(48, 20)  # fixed: a new text must not re-lay-out the list on every move
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            reset = QToolButton()
            reset.setObjectName("reset")
            reset.setText("⟲")
            reset.setFixedHeight(22)
            reset.setToolTip(f"Reset {name} to its starting value")
            reset.setProperty("row", i)
            reset.clicked.connect(self._on_reset)
            row = i + 1
            self._grid.addWidget(label, row, 0)
            self._grid.addWidget(slider, row, 1)
            self._grid.addWidget(value, row, 2)
            if self._lockable:
                lock = QToolButton()
                lock.setText("lock")
                lock.setCheckable(True)
                lock.setFixedHeight(22)
                lock.setToolTip(f"Lock {name}: Random keeps its value")
                lock.setProperty("row", i)
                lock.toggled.connect(self._on_lock)
                self._grid.addWidget(lock, row, 3)
                self._locks.append(lock)
            self._grid.addWidget(reset, row, 4)
            self._labels.append(label)
            self._sliders.append(slider)
            self._value_labels.append(value)
        for r in range(self._grid.rowCount()):
            self._grid.setRowStretch(r, 0)
        self._grid.setRowStretch(len(names) + 1, 1)  # rows stay at the top
        self._anchors = values.copy()
        self._values = values.copy()
        self._p0 = np.zeros(len(names), np.int64)
        self._place_all()

    def set_values(self, values: np.ndarray) -> None:
        """Re-anchor the rows at new values without emitting ``valueChanged``."""
        values = np.asarray(values, np.float64).ravel()
        if values.shape != self._values.shape:
            raise ValueError(f"expected {self._values.shape[0]} values, got {values.shape[0]}")
        self._anchors = values.copy()
        self._values = values.copy()
        self._place_all()

    def set_value(self, index: int, value: float) -> None:
        """Show a new value in row ``index`` silently, keeping its anchor (reset returns there)."""
        self._values[index] = float(value)
        slider = self._sliders[index]
        slider.blockSignals(True)
        slider.setValue(self.position_for(index, value))
        slider.blockSignals(False)
        self._value_labels[index].setText(f"{value:+.2f}")

    def set_labels(self, names: list[str]) -> None:
        """Rename the rows (e.g. explained variance once known)."""
        for label, name in zip(self._labels, names):
            label.setText(name)

    # ------------------------------------------------------------------ queries
    def values(self) -> np.ndarray:
        """The rows' values, float64 (count,)."""
        return self._values.copy()

    def locked(self) -> np.ndarray:
        """Which rows are locked, bool (count,) (all False without locks)."""
        if not self._locks:
            return np.zeros(self._values.shape[0], bool)
        return np.array([b.isChecked() for b in self._locks], bool)

    def set_locked(self, index: int, locked: bool = True, emit: bool = True) -> None:
        """Lock or unlock row ``index`` (as clicking it would; ``emit=False``: only show it)."""
        self._locks[index].blockSignals(not emit)
        self._locks[index].setChecked(locked)
        self._locks[index].blockSignals(False)

    def names(self) -> list[str]:
        """The rows' names as shown ("z0", "z1", … or "PC1", …)."""
        return [label.text() for label in self._labels]

    def count(self) -> int:
        """Number of rows."""
        return len(self._sliders)

    def slider(self, index: int) -> QSlider:
        """Row ``index``'s slider (for tests and benchmarks: ``setValue`` is what a drag does)."""
        return self._sliders[index]

    def position_for(self, index: int, value: float) -> int:
        """The slider position that stands for ``value`` in row ``index`` (clipped to the range)."""
        p = self._p0[index] + int(round((value - self._anchors[index]) * self._steps))
        return int(np.clip(p, self._sliders[index].minimum(), self._sliders[index].maximum()))

    # ------------------------------------------------------------------ internals
    def _place_all(self) -> None:
        lim = int(round(self._span * self._steps))
        for i, slider in enumerate(self._sliders):
            self._p0[i] = int(np.clip(round(self._anchors[i] * self._steps), -lim, lim))
            slider.blockSignals(True)
            slider.setValue(int(self._p0[i]))
            slider.blockSignals(False)
            self._value_labels[i].setText(f"{self._values[i]:+.2f}")

    @Slot(int)
    def _on_slider(self, position: int) -> None:
        i = int(self.sender().property("row"))
        if position == self._p0[i]:
            value = float(self._anchors[i])  # exactly where it started
        else:
            value = float(self._anchors[i] + (position - self._p0[i]) / self._steps)
        self._values[i] = value
        self._value_labels[i].setText(f"{value:+.2f}")
        self.valueChanged.emit(i, value)

    @Slot(bool)
    def _on_lock(self, locked: bool) -> None:
        self.lockToggled.emit(int(self.sender().property("row")), locked)

    @Slot()
    def _on_reset(self) -> None:
        i = int(self.sender().property("row"))
        slider = self._sliders[i]
        if slider.value() == self._p0[i]:
            if self._values[i] != self._anchors[i]:
                self._values[i] = self._anchors[i]
                self.valueChanged.emit(i, float(self._anchors[i]))
            return
        slider.setValue(int(self._p0[i]))  # emits through _on_slider
