"""The run panel: the form that builds a :class:`~genstudio.config.RunConfig` and its run buttons.

The form's state — values, the recipe fields the person set, the folder and Resume, the per-field
errors — is a Qt-free :class:`~genstudio.views.run_form.RunForm` (``panel.form``): every edit goes to
it, and the panel shows what it holds after each change (a message under the field an impossible
value concerns; Start stays disabled until it is fixed). The buttons are the main window's actions
(Start, Pause, Stop, Save checkpoint), so menus, shortcuts and buttons always agree about what is
enabled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
    QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from genstudio.config import IMAGE_SIZES, RunConfig
from genstudio.data import BUILTIN
from genstudio.families import FAMILIES
from genstudio.views.run_form import CONTENTS, RANGES, SRGAN_FIELDS, RunForm, timestamped_folder

__all__ = ["RunPanel", "timestamped_folder"]

_FOLDER_ITEM = "Folder of images…"
_CONTENT_LABELS = {"mse": "pixel MSE", "random": "fixed random CNN", "ae": "autoencoder on the data",
                   "disc": "D's features (feature matching)"}


class RunPanel(QWidget):
    """Run settings and run buttons: a view of a :class:`~genstudio.views.run_form.RunForm`.

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
        self.form = RunForm(runs_parent)
        self._valid = False
        self._errors: dict[str, QLabel] = {}

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
        self.batch = _spin(*RANGES["batch"])
        self.lr = QLineEdit()
        self.lr.setPlaceholderText("e.g. 2e-4")
        self.steps = _spin(*RANGES["steps"])
        self.steps.setSingleStep(500)
        self.steps.setGroupSeparatorShown(True)
        self.preview_every = _spin(*RANGES["preview_every"])
        self.device = QComboBox()
        for name in self.form.devices:
            self.device.addItem(name, name)
        self.seed = _spin(*RANGES["seed"])
        self.folder = QLineEdit()
        self.browse = _tool("…", "Choose the run folder")
        self.new_folder = _tool("New", "A fresh timestamped folder for a new run")
        # SRGAN's stage two (shown for that family only)
        self.init = QLineEdit()
        self.init.setPlaceholderText("an SRResNet checkpoint (.safetensors)")
        self.init.setToolTip("SRGAN starts from a trained SRResNet (Ledig et al. 2017, stage two)")
        self.init_browse = _tool("…", "Choose the SRResNet checkpoint SRGAN starts from")
        self.adv_weight = QLineEdit()
        self.adv_weight.setToolTip("weight of the adversarial loss in the perceptual loss (the paper's 1e-3; "
                                   "0 trains on the content loss alone)")
        self.content = QComboBox()
        for name in CONTENTS:
            self.content.addItem(_CONTENT_LABELS.get(name, name), name)
        self.content.setToolTip("the feature space of the content loss (a VGG19 file: genstudio train --content)")
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
        init_row = QHBoxLayout()
        init_row.setSpacing(4)
        init_row.addWidget(self.init, 1)
        init_row.addWidget(self.init_browse)
        self._rows: dict[str, tuple[int, int]] = {}  # field -> the form rows it and its error take
        for label, key, field in (("Model", "kind", self.kind), ("Init from", "init", init_row),
                                  ("Adversarial weight", "adv_weight", self.adv_weight),
                                  ("Content loss", "content", self.content), ("Data", "data", self.data),
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
            self._rows[key] = (form.rowCount() - 2, form.rowCount() - 1)
        self._form_layout = form
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

        # edits go to the form; the form's changes come back through _show
        for name in ("kind", "data", "size", "device", "content"):
            getattr(self, name).currentIndexChanged.connect(self._on_combo)
        self.init.textChanged.connect(lambda text: self.form.set("init", text))
        self.adv_weight.textChanged.connect(lambda text: self.form.set("adv_weight", text))
        self.init_browse.clicked.connect(self._browse_init)
        self.data.activated.connect(self._on_data_activated)
        for name in ("batch", "steps", "preview_every", "seed"):
            getattr(self, name).valueChanged.connect(self._on_spin)
        self.lr.textChanged.connect(lambda text: self.form.set("lr", text))
        self.folder.textChanged.connect(lambda text: self.form.set("folder", text))
        self.resume.toggled.connect(lambda on: self.form.set("resume", on))
        self.browse.clicked.connect(self._browse_folder)
        self.new_folder.clicked.connect(self.use_new_folder)
        self.form.changed.connect(self._show)
        self._show()

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
        return self.form.valid

    def config(self) -> RunConfig:
        """The form as a validated ``RunConfig`` (ConfigError naming its field if one is impossible)."""
        return self.form.config()

    def run_folder(self) -> Path:
        """The run folder as typed (``~`` expanded)."""
        return self.form.run_folder()

    def resume_requested(self) -> bool:
        return self.form.resume_requested()

    def set_running(self, running: bool) -> None:
        """Lock the form while a run is going (the buttons stay live)."""
        self.form.set_running(running)

    @Slot()
    def use_new_folder(self) -> None:
        """Put a fresh timestamped folder under the runs parent into the folder field."""
        self.form.use_new_folder()

    def set_resume(self, folder: str | Path) -> None:
        """Point the form at ``folder`` with Resume ticked (after a stop or a divergence)."""
        self.form.set_resume(folder)

    def set_message(self, text: str) -> None:
        """A line of text under the buttons (what happened to the last run, what Start will do)."""
        self.form.set_message(text)

    def set_runs_parent(self, parent: Path) -> None:
        self.form.runs_parent = Path(parent)

    def fields(self) -> dict[str, Any]:
        """The form's values as a JSON-able dict (for settings), folder excluded."""
        return self.form.fields()

    def set_fields(self, values: dict[str, Any]) -> None:
        """Fill the form from a dict like :meth:`fields` returns; unknown or bad values are skipped."""
        self.form.set_fields(values)

    def show_run_settings(self, config: RunConfig) -> None:
        """Show a run's live settings (learning rate, batch) as the run recorded them (see RunForm)."""
        self.form.show_run_settings(config)

    def set_data(self, name: str) -> None:
        """Select a built-in data set or a ``folder:PATH`` entry (added to the list)."""
        self.form.set("data", name)

    # ------------------------------------------------------------------ the form, shown
    @Slot()
    def _show(self) -> None:
        """Show the form's values, errors, Resume and message (silently: no edit goes back)."""
        f, v = self.form, self.form.values
        self._add_folder_item(v["data"])
        for name in ("kind", "data", "size", "device", "content"):
            combo = getattr(self, name)
            i = combo.findData(v[name])
            if i >= 0 and i != combo.currentIndex():
                _silently(combo.setCurrentIndex, combo, i)
        for name in ("batch", "steps", "preview_every", "seed"):
            box = getattr(self, name)
            if box.value() != v[name]:
                _silently(box.setValue, box, v[name])
        for name, edit in (("lr", self.lr), ("folder", self.folder), ("init", self.init),
                           ("adv_weight", self.adv_weight)):
            if edit.text() != v[name]:
                edit.blockSignals(True)
                edit.setText(v[name])
                edit.blockSignals(False)
        self.folder.setToolTip(v["folder"])  # the whole path, when the field is short
        if self.resume.isChecked() != f.resume:
            _silently(self.resume.setChecked, self.resume, f.resume)
        for w in (self.kind, self.data, self.size, self.batch, self.lr, self.steps, self.preview_every,
                  self.device, self.seed, self.folder, self.browse, self.new_folder, self.resume, self.init,
                  self.init_browse, self.adv_weight, self.content):
            w.setEnabled(not f.running)
        srgan = v["kind"] == "srgan"
        for key in SRGAN_FIELDS:
            self._form_layout.setRowVisible(self._rows[key][0], srgan)
        points = f.points()
        self.size.setEnabled(not points and not f.running)
        self.size.setToolTip("2-D point data has no resolution" if points else "Image side in pixels")
        self.resume.setVisible(f.holds_run or f.resume)
        for key, label in self._errors.items():
            label.setText(f.errors.get(key, ""))
            if key in SRGAN_FIELDS:  # the row, so a hidden SRGAN field leaves no gap
                self._form_layout.setRowVisible(self._rows[key][1], srgan and key in f.errors)
            else:
                label.setVisible(key in f.errors)
        self.message.setText(f.message)
        if f.valid != self._valid:
            self._valid = f.valid
            self.validityChanged.emit(f.valid)

    def _add_folder_item(self, name: str) -> None:
        """A ``folder:PATH`` or a drawing's ``points:FILE`` entry, added to the list once."""
        prefix = name.split(":", 1)[0] + ":" if ":" in name else ""
        if prefix not in ("folder:", "points:") or self.data.findData(name) >= 0:
            return
        path = name[len(prefix):]
        i = self.data.count() - 1  # before "Folder of images…"
        self.data.blockSignals(True)
        label = f"folder: {Path(path).name}" if prefix == "folder:" else f"drawn: {Path(path).stem}"
        self.data.insertItem(i, label, name)
        self.data.setItemData(i, path, Qt.ItemDataRole.ToolTipRole)
        self.data.blockSignals(False)

    # ------------------------------------------------------------------ edits
    @Slot(int)
    def _on_combo(self, _index: int) -> None:
        combo = self.sender()
        name = next(n for n in ("kind", "data", "size", "device", "content") if getattr(self, n) is combo)
        self.form.set(name, combo.currentData() if name != "data" else (combo.currentData() or ""))

    @Slot(int)
    def _on_spin(self, value: int) -> None:
        box = self.sender()
        self.form.set(next(n for n in ("batch", "steps", "preview_every", "seed") if getattr(self, n) is box), value)

    @Slot(int)
    def _on_data_activated(self, index: int) -> None:
        if self.data.itemText(index) != _FOLDER_ITEM:
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder of training images")
        self.form.set("data", f"folder:{folder}" if folder else BUILTIN[0])

    @Slot()
    def _browse_init(self) -> None:
        here = Path(self.init.text()).expanduser().parent if self.init.text() else self.form.runs_parent
        path, _ = QFileDialog.getOpenFileName(self, "The SRResNet SRGAN starts from", str(here),
                                              "Checkpoints (*.safetensors *.pt *.pth)")
        if path:
            self.form.set("init", path)

    @Slot()
    def _browse_folder(self) -> None:
        here = self.run_folder().parent
        start = str(here if here.is_dir() else self.form.runs_parent)
        folder = QFileDialog.getExistingDirectory(self, "Run folder", start)
        if folder:
            self.form.choose_folder(folder)


def _silently(setter, widget: QWidget, value: Any) -> None:
    widget.blockSignals(True)
    setter(value)
    widget.blockSignals(False)


def _spin(lo: int, hi: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setAccelerated(True)
    return box


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button
