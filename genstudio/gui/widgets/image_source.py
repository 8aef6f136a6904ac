"""Where the forward view's x_0 comes from: a built-in data set (item number or random) or a file
(the dialog opens on the sample pictures shipped in ``resources/samples``).

:class:`ImageSource` is one row of controls. It loads nothing itself; it says what the person chose
(``datasetChosen(name, index)`` or ``fileChosen(path)``) and the forward view loads it. With a model
loaded, only the sets of the model's kind (images or 2-D points) can be picked.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from genstudio.data import BUILTIN, POINT_SETS

__all__ = ["ImageSource", "ITEMS", "samples_folder"]

ITEMS = 256  # items offered per image set (#0 … #255)
_FILE_TYPES = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)"


def samples_folder() -> str:
    """The shipped sample pictures (``resources/samples``) the file dialog opens in."""
    return str(resources.files("genstudio.resources").joinpath("samples"))


class ImageSource(QWidget):
    """"x_0 from [set] [#index] [Random] [File…]".

    Signals
    -------
    datasetChosen(str, int)
        A set name and an item number (ignored for 2-D sets: the whole cloud is used).
    fileChosen(str)
        A picture file picked in the dialog.
    """

    datasetChosen = Signal(str, int)
    fileChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = QComboBox()
        self._data.addItems(BUILTIN)
        self._data.setToolTip("Take x_0 from a built-in data set")
        self._index = QSpinBox()
        self._index.setRange(0, ITEMS - 1)
        self._index.setPrefix("#")
        random = QPushButton("Random")
        file = QPushButton("File…")
        file.setToolTip("Open a picture (or drop one on this view): centre-cropped and resized")
        self._data.activated.connect(self._emit)
        self._index.valueChanged.connect(self._emit)
        random.clicked.connect(self._random)
        file.clicked.connect(self._open_file)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("x_0 from"), self._data, self._index, random, file):
            row.addWidget(w)

    def set_current(self, name: str, index: int) -> None:
        """Show ``name`` / ``index`` as chosen (no signal)."""
        for w in (self._data, self._index):
            w.blockSignals(True)
        self._data.setCurrentText(name)
        self._index.setValue(int(index))
        for w in (self._data, self._index):
            w.blockSignals(False)
        self._index.setEnabled(name not in POINT_SETS)

    def index(self) -> int:
        return self._index.value()

    def allow(self, points: bool | None) -> None:
        """Offer only point sets (True), only image sets (False), or everything (None)."""
        for i in range(self._data.count()):
            fits = points is None or (self._data.itemText(i) in POINT_SETS) == points
            self._data.model().item(i).setEnabled(fits)

    @Slot()
    def _emit(self) -> None:
        self.datasetChosen.emit(self._data.currentText(), self._index.value())

    @Slot()
    def _random(self) -> None:
        self._index.setValue(int(np.random.default_rng().integers(0, ITEMS)))

    @Slot()
    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a picture to noise", samples_folder(), _FILE_TYPES)
        if path:
            self.fileChosen.emit(path)
