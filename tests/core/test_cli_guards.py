"""The command line on the user's machine: ``--version``, no display, flags that do not apply,
a folder with unreadable files, and a batch larger than the data set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import genstudio
from genstudio.cli import display_problem, main
from genstudio.config import RunConfig
from genstudio.training import run_to_end

ROOT = Path(__file__).resolve().parents[2]


def genstudio_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genstudio", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


# ------------------------------------------------------------------------------------ --version
def test_version_prints_genstudio_and_torch_versions():
    done = genstudio_process("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"genstudio {genstudio.__version__} (torch {torch.__version__}, " \
                                  f"Python {sys.version.split()[0]})"
    assert done.stderr == ""


def test_the_version_is_the_packages_version():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["version"] == genstudio.__version__  # what pip shows is what --version says


# ------------------------------------------------------------------------------------ no display
@pytest.mark.parametrize("argv", [[], ["app"]])
def test_the_app_without_a_display_says_so_in_one_line(argv):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = genstudio_process(*argv, env=env)
    err = done.stderr.strip()
    assert done.returncode == 1, err  # not Qt's abort (134)
    assert err.count("\n") == 0 and err.startswith("genstudio: error: no display"), err
    assert "xvfb-run -a genstudio" in err and "QT_QPA_PLATFORM=offscreen" in err
    assert "xcb" not in err


def test_a_display_or_a_chosen_qt_platform_is_enough():
    assert display_problem({}, "linux")
    for env in ({"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "offscreen"}):
        assert display_problem(env, "linux") == ""
    assert display_problem({}, "darwin") == "" and display_problem({}, "win32") == ""
