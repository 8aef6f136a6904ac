"""The Latent view's "Style mixing" tab: the StyleGAN paper's figure (Karras et al. 2019, Fig. 3) for the
model shown. Row 0 holds the source faces (B), column 0 the destination faces (A); each cell is A with
the chosen band of styles — coarse (4²–8²: pose, head shape, hair style), middle (16²–32²) or fine
(the last resolution: colours, texture) — taken from B. The seeds are typed as lists; the grid is
computed on the view's render thread from a :class:`~genstudio.views.style.StyleSnapshot`."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from genstudio.gui.widgets.sample_view import SampleView
from genstudio.stylegan.model import CROSSOVERS
from genstudio.views.style import StyleState

__all__ = ["StyleMixingView", "parse_seeds"]

BAND_TIPS = {"coarse": "4²–8² styles from the source (in the StyleGAN paper: pose, face shape, hair style)",
             "middle": "16²–32² styles from the source (in the paper: smaller features, eyes and mouth)",
             "fine": "the last resolution's styles from the source (in the paper: colour scheme, micro-detail)"}


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1, 2 3"`` → (1, 2, 3); ValueError with a line to show for anything else (1 to 8 seeds)."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        seeds = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"seeds are whole numbers separated by commas, not {text!r}") from None
    if not 1 <= len(seeds) <= 8 or any(s < 0 for s in seeds):
        raise ValueError("give 1 to 8 seeds, each 0 or more")
    return seeds


class StyleMixingView(QWidget):
    """Seeds of the destinations and sources, the crossover band, and the grid."""

    def __init__(self, state: StyleState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        state.changed.connect(self._on_state)
        self.destinations = QLineEdit()
        self.destinations.setToolTip("Seeds of the destination faces (rows, A), e.g. 1, 2, 3")
        self.destinations.editingFinished.connect(self._on_seeds)
        self.sources = QLineEdit()
        self.sources.setToolTip("Seeds of the source faces (columns, B), e.g. 4, 5, 6, 7")
        self.sources.editingFinished.connect(self._on_seeds)
        for edit in (self.destinations, self.sources):
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("5, 6, 7, 8, 9") + 8)
        self.band = QComboBox()
        for b in CROSSOVERS:
            self.band.addItem(f"{b} from source", b)
        self.band.currentIndexChanged.connect(self._on_band)
        self.grid = SampleView(pad=2)
        self.note = QLabel(" ")
        bar = QHBoxLayout()
        for label, w in (("Rows (A)", self.destinations), ("Columns (B)", self.sources)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w, 1)
        bar.addWidget(self.band)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.note)
        self._show_plan()

    def _show_plan(self) -> None:
        m = self.state.mixing
        for edit, seeds in ((self.destinations, m.destinations), (self.sources, m.sources)):
            text = ", ".join(str(s) for s in seeds)
            if edit.text() != text:
                edit.setText(text)
        i = CROSSOVERS.index(m.band)
        if self.band.currentIndex() != i:
            self.band.blockSignals(True)
            self.band.setCurrentIndex(i)
            self.band.blockSignals(False)
        self.band.setToolTip(BAND_TIPS[m.band])

    def _on_state(self, what: str, index: int | None) -> None:
        if what in ("mixing", "model"):
            self._show_plan()

    def show_grid(self, grid: np.ndarray) -> None:
        """Draw a computed grid (1 + D, 1 + S, C, H, W)."""
        from genstudio.imaging import make_grid

        rows, cols = grid.shape[:2]
        self.grid.set_images(make_grid(grid.reshape(rows * cols, *grid.shape[2:]), nrow=cols, pad=2),
                             f"rows: destinations A · columns: sources B · cells: A with B's "
                             f"{self.state.mixing.band} styles")
        self.note.setText(BAND_TIPS[self.state.mixing.band])

    @Slot()
    def _on_seeds(self) -> None:
        try:
            self.state.set_mixing(destinations=parse_seeds(self.destinations.text()),
                                  sources=parse_seeds(self.sources.text()))
        except ValueError as exc:
            self.note.setText(str(exc))

    @Slot(int)
    def _on_band(self, index: int) -> None:
        if index >= 0:
            self.state.set_mixing(band=self.band.itemData(index))
