"""The run panel's recipe fields: the learning rate, batch, steps and size come from the measured
recipe for the form's kind and data (:mod:`genstudio.recipes`) until the person sets them; a set
field keeps its value when the kind or data changes. A part of
:class:`~genstudio.gui.widgets.run_panel.RunPanel`, mixed into it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox

from genstudio.config import RunConfig
from genstudio.data import is_points
from genstudio.recipes import recipe_for

__all__ = ["RecipeFields", "RECIPE_KEYS", "select_item"]

RECIPE_KEYS = ("lr", "batch", "steps", "size")  # the form's fields that come from genstudio.recipes


class RecipeFields:
    """Which recipe fields the person set, filling the form and showing a run's live settings (a
    :class:`~genstudio.gui.widgets.run_panel.RunPanel` part: it uses the panel's fields and
    ``_edited``, ``_applying`` and ``_filling`` flags)."""

    def _fill(self, values: dict[str, Any]) -> None:
        # the recipe fields given count as the person's (the run's own, a restored form), beside
        # those already set, unless "edited" lists which are: "edited": [] is a fresh recipe run
        if isinstance(values.get("edited"), list):
            self._edited = {k for k in values["edited"] if k in RECIPE_KEYS}
        else:
            self._edited |= {k for k in RECIPE_KEYS if k in values}
            if values.get("lr_edited") is False:  # settings written before "edited" existed
                self._edited.discard("lr")
        self._applying = True
        if "kind" in values:
            select_item(self.kind, values["kind"])
        if values.get("data"):
            self.set_data(str(values["data"]))
        if "size" in values:
            select_item(self.size, values["size"])
        if "device" in values:
            select_item(self.device, values["device"])
        for key in ("batch", "steps", "preview_every", "seed"):
            if isinstance(values.get(key), int):
                getattr(self, key).setValue(values[key])
        if isinstance(values.get("lr"), (str, float)) and "lr" in self._edited:
            self.lr.setText(str(values["lr"]))
        self._applying = False
        self._on_kind_or_data()
        if "folder" in values:
            self.folder.setText(str(values["folder"]))
            self._folder_auto = False

    def show_run_settings(self, config: RunConfig) -> None:
        """Show a run's live settings (learning rate, batch) as the run recorded them.

        A recovery dialog may have changed them mid-run; the form shows what the run now trains
        with, so a later Start (Resume ticked) goes on with it. A changed field counts as set by the
        person (a new recipe leaves it alone); an unchanged one keeps its state.
        """
        try:
            same_lr = float(self.lr.text()) == config.lr
        except ValueError:
            same_lr = False
        self._filling = True
        try:
            if not same_lr:
                self.lr.setText(f"{config.lr:g}")
                self._edited.add("lr")
            if self.batch.value() != config.batch:
                self.batch.setValue(config.batch)
                self._edited.add("batch")
        finally:
            self._filling = False
        self._revalidate()

    def _apply_recipe(self) -> None:
        """Put the recipe for the form's kind and data into the fields the person has not set."""
        recipe = recipe_for(self.kind.currentData(), self.data_name() or "ring8")
        self._applying = True
        try:
            if "lr" not in self._edited:
                self.lr.setText(f"{recipe.lr:g}")
            if "batch" not in self._edited:
                self.batch.setValue(recipe.batch)
            if "steps" not in self._edited:
                self.steps.setValue(recipe.steps)
            if "size" not in self._edited and self.data_name() and not is_points(self.data_name()):
                select_item(self.size, recipe.size)
        finally:
            self._applying = False

    def edited_fields(self) -> set[str]:
        """The recipe fields the person set (kind and data changes keep them)."""
        return set(self._edited)

    def _mark_edited(self, name: str) -> None:
        if not (self._applying or self._filling):
            self._edited.add(name)

    @Slot(str)
    def _on_lr_edited(self, _text: str) -> None:
        self._mark_edited("lr")
        self._revalidate()

    @Slot(int)
    def _on_size_chosen(self, _index: int) -> None:
        self._mark_edited("size")

    @Slot(int)
    def _on_batch_edited(self, _value: int) -> None:
        self._mark_edited("batch")

    @Slot(int)
    def _on_steps_edited(self, _value: int) -> None:
        self._mark_edited("steps")


def select_item(combo: QComboBox, value: Any) -> None:
    """Select the item of ``combo`` whose data is ``value`` (nothing changes if none is)."""
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)
