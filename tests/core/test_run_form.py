"""The run form's state without Qt: recipes, the person's edits, per-field errors, folder and Resume."""

from __future__ import annotations

from genstudio.config import RunConfig
from genstudio.recipes import recipe_for
from genstudio.runs.folder import RunDir
from genstudio.views.run_form import RunForm


def form_in(tmp_path) -> tuple[RunForm, list]:
    f, seen = RunForm(tmp_path, devices=("auto", "cpu")), []
    f.changed.connect(lambda: seen.append(dict(f.errors)))
    return f, seen


def test_the_recipe_fills_what_the_person_has_not_set(tmp_path):
    f, _ = form_in(tmp_path)
    f.set("kind", "gan")
    f.set("data", "ring8")
    f.set("steps", 1234)
    f.set("lr", "3e-4")
    f.set("data", "faces")
    r = recipe_for("gan", "faces")
    assert f["steps"] == 1234 and f["lr"] == "3e-4"  # the person's
    assert f["batch"] == r.batch and f["size"] == r.size  # the recipe's
    assert f.edited == {"steps", "lr"}
    config = f.config()
    assert (config.kind, config.data, config.steps, config.lr) == ("gan", "faces", 1234, 3e-4)
    restored = RunForm(tmp_path)
    restored.set_fields(f.fields())  # what the settings keep
    assert restored.fields() == f.fields()


def test_a_bad_value_shows_under_its_field_and_blocks_start(tmp_path):
    f, seen = form_in(tmp_path)
    assert f.valid and not f.errors
    f.set("lr", "fast")
    assert not f.valid and list(f.errors) == ["lr"] and "2e-4" in f.errors["lr"]
    assert seen[-1] == f.errors  # every edit says it changed
    f.set("lr", "1e-3")
    assert f.valid
    f.set("batch", 0)
    assert f["batch"] == 1  # clamped to what a run takes


def test_a_folder_holding_a_run_needs_resume_and_a_new_model_leaves_it(tmp_path):
    f, _ = form_in(tmp_path)
    run = tmp_path / "old run"
    RunDir(run).path.mkdir()
    RunDir(run).write_config(RunConfig(kind="gan", data="ring8"))
    f.set("folder", str(run))
    assert not f.valid and "tick Resume" in f.errors["folder"] and f.holds_run
    f.set("resume", True)
    assert f.valid and f.resume_requested()
    f.set("kind", "diffusion")  # another model: not the folder's run any more
    assert not f.resume and f.run_folder() != run and "new run in a new folder" in f.message
    f.set_resume(tmp_path / "nothing here")
    assert "holds no run" in f.errors["folder"]


def test_a_rate_changed_mid_run_becomes_the_forms(tmp_path):
    f, _ = form_in(tmp_path)
    f.set_running(True)
    assert not f.resume_requested()
    f.show_run_settings(RunConfig(lr=1e-5, batch=f["batch"]))
    f.set_running(False)
    assert f["lr"] == "1e-05" and "lr" in f.edited  # a new recipe leaves it alone
    f.set("data", "digits")
    assert f["lr"] == "1e-05"
