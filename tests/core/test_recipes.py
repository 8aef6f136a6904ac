"""Defaults are the measured recipes: the CLI (and the run panel, tested in tests/gui) start from them."""

from __future__ import annotations

import json

import pytest

from genstudio.cli import build_parser, main
from genstudio.recipes import recipe_config, recipe_for


@pytest.mark.parametrize("kind,data", [("gan", "ring8"), ("diffusion", "ring8"), ("gan", "digits"),
                                       ("diffusion", "digits"), ("gan", "folder:/tmp/pics")])
def test_a_recipe_is_a_valid_config_and_given_fields_win(kind, data):
    r = recipe_for(kind, data)
    cfg = recipe_config(kind, data)
    assert (cfg.lr, cfg.batch, cfg.steps, cfg.width) == (r.lr, r.batch, r.steps, r.width)
    assert recipe_config(kind, data, lr=0.123, batch=None).lr == 0.123  # None = not given
    assert recipe_config(kind, data, batch=None).batch == r.batch


def test_the_shapes_text_recipe_weights_by_min_snr_unless_told_otherwise():
    assert recipe_config("text2image", "shapes").extra["min_snr"] == 5.0  # its bundle was trained so
    assert recipe_config("text2image", "shapes", extra={"min_snr": 0.0}).extra["min_snr"] == 0.0  # --min-snr 0
    assert "min_snr" not in recipe_config("text2image", "digits").extra  # a recipe without it stays plain


def test_train_with_no_tuning_flags_uses_the_recipe(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "gan", "--data", "ring8", "--steps", "2", "--out", str(out), "--quiet",
                 "--device", "cpu"]) == 0
    saved = json.loads((out / "config.json").read_text())
    r = recipe_for("gan", "ring8")
    assert (saved["lr"], saved["batch"], saved["width"]) == (r.lr, r.batch, r.width)
    assert (saved["beta1"], saved["beta2"]) == (0.5, 0.999)  # DCGAN paper's Adam betas for GANs


def test_steps_default_to_the_recipe_and_resume_keeps_the_runs_own(tmp_path):
    parser = build_parser()
    from genstudio.cli_train import config_from_args

    args = parser.parse_args(["train", "diffusion", "--data", "digits", "--out", str(tmp_path / "r")])
    cfg = config_from_args(args)
    r = recipe_for("diffusion", "digits")
    assert (cfg.steps, cfg.size, cfg.schedule, cfg.ema_decay) == (r.steps, r.size, r.schedule, r.ema_decay)
    out = tmp_path / "short"
    assert main(["train", "gan", "--data", "ring8", "--steps", "3", "--batch", "8", "--out", str(out),
                 "--quiet", "--device", "cpu"]) == 0
    args = parser.parse_args(["train", "gan", "--data", "ring8", "--out", str(out), "--resume"])
    cfg = config_from_args(args)
    assert (cfg.steps, cfg.batch) == (3, 8)  # the run's own, not the recipe's


def test_train_help_shows_the_recipes(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    r = recipe_for("gan", "ring8")
    assert "ring8" in text and f"{r.lr:g}" in text and str(r.steps) in text


def test_the_readme_shows_the_table_the_code_uses():
    from pathlib import Path

    from genstudio.recipes import recipes_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert recipes_table() in readme, "README's recipe table is out of date: paste recipes_table()"


@pytest.mark.parametrize("field,value", [("batch", 0), ("steps", -1), ("lr", 0.0), ("seed", -5), ("size", 48),
                                         ("preview_every", 0), ("device", "tpu"), ("schedule", "zigzag"),
                                         ("timesteps", 1), ("channels", 2), ("g_ema", 1.0)])
def test_a_config_error_names_its_field(field, value):
    """A form shows the message under the field the error carries, not one guessed from its words."""
    from genstudio.config import ConfigError, RunConfig

    with pytest.raises(ConfigError) as info:
        RunConfig(**{field: value}).validate()
    assert info.value.field == field


def test_a_new_family_starts_from_its_own_defaults_not_a_gans_recipe(toy_family):
    """A registered family with no measured recipe gets RunConfig's defaults and its declared betas."""
    from genstudio.config import RunConfig
    from genstudio.families import get_family

    r = recipe_for(toy_family, "ring8")
    assert (r.lr, r.batch, r.steps, r.g_ema) == (RunConfig.lr, RunConfig.batch, RunConfig.steps, 0.0)
    cfg = recipe_config(toy_family, "ring8")
    assert (cfg.beta1, cfg.beta2) == get_family(toy_family).adam_betas
