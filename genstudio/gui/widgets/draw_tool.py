"""The Monitor's playground bar: Step (slow motion) and drawing a 2-D data set on the 2-D view.

:class:`DrawTool` is a row of buttons — *Step* (the window's action), *Draw data*, *Clear*,
*Train on drawing* — bound to a :class:`~genstudio.views.drawing.DrawingState` (the points live
there, Qt-free) and to a :class:`~genstudio.gui.widgets.points2d.Points2DView`, whose mouse it
takes while drawing is on: a left drag puts points down, a right drag (or Shift + drag) erases,
and the view's own panning and menu wait until drawing ends. The drawn points are one scatter
item on the view, created once and set with ``setData``.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal, Slot
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from genstudio.gui.widgets.points2d import Points2DView
from genstudio.views.drawing import CANVAS, DrawingState

__all__ = ["DrawTool"]

_DRAWN = (250, 210, 80)  # the drawing's points: not the green of real data nor the magenta of G's


class DrawTool(QWidget):
    """Step and drawing controls over ``view`` (the Monitor's 2-D view).

    Signals
    -------
    trainRequested()
        *Train on drawing* was clicked with at least one point drawn.
    activeChanged(bool)
        Drawing started or stopped.
    """

    trainRequested = Signal()
    activeChanged = Signal(bool)

    def __init__(self, view: Points2DView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = DrawingState()
        self._view = view
        self._erasing = False
        self._pressed = False
        self.step_button = QToolButton()
        self.step_button.setVisible(False)  # until the window gives its Step action
        self.draw_button = QPushButton("Draw data")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip("Draw your own 2-D data set on the 2-D view: drag to put points down, "
                                    "right-drag or Shift+drag to erase; then Train on drawing")
        self.clear_button = QPushButton("Clear")
        self.train_button = QPushButton("Train on drawing")
        self.train_button.setToolTip("Save the drawing as a points:FILE.npy data set and train the run "
                                     "panel's model on it")
        self.count = QLabel("")
        self.count.setStyleSheet("color: #a0a0a0;")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.step_button, self.draw_button, self.clear_button, self.train_button, self.count):
            row.addWidget(w)
        row.addStretch(1)

        self._dots = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(*_DRAWN, 230), pxMode=True)
        self._dots.setZValue(12)
        self._dots.setVisible(False)
        view.plot_item().addItem(self._dots)
        self._viewport = view.plot_widget().viewport()
        self._viewport.installEventFilter(self)

        self.draw_button.toggled.connect(self.state.set_active)
        self.clear_button.clicked.connect(self.state.clear)
        self.train_button.clicked.connect(self._train)
        self.state.changed.connect(self._on_state)
        self._on_state("mode")

    # ------------------------------------------------------------------ API
    def set_step_action(self, action: QAction) -> None:
        """Show the window's Step action as the first button."""
        self.step_button.setDefaultAction(action)
        self.step_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.step_button.setVisible(True)

    def set_allowed(self, allowed: bool) -> None:
        """Drawing is possible only while no run trains; disallowing ends it (the drawing stays)."""
        self.draw_button.setEnabled(allowed)
        if not allowed:
            self.draw_button.setChecked(False)

    # ------------------------------------------------------------------ state -> widgets
    def _on_state(self, what: str) -> None:
        s = self.state
        if what == "mode":
            if self.draw_button.isChecked() != s.active:
                self.draw_button.blockSignals(True)
                self.draw_button.setChecked(s.active)
                self.draw_button.blockSignals(False)
            vb = self._view.plot_item().getViewBox()
            vb.setMouseEnabled(not s.active, not s.active)  # the mouse draws instead of panning
            self._dots.setVisible(s.active)
            self.draw_button.setText("Done drawing" if s.active else "Draw data")
            if s.active:
                self._view.set_view_range(*CANVAS)  # a fixed canvas: it does not jump as points go down
                self._view.set_caption("Drawing: drag to put points down · right-drag or Shift+drag erases")
            else:
                vb.enableAutoRange()  # the view follows a run's data again
            self.activeChanged.emit(s.active)
        pts = s.points
        self._dots.setData(x=pts[:, 0], y=pts[:, 1])
        self.clear_button.setVisible(s.active)
        self.train_button.setVisible(s.active)
        self.train_button.setEnabled(len(s) > 0)
        self.clear_button.setEnabled(len(s) > 0)
        self.count.setText(f"{len(s):,} points drawn" if s.active else "")

    @Slot()
    def _train(self) -> None:
        if len(self.state):
            self.trainRequested.emit()

    # ------------------------------------------------------------------ the mouse, while drawing
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is not self._viewport or not self.state.active:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self._pressed = True
            self._erasing = (event.button() == Qt.MouseButton.RightButton
                             or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            self._at(event, first=True)
            return True
        if kind == QEvent.Type.MouseMove and self._pressed:
            self._at(event, first=False)
            return True
        if kind == QEvent.Type.MouseButtonRelease:
            self._pressed = False
            self.state.release()
            return True
        if kind in (QEvent.Type.MouseButtonDblClick, QEvent.Type.ContextMenu):
            return True
        return False

    def _at(self, event: QMouseEvent, first: bool) -> None:
        x, y = self.data_point(event.position())
        if self._erasing:
            self.state.erase(x, y)
        elif first:
            self.state.press(x, y)
        else:
            self.state.drag(x, y)

    def data_point(self, pos: QPointF) -> tuple[float, float]:
        """The data coordinates of a position in the view's viewport (pixels)."""
        widget = self._view.plot_widget()
        p = self._view.plot_item().getViewBox().mapSceneToView(widget.mapToScene(pos.toPoint()))
        return float(p.x()), float(p.y())

    def viewport_point(self, x: float, y: float) -> QPointF:
        """The viewport position (pixels) of data point (x, y): the inverse of :meth:`data_point`."""
        widget = self._view.plot_widget()
        scene = self._view.plot_item().getViewBox().mapViewToScene(QPointF(x, y))
        return QPointF(widget.mapFromScene(scene))

    def drawn_count(self) -> int:
        """Points shown as drawn."""
        return len(self._dots.data)

