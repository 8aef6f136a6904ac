"""The run panel: the form that builds a :class:`~genstudio.config.RunConfig` and its run buttons.

Every edit re-validates the whole form through ``RunConfig.validate()``; an impossible value
shows its message under the field it concerns and Start stays disabled until it is fixed.
Changing what defines the run (model kind, data set, resolution) while Resume is ticked unticks it
and picks a fresh folder: a resumed run keeps its own model and data, so it would not be the run
the form shows. The are the main window's actions (Start, Pause, Stop, Save checkpoint), so menus, shortcuts
and buttons always agree about what is enabled.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
    QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from genstudio.config import IMAGE_SIZES, ConfigError, RunConfig, parse_lr
from genstudio.data import is_points
from genstudio.devices import available_devices
from genstudio.families import FAMILIES
from genstudio.gui.widgets.recipe_fields import RecipeFields
from genstudio.recipes import recipe_config
from genstudio.runs.folder import RunDir

__all__ = ["RunPanel", "timestamped_folder"]

_FOLDER_ITEM = "Folder of images…"
_INT_MAX = 2**31 - 1


def timestamped_folder(parent: Path, kind: str, data: str) -> Path:
    """A new, unused run folder under ``parent``: ``2024-05-01_14-03-22 gan ring8``."""
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    label = Path(data.split(":", 1)[1]).name if data.startswith("folder:") else data
    path = parent / f"{stamp} {kind} {label}"
    n = 2
    while path.exists():
        path = parent / f"{stamp} {kind} {label} ({n})"
        n += 1
    return path


class RunPanel(RecipeFields, QWidget):
    """Run settings and run buttons.

    Parameters
    ----------
    runs_parent : Path
        Where new run folders are created by default.
    parent : QWidget, optional

    Signals
    -------
    validityChanged(bool)
        The form became valid or invalid.
    """

    validityChanged = Signal(bool)

    def __init__(self, runs_parent: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RunPanel")
        self._runs_parent = Path(runs_parent)
        # the recipe fields (genstudio.recipes) the person set: kind/data changes keep those and put
        # the new recipe's values in the others
        self._edited: set[str] = set()
        self._applying = False  # the recipe is being put into the form: not the person's edits
        self._folder_auto = False  # the folder field holds a generated name the user has not edited
        self._valid = False
        self._filling = False  # set_fields is at work: its caller decides about Resume and says so
        self._errors: dict[str, QLabel] = {}

        from genstudio.data import BUILTIN

        self.kind = QComboBox()
        for family in FAMILIES.values():  # the model-family registry (genstudio.families)
            self.kind.addItem(family.label, family.name)
        self.data = QComboBox()
        for name in BUILTIN:
            self.data.addItem(name, name)
        self.data.addItem(_FOLDER_ITEM, "")
        self.size = QComboBox()
        for s in IMAGE_SIZES:
            self.size.addItem(f"{s} × {s} px", s)
        self.size.setCurrentIndex(IMAGE_SIZES.index(32))
        self.batch = _spin(1, 65536, 64)
        self.lr = QLineEdit()
        self.lr.setPlaceholderText("e.g. 2e-4")
        self.steps = _spin(1, _INT_MAX, 2000)
        self.steps.setSingleStep(500)
        self.steps.setGroupSeparatorShown(True)
        self.preview_every = _spin(1, _INT_MAX, 100)
        self.device = QComboBox()
        self.device.addItem("auto", "auto")
        for name in available_devices():
            self.device.addItem(name, name)
        self.seed = _spin(0, _INT_MAX, 0)
        self.folder = QLineEdit()
        self.folder.textChanged.connect(self.folder.setToolTip)  # the whole path, when the field is short
        self.browse = _tool("…", "Choose the run folder")
        self.new_folder = _tool("New", "A fresh timestamped folder for a new run")
        self.resume = QCheckBox("Resume the run in this folder")
        self.resume.setToolTip("Continue from the folder's last checkpoint (steps, learning rate and "
                               "device may change; model and data stay)")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(4)
        folder_row = QHBoxLayout()
        folder_row.setSpacing(4)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        folder_row.addWidget(self.new_folder)
        for label, key, field in (("Model", "kind", self.kind), ("Data", "data", self.data),
                                  ("Resolution", "size", self.size), ("Batch size", "batch", self.batch),
                                  ("Learning rate", "lr", self.lr), ("Steps", "steps", self.steps),
                                  ("Preview every", "preview_every", self.preview_every),
                                  ("Device", "device", self.device), ("Seed", "seed", self.seed),
                                  ("Run folder", "folder", folder_row)):
            form.addRow(label, field)
            err = QLabel()
            err.setObjectName("fieldError")
            err.setWordWrap(True)
            err.hide()
            form.addRow("", err)
            self._errors[key] = err
        form.addRow("", self.resume)

        self._buttons = QGridLayout()
        self._buttons.setSpacing(6)
        self.message = QLabel()
        self.message.setObjectName("panelMessage")
        self.message.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(10)
        layout.addLayout(form)
        layout.addLayout(self._buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.kind.currentIndexChanged.connect(self._on_kind_or_data)
        self.data.activated.connect(self._on_data_activated)
        self.data.currentIndexChanged.connect(self._on_kind_or_data)
        for w in (self.kind, self.data, self.size):
            w.currentIndexChanged.connect(self._on_defining_changed)
        self.lr.textEdited.connect(self._on_lr_edited)
        self.size.activated.connect(self._on_size_chosen)
        self.batch.valueChanged.connect(self._on_batch_edited)
        self.steps.valueChanged.connect(self._on_steps_edited)
        for w in (self.size, self.device):
            w.currentIndexChanged.connect(self._revalidate)
        for w in (self.batch, self.steps, self.preview_every, self.seed):
            w.valueChanged.connect(self._revalidate)
        self.folder.textChanged.connect(self._revalidate)
        self.folder.textEdited.connect(self._on_folder_edited)
        self.resume.toggled.connect(self._revalidate)
        self.browse.clicked.connect(self._browse_folder)
        self.new_folder.clicked.connect(self.use_new_folder)
        self._on_kind_or_data()
        self.use_new_folder()

    # ------------------------------------------------------------------ public API
    def set_actions(self, start: QAction, pause: QAction, stop: QAction, save: QAction) -> None:
        """Show the window's run actions as the panel's buttons (2 × 2)."""
        for i, action in enumerate((start, pause, stop, save)):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setMinimumHeight(30)
            button.setObjectName("startButton" if action is start else "runButton")
            self._buttons.addWidget(button, i // 2, i % 2)

    def is_valid(self) -> bool:
        """Whether the form describes a run that can start."""
        return self._valid

    def config(self) -> RunConfig:
        """The form as a validated ``RunConfig``.

        Raises
        ------
        ConfigError
            If a field is impossible (the message names it).
        """
        kind = self.kind.currentData()
        data = self.data_name()
        if not data:
            raise ConfigError("choose a data set or a folder of images", field="data")
        lr = parse_lr(self.lr.text())
        # what the form does not show (width, the averaged G, schedule, EMA, betas) is the recipe's
        return recipe_config(kind, data, size=int(self.size.currentData()), batch=self.batch.value(), lr=lr,
                             steps=self.steps.value(), preview_every=self.preview_every.value(),
                             seed=self.seed.value(), device=self.device.currentData())

    def data_name(self) -> str:
        """The data set name ("ring8", "folder:/path", …), "" when none is chosen."""
        return self.data.currentData() or ""

    def run_folder(self) -> Path:
        """The run folder as typed (``~`` expanded)."""
        return Path(self.folder.text().strip()).expanduser()

    def resume_requested(self) -> bool:
        return self.resume.isChecked() and self.resume.isEnabled()

    def set_running(self, running: bool) -> None:
        """Lock the form while a run is going (the buttons stay live)."""
        for w in (self.kind, self.data, self.size, self.batch, self.lr, self.steps, self.preview_every,
                  self.device, self.seed, self.folder, self.browse, self.new_folder, self.resume):
            w.setEnabled(not running)
        if not running:
            self._on_kind_or_data()

    @Slot()
    def use_new_folder(self) -> None:
        """Put a fresh timestamped folder under the runs parent into the folder field."""
        self.resume.setChecked(False)
        self.folder.setText(str(timestamped_folder(self._runs_parent, self.kind.currentData(),
                                                   self.data_name() or "data")))
        self._folder_auto = True

    def set_resume(self, folder: str | Path) -> None:
        """Point the form at ``folder`` with Resume ticked (after a stop or a divergence)."""
        self.folder.setText(str(folder))
        self._folder_auto = False
        self.resume.setChecked(True)
        self._revalidate()

    def set_message(self, text: str) -> None:
        """A line of text under the buttons (what happened to the last run, what Start will do)."""
        self.message.setText(text)

    def set_runs_parent(self, parent: Path) -> None:
        self._runs_parent = Path(parent)

    def fields(self) -> dict[str, Any]:
        """The form's values as a JSON-able dict (for settings), folder excluded."""
        return {"kind": self.kind.currentData(), "data": self.data_name(), "size": self.size.currentData(),
                "batch": self.batch.value(), "lr": self.lr.text(), "edited": sorted(self._edited),
                "steps": self.steps.value(), "preview_every": self.preview_every.value(),
                "device": self.device.currentData(), "seed": self.seed.value()}

    def set_fields(self, values: dict[str, Any]) -> None:
        """Fill the form from a dict like :meth:`fields` returns; unknown or bad values are skipped."""
        self._filling = True
        try:
            self._fill(values)
        finally:
            self._filling = False

    def set_data(self, name: str) -> None:
        """Select a built-in data set or add and select a ``folder:PATH`` entry."""
        i = self.data.findData(name)
        if i < 0:
            if not name.startswith("folder:"):
                return
            i = self.data.count() - 1  # before "Folder of images…"
            self.data.insertItem(i, f"folder: {Path(name[7:]).name}", name)
            self.data.setItemData(i, name[7:], Qt.ItemDataRole.ToolTipRole)
        self.data.setCurrentIndex(i)

    # ------------------------------------------------------------------ reactions
    @Slot(int)
    def _on_data_activated(self, index: int) -> None:
        if self.data.itemText(index) != _FOLDER_ITEM:
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder of training images")
        if folder:
            self.set_data(f"folder:{folder}")
        else:
            self.data.setCurrentIndex(0)

    @Slot()
    def _on_kind_or_data(self) -> None:
        points = bool(self.data_name()) and is_points(self.data_name())
        self.size.setEnabled(not points and self.folder.isEnabled())
        self.size.setToolTip("2-D point data has no resolution" if points else "Image side in pixels")
        self._apply_recipe()
        if self._folder_auto and self.folder.isEnabled():  # keep the default name in step with the form
            self.use_new_folder()
        self._revalidate()

    @Slot()
    def _on_defining_changed(self) -> None:
        """The model kind, data set or resolution changed: the folder's run is no longer this run."""
        if not (self.resume.isChecked() and self.folder.isEnabled()):
            return
        old = self.run_folder().name
        self.use_new_folder()
        if not self._filling:
            self.set_message(f"The model or data changed, so Start begins a new run in a new folder. "
                             f"To continue “{old}” instead, choose that folder again (…).")

    @Slot(str)
    def _on_folder_edited(self, _text: str) -> None:
        self._folder_auto = False

    @Slot()
    def _browse_folder(self) -> None:
        start = str(self.run_folder().parent if self.run_folder().parent.is_dir() else self._runs_parent)
        folder = QFileDialog.getExistingDirectory(self, "Run folder", start)
        if folder:
            self.folder.setText(folder)
            self._folder_auto = False
            if RunDir(folder).has_run():
                self.resume.setChecked(True)

    @Slot()
    def _revalidate(self) -> None:
        for err in self._errors.values():
            err.hide()
        problems: dict[str, str] = {}
        try:
            self.config()
        except ConfigError as exc:
            # the field the error names, if the form shows it; else the general slot under Model
            problems[exc.field if exc.field in self._errors else "kind"] = str(exc)
        holds_run = False
        folder_text = self.folder.text().strip()
        if not folder_text:
            problems.setdefault("folder", "choose a folder for the run")
        else:
            rd = RunDir(self.run_folder())
            holds_run = rd.has_run()
            if rd.path.exists() and not rd.path.is_dir():
                problems.setdefault("folder", "this is a file, not a folder")
            elif holds_run and not self.resume.isChecked():
                problems.setdefault("folder", "this folder already holds a run: tick Resume to continue "
                                              "it, or click New for a fresh folder")
            elif self.resume.isChecked() and not holds_run:
                problems.setdefault("folder", "nothing to resume here: this folder holds no run")
        self.resume.setVisible(holds_run or self.resume.isChecked())
        for key, text in problems.items():
            self._errors[key].setText(text[:1].upper() + text[1:])
            self._errors[key].show()
        valid = not problems
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setAccelerated(True)
    return box


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button
