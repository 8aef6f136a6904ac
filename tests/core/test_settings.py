"""Impossible settings are refused, with a message naming the setting, by RunConfig and by the CLI."""

from __future__ import annotations

import math

import pytest

from genstudio.cli import main
from genstudio.config import ConfigError, RunConfig, parse_lr

IMPOSSIBLE = {  # field -> (value, words the message must contain)
    "batch 0": ("batch", 0, "batch"),
    "batch negative": ("batch", -4, "batch"),
    "batch not whole": ("batch", 32.5, "batch"),
    "batch yes": ("batch", True, "batch"),
    "lr negative": ("lr", -1e-3, "learning rate"),
    "lr zero": ("lr", 0.0, "learning rate"),
    "lr NaN": ("lr", math.nan, "lr"),
    "lr infinite": ("lr", math.inf, "lr"),
    "lr text": ("lr", "0.1", "lr"),
    "steps 0": ("steps", 0, "steps"),
    "size 48": ("size", 48, "size"),
    "size 0": ("size", 0, "size"),
    "T 1": ("timesteps", 1, "timesteps"),
    "T 0": ("timesteps", 0, "timesteps"),
    "T fractional": ("timesteps", 2.5, "timesteps"),
    "seed text": ("seed", "abc", "seed"),
    "seed negative": ("seed", -1, "seed"),
    "seed too big": ("seed", 2**63, "seed"),
    "seed fractional": ("seed", 1.5, "seed"),
    "channels 2": ("channels", 2, "channels"),
    "channels 4": ("channels", 4, "channels"),
    "latent huge": ("latent_dim", 10**9, "latent_dim"),
    "width negative": ("width", -8, "width"),
    "beta1 1": ("beta1", 1.0, "betas"),
    "ema 1": ("ema_decay", 1.0, "ema_decay"),
    "log every 0": ("log_every", 0, "log_every"),
    "checkpoint every 0": ("checkpoint_every", 0, "checkpoint_every"),
    "kind vae": ("kind", "vae", "kind"),
    "device tpu": ("device", "tpu", "device"),
    "schedule sqrt": ("schedule", "sqrt", "schedule"),
}


@pytest.mark.parametrize("case", list(IMPOSSIBLE))
def test_run_config_refuses_an_impossible_setting(case):
    field, value, words = IMPOSSIBLE[case]
    with pytest.raises(ConfigError, match=words):
        RunConfig(**{field: value}).validate()


def test_the_defaults_and_the_edges_are_accepted():
    RunConfig().validate()
    RunConfig(kind="diffusion", batch=1, steps=1, size=16, channels=1, timesteps=2, seed=0, lr=1e-6).validate()
    RunConfig(size=64, channels=3, timesteps=10000, seed=2**63 - 1, latent_dim=4096, width=4096).validate()


def train_args(*extra: str) -> list[str]:
    return ["train", "gan", "--data", "ring8", "--steps", "5", "--out", "never_written", *extra]


CLI = {  # flags -> (exit status, words of the error line)
    "batch 0": (["--batch", "0"], 2, "--batch"),
    "batch text": (["--batch", "many"], 2, "--batch"),
    "lr negative": (["--lr", "-0.001"], 2, "--lr"),
    "lr NaN": (["--lr", "nan"], 2, "--lr"),
    "lr infinite": (["--lr", "inf"], 2, "--lr"),
    "lr text": (["--lr", "fast"], 2, "--lr"),
    "lr huge": (["--lr", "2e6"], 2, "--lr"),
    "steps 0": (["--steps", "0"], 2, "--steps"),
    "size 48": (["--size", "48"], 1, "size"),
    "T 1": (["--timesteps", "1"], 1, "timesteps"),
    "seed text": (["--seed", "abc"], 2, "seed"),
    "seed negative": (["--seed", "-3"], 2, "seed"),
    "channels 2": (["--channels", "2"], 1, "channels"),
    "latent huge": (["--latent-dim", "1000000000"], 1, "latent_dim"),
    "width negative": (["--width", "-8"], 1, "width"),
    "ema 1": (["--ema", "1"], 1, "ema_decay"),
    "checkpoint every 0": (["--checkpoint-every", "0"], 2, "--checkpoint-every"),
}


@pytest.mark.parametrize("case", list(CLI))
def test_the_command_refuses_an_impossible_setting_with_one_error_line(case, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flags, status, words = CLI[case]
    args = train_args(*flags)
    if "--steps" in flags:  # replace the default
        i = args.index("--steps")
        del args[i:i + 2]
        args += flags
    if status == 2:  # argparse: usage, then one error line; exit 2
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
        errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    else:
        assert main(args) == 1
        errors = capsys.readouterr().err.strip().splitlines()
        assert all(line.startswith("genstudio: error: ") for line in errors)
    assert len(errors) == 1 and words in errors[0], errors
    assert not (tmp_path / "never_written").exists()  # nothing was started


@pytest.mark.parametrize("text", ["fast", "", "nan", "inf", "-1e-3", "0", "2e6"])
def test_a_typed_learning_rate_has_one_rule(text):
    """The run panel, the recovery dialog and ``--lr`` read a typed rate with ``parse_lr``: the
    same refusals, with RunConfig's bounds."""
    with pytest.raises(ConfigError, match="learning rate"):
        parse_lr(text)
    assert parse_lr(" 2e-4 ") == 2e-4 and parse_lr("1e6") == 1e6
