"""The run form's state: the fields that build a :class:`~genstudio.config.RunConfig`, which of the
recipe's fields the person set, the run folder and Resume, and the per-field errors (Qt-free;
:class:`~genstudio.gui.widgets.run_panel.RunPanel` renders it).

Every edit re-validates the whole form through ``RunConfig.validate()``; a ``ConfigError`` names the
field it is about (``ConfigError.field``) and its message goes under that field. The learning
rate, batch, steps and size come from the measured recipe for the kind and data
(:mod:`genstudio.recipes`) until the person sets them; a set field keeps its value when the kind or
data changes. Changing what defines the run (kind, data, size) while Resume is ticked unticks it and
picks a fresh folder: a resumed run keeps its own model and data. ``changed()`` is emitted after
every change; the panel then shows :attr:`RunForm.values`, :attr:`RunForm.errors` and so on.

SRGAN (the paper's stage two) adds three fields, shown only for that family (:data:`SRGAN_FIELDS`):
``init``, the SRResNet checkpoint it starts from, ``adv_weight`` and ``content``; they go into
``config.extra``. ``init`` defaults to the last SRResNet checkpoint of a run this form started or
pointed at (:attr:`RunForm.srresnet_seen`); :meth:`RunForm.fine_tune` fills the form from one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from genstudio.config import IMAGE_SIZES, ConfigError, RunConfig, parse_lr
from genstudio.data import BUILTIN, is_points
from genstudio.devices import available_devices
from genstudio.families import FAMILIES
from genstudio.superres.content import KINDS as CONTENT_KINDS
from genstudio.recipes import recipe_config, recipe_for
from genstudio.runs.folder import RunDir
from genstudio.views.events import Event

__all__ = ["RunForm", "FIELDS", "RECIPE_KEYS", "RANGES", "SRGAN_FIELDS", "CONTENTS", "timestamped_folder"]

#: The form's fields, in the order shown; an error goes under one of them.
FIELDS = ("kind", "init", "adv_weight", "content", "data", "size", "batch", "lr", "steps", "preview_every",
          "device", "seed", "folder")
SRGAN_FIELDS = ("init", "adv_weight", "content")  # shown for the srgan family only
CONTENTS = tuple(k for k in CONTENT_KINDS if not k.startswith("vgg19"))  # vgg19:PATH needs a file: CLI only
RECIPE_KEYS = ("lr", "batch", "steps", "size")  # the fields that come from genstudio.recipes
_DEFINING = ("kind", "data", "size")  # a change means another run than the folder's
_INT_MAX = 2**31 - 1
#: the whole-number fields and the values a run takes (the panel's spin boxes use the same ranges)
RANGES = {"batch": (1, 65536), "steps": (1, _INT_MAX), "preview_every": (1, _INT_MAX), "seed": (0, _INT_MAX)}


def timestamped_folder(parent: Path, kind: str, data: str) -> Path:
    """A new, unused run folder under ``parent``: ``2024-05-01_14-03-22 gan ring8``."""
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    label = Path(data.split(":", 1)[1]).name if data.startswith("folder:") else data
    label = "drawn " + Path(data.split(":", 1)[1]).stem if data.startswith("points:") else label
    path = parent / f"{stamp} {kind} {label}"
    n = 2
    while path.exists():
        path = parent / f"{stamp} {kind} {label} ({n})"
        n += 1
    return path


class RunForm:
    """What the run panel's form says: values, the person's edits, the folder, errors and validity.

    Parameters
    ----------
    runs_parent : Path
        Where new run folders are created by default.
    devices : sequence of str, optional
        The devices offered ("auto" and what this machine has, by default).
    """

    def __init__(self, runs_parent: Path, devices: tuple[str, ...] | None = None) -> None:
        self.changed = Event()
        self.runs_parent = Path(runs_parent)
        self.devices = tuple(devices) if devices is not None else ("auto", *available_devices())
        self.values: dict[str, Any] = {
            "kind": next(iter(FAMILIES)), "data": BUILTIN[0], "size": 32, "batch": 64, "lr": "",
            "steps": 2000, "preview_every": 100, "device": "auto", "seed": 0, "folder": "",
            "init": "", "adv_weight": "1e-3", "content": "random"}
        self.resume = False  # Resume ticked
        self.edited: set[str] = set()  # the recipe fields the person set
        self.folder_auto = False  # the folder is a generated name the person has not edited
        self.running = False  # a run is going: the form is locked
        self.errors: dict[str, str] = {}  # field -> the message under it
        self.valid = False
        self.holds_run = False  # the folder holds a run (Resume is offered)
        self.message = ""  # the line under the buttons
        self._quiet = False  # set_fields at work: its caller decides about Resume and says so
        self.srresnet_seen: Path | None = None  # the last SRResNet checkpoint of a run used here (init's default)
        self._apply_recipe()
        self.use_new_folder()

    # ------------------------------------------------------------------ reading
    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def config(self) -> RunConfig:
        """The form as a validated ``RunConfig``; ConfigError (with its ``field``) if a field is impossible."""
        v = self.values
        if not v["data"]:
            raise ConfigError("choose a data set or a folder of images", field="data")
        extra = self._srgan_extra() if v["kind"] == "srgan" else None
        # what the form does not show (width, the averaged G, schedule, EMA, betas) is the recipe's
        return recipe_config(v["kind"], v["data"], size=int(v["size"]), batch=v["batch"], lr=parse_lr(v["lr"]),
                             steps=v["steps"], preview_every=v["preview_every"], seed=v["seed"], device=v["device"],
                             extra=extra)

    def _srgan_extra(self) -> dict[str, Any]:
        """SRGAN's settings from the form: ``init`` checked (an SRResNet checkpoint), weight, content loss."""
        from genstudio.checkpoint import CheckpointError, read_header

        v = self.values
        text = str(v["init"]).strip()
        if not text:
            raise ConfigError("choose the SRResNet checkpoint SRGAN starts from (train an SRResNet first)",
                              field="init")
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(f"no such file: {path}", field="init")
        try:
            meta = read_header(path)
        except CheckpointError as exc:
            raise ConfigError(f"not a checkpoint: {exc}", field="init") from None
        if meta.get("kind") not in ("srresnet", "srgan"):
            raise ConfigError(f"{path.name} holds a {meta.get('kind')} model, not an SRResNet", field="init")
        try:
            weight = float(str(v["adv_weight"]).strip())
        except ValueError:
            raise ConfigError(f"adversarial weight must be a number, e.g. 1e-3, not {v['adv_weight']!r}",
                              field="adv_weight") from None
        if not 0 <= weight <= 1e3:
            raise ConfigError(f"adversarial weight must be from 0 to 1000, not {weight:g}", field="adv_weight")
        if v["content"] not in CONTENTS:
            raise ConfigError(f"content loss must be one of {', '.join(CONTENTS)}", field="content")
        return {"init": str(path), "adv_weight": weight, "content": v["content"]}

    def run_folder(self) -> Path:
        """The run folder as typed (``~`` expanded)."""
        return Path(str(self.values["folder"]).strip()).expanduser()

    def resume_requested(self) -> bool:
        return self.resume and not self.running

    def points(self) -> bool:
        """The data set is 2-D points (no resolution)."""
        return bool(self.values["data"]) and is_points(self.values["data"])

    def fields(self) -> dict[str, Any]:
        """The form's values as a JSON-able dict (for settings), folder excluded."""
        out = {k: v for k, v in self.values.items() if k != "folder"}
        out["edited"] = sorted(self.edited)
        return out

    # ------------------------------------------------------------------ editing
    def set(self, name: str, value: Any) -> None:
        """The person set field ``name`` (a recipe field then counts as theirs)."""
        if name == "resume":
            self.resume = bool(value)
            return self._revalidate()
        if name not in self.values:
            raise KeyError(f"no field {name!r} in the run form")
        if name in RECIPE_KEYS and not self._quiet:
            self.edited.add(name)
        if name == "folder":
            self.folder_auto = False
        self._put(name, value)

    def _put(self, name: str, value: Any) -> None:
        if name in RANGES:
            lo, hi = RANGES[name]
            value = min(hi, max(lo, int(value)))
        if self.values[name] == value:
            return self._revalidate()
        self.values[name] = value
        if name == "kind" and value == "srgan" and not str(self.values["init"]).strip() and self.srresnet_seen:
            if self.srresnet_seen.is_file():  # the SRResNet the person trained or chose, as stage one
                self.values["init"] = str(self.srresnet_seen)
        if name in ("kind", "data"):
            self._apply_recipe()
            if self.folder_auto and not self.running:  # keep the default name in step with the form
                self._new_folder()
        if name in _DEFINING and self.resume and not self.running:
            old = self.run_folder().name
            self._new_folder()
            if not self._quiet:
                self.message = (f"The model or data changed, so Start begins a new run in a new folder. "
                                f"To continue “{old}” instead, choose that folder again (…).")
        self._revalidate()

    def use_new_folder(self) -> None:
        """A fresh timestamped folder under the runs parent, Resume unticked."""
        self._new_folder()
        self._revalidate()

    def _new_folder(self) -> None:
        self.resume = False
        self.values["folder"] = str(timestamped_folder(self.runs_parent, self.values["kind"],
                                                       self.values["data"] or "data"))
        self.folder_auto = True

    def choose_folder(self, folder: str | Path) -> None:
        """The person chose ``folder`` (Browse): a folder holding a run ticks Resume."""
        self.values["folder"] = str(folder)
        self.folder_auto = False
        if RunDir(folder).has_run():
            self.resume = True
            self._note_srresnet()
        self._revalidate()

    def fine_tune(self, checkpoint: str | Path, data: str = "", size: int = 0) -> None:
        """Fill the form for SRGAN's stage two from ``checkpoint`` (an SRResNet) on its data and size."""
        self._quiet = True
        try:
            self.values["init"] = str(checkpoint)
            self._put("kind", "srgan")
            if data and (data in BUILTIN or data.startswith("folder:")):
                self._put("data", data)
            if size in IMAGE_SIZES:
                self.edited.add("size")
                self._put("size", size)
            self._new_folder()
        finally:
            self._quiet = False
        self.message = f"SRGAN starts from {Path(checkpoint).name}: press Start to fine-tune it."
        self._revalidate()

    def _note_srresnet(self) -> None:
        """The folder's checkpoint becomes SRGAN's ``init`` if the form trains (or points at) an SRResNet."""
        if self.values["kind"] == "srresnet" and str(self.values["folder"]).strip():
            self.srresnet_seen = RunDir(self.run_folder()).last_checkpoint
            self.values["init"] = str(self.srresnet_seen)  # the newest stage one, over an older init

    def set_resume(self, folder: str | Path) -> None:
        """Point the form at ``folder`` with Resume ticked (after a stop or a divergence)."""
        self.values["folder"] = str(folder)
        self.folder_auto = False
        self.resume = True
        self._note_srresnet()
        self._revalidate()

    def set_message(self, text: str) -> None:
        """The line under the buttons (what happened to the last run, what Start will do)."""
        self.message = text
        self.changed.emit()

    def set_running(self, running: bool) -> None:
        """Lock the form while a run is going; unlocked, it takes the recipe again."""
        self.running = bool(running)
        if running:  # the folder the run writes to (when it ends the form may already hold a new one)
            self._note_srresnet()
        if not running:
            self._apply_recipe()
            if self.folder_auto:
                self._new_folder()
        self._revalidate()

    def set_fields(self, values: dict[str, Any]) -> None:
        """Fill the form from a dict like :meth:`fields` returns; unknown or bad values are skipped.

        The recipe fields given count as the person's (the run's own, a restored form), beside those
        already set, unless ``"edited"`` lists which are (``"edited": []`` is a fresh recipe run).
        """
        if isinstance(values.get("edited"), list):
            self.edited = {k for k in values["edited"] if k in RECIPE_KEYS}
        else:
            self.edited |= {k for k in RECIPE_KEYS if k in values}
            if values.get("lr_edited") is False:  # settings written before "edited" existed
                self.edited.discard("lr")
        self._quiet = True
        try:
            if values.get("kind") in FAMILIES:
                self._put("kind", values["kind"])
            data = values.get("data")
            if isinstance(data, str) and (data in BUILTIN or data.startswith(("folder:", "points:"))):
                self._put("data", data)
            if values.get("size") in IMAGE_SIZES:
                self._put("size", values["size"])
            if values.get("device") in self.devices:
                self._put("device", values["device"])
            for key in RANGES:
                if isinstance(values.get(key), int) and not isinstance(values[key], bool):
                    self._put(key, values[key])
            for key in SRGAN_FIELDS:
                if isinstance(values.get(key), str) and (key != "content" or values[key] in CONTENTS):
                    self.values[key] = values[key]
            if isinstance(values.get("lr"), (str, float)) and "lr" in self.edited:
                self._put("lr", str(values["lr"]))
            self._apply_recipe()
            if self.folder_auto and not self.running:
                self._new_folder()
            if "folder" in values:
                self.values["folder"] = str(values["folder"])
                self.folder_auto = False
        finally:
            self._quiet = False
        self._revalidate()

    def show_run_settings(self, config: RunConfig) -> None:
        """Show a run's live settings (learning rate, batch) as the run recorded them.

        A recovery dialog may have changed them mid-run; the form shows what the run now trains
        with, so a later Start (Resume ticked) goes on with it. A changed field counts as set by the
        person (a new recipe leaves it alone); an unchanged one keeps its state.
        """
        try:
            same_lr = float(self.values["lr"]) == config.lr
        except ValueError:
            same_lr = False
        if not same_lr:
            self.values["lr"] = f"{config.lr:g}"
            self.edited.add("lr")
        if self.values["batch"] != config.batch:
            self.values["batch"] = config.batch
            self.edited.add("batch")
        self._revalidate()

    def _apply_recipe(self) -> None:
        """Put the recipe for the form's kind and data into the fields the person has not set."""
        v = self.values
        recipe = recipe_for(v["kind"], v["data"] or "ring8")
        if "lr" not in self.edited:
            v["lr"] = f"{recipe.lr:g}"
        if "batch" not in self.edited:
            v["batch"] = recipe.batch
        if "steps" not in self.edited:
            v["steps"] = recipe.steps
        if "size" not in self.edited and v["data"] and not is_points(v["data"]) and recipe.size in IMAGE_SIZES:
            v["size"] = recipe.size

    # ------------------------------------------------------------------ checking
    def _revalidate(self) -> None:
        problems: dict[str, str] = {}
        try:
            self.config()
        except ConfigError as exc:
            # the field the error names, if the form shows it; else the general slot under Model
            problems[exc.field if exc.field in FIELDS else "kind"] = str(exc)
        self.holds_run = False
        folder_text = str(self.values["folder"]).strip()
        if not folder_text:
            problems.setdefault("folder", "choose a folder for the run")
        else:
            rd = RunDir(self.run_folder())
            self.holds_run = rd.has_run()
            if rd.path.exists() and not rd.path.is_dir():
                problems.setdefault("folder", "this is a file, not a folder")
            elif self.holds_run and not self.resume:
                problems.setdefault("folder", "this folder already holds a run: tick Resume to continue "
                                              "it, or click New for a fresh folder")
            elif self.resume and not self.holds_run:
                problems.setdefault("folder", "nothing to resume here: this folder holds no run")
        self.errors = {k: text[:1].upper() + text[1:] for k, text in problems.items()}
        self.valid = not problems
        self.changed.emit()
