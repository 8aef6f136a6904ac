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
from genstudio.runs.loop import run_to_end

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
        assert display_problem(env, "linux", find_library=lambda name: f"lib{name}.so.0") == ""
    assert display_problem({}, "darwin") == "" and display_problem({}, "win32") == ""


def test_an_x11_display_without_libxcb_cursor_names_the_package_instead_of_a_qt_abort():
    def missing(name: str) -> None:
        return None

    problem = display_problem({"DISPLAY": ":0"}, "linux", find_library=missing)
    assert "libxcb-cursor0" in problem and "apt-get install" in problem
    assert display_problem({"DISPLAY": ":0"}, "linux", find_library=lambda name: f"lib{name}.so.0") == ""
    # Wayland and a platform chosen by the user do not go through xcb
    assert display_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "linux", find_library=missing) == ""
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", find_library=missing) == ""


# ------------------------------------------------------------------------------------ GAN + diffusion flags
@pytest.fixture(scope="module")
def gan_ckpt(tmp_path_factory):
    cfg = RunConfig(kind="gan", data="ring8", steps=1, batch=8, lr=1e-3, beta1=0.5, num_points=100,
                    log_every=1, preview_every=100, checkpoint_every=100, device="cpu")
    return Path(run_to_end(cfg, tmp_path_factory.mktemp("gan") / "run").checkpoint)


@pytest.fixture(scope="module")
def ddpm_ckpt(tmp_path_factory):
    cfg = RunConfig(kind="diffusion", data="ring8", steps=1, batch=8, lr=1e-3, beta1=0.9, width=8, timesteps=20,
                    num_points=100, log_every=1, preview_every=100, checkpoint_every=100, device="cpu")
    return Path(run_to_end(cfg, tmp_path_factory.mktemp("ddpm") / "run").checkpoint)


@pytest.mark.parametrize("verb, flags, said", [
    ("sample", ["--sampler", "ddim"], "--sampler is for diffusion models"),
    ("sample", ["--steps", "20"], "--steps is for diffusion models"),
    ("sample", ["--sampler", "ddim", "--steps", "20", "--eta", "0.5"], "--sampler, --steps and --eta are for"),
    ("score", ["--sampler", "ddpm"], "--sampler is for diffusion models"),
    ("score", ["--steps", "20"], "--steps is for diffusion models"),
])
def test_a_gan_refuses_diffusion_sampling_flags(verb, flags, said, gan_ckpt, tmp_path, capsys):
    out = ["--out", str(tmp_path / "x.npy")] if verb == "sample" else []
    assert main([verb, str(gan_ckpt), "--n", "4", *out, *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("genstudio: error: ") and said in err, err
    assert f"{gan_ckpt.name} is a GAN" in err
    assert not (tmp_path / "x.npy").exists()


def test_a_gan_samples_without_them_and_a_diffusion_model_takes_them(gan_ckpt, ddpm_ckpt, tmp_path, capsys):
    assert main(["sample", str(gan_ckpt), "--n", "4", "--out", str(tmp_path / "g.npy")]) == 0
    assert np.load(tmp_path / "g.npy").shape == (4, 2)
    assert main(["sample", str(ddpm_ckpt), "--n", "4", "--out", str(tmp_path / "d.npy"),
                 "--sampler", "ddim", "--steps", "5", "--eta", "0.5"]) == 0
    assert main(["sample", str(ddpm_ckpt), "--n", "4", "--out", str(tmp_path / "e.npy")]) == 0  # DDPM, T steps
    assert "error" not in capsys.readouterr().err


# ------------------------------------------------------------------------------------ folders
def image_folder(path: Path, good: int, bad: dict[str, bytes]) -> Path:
    path.mkdir(parents=True)
    for i in range(good):
        Image.fromarray(np.full((20, 20, 3), 6 * i, np.uint8)).save(path / f"img{i:02d}.png")
    for name, data in bad.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return path


def test_skipped_files_are_one_note_naming_one_of_them(tmp_path, capsys):
    folder = image_folder(tmp_path / "pics", 8, {"a_empty.png": b"", "notes/b.jpg": b"not a JPEG"})
    rc = main(["train", "gan", "--data", f"folder:{folder}", "--size", "16", "--steps", "2", "--batch", "4",
               "--width", "8", "--latent-dim", "8", "--out", str(tmp_path / "run"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 0, err
    notes = [line for line in err.splitlines() if line.startswith("genstudio: note:")]
    assert notes == [f"genstudio: note: 2 files in {folder} could not be read as images and were skipped "
                     f"(e.g. a_empty.png: empty file)"], err
    assert "Warning" not in err


def test_a_batch_larger_than_the_folder_is_refused_naming_both(tmp_path, capsys):
    folder = image_folder(tmp_path / "pics", 40, {})
    run = tmp_path / "run"
    rc = main(["train", "gan", "--data", f"folder:{folder}", "--size", "16", "--steps", "2", "--batch", "256",
               "--out", str(run), "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0, err
    assert err == (f"genstudio: error: batch 256 is larger than the data set (40 images in folder:{folder}): "
                   "use a batch of at most 40, or add images to the folder")
    assert not (run / "checkpoints").exists()
    # exactly the data set's size is fine
    assert main(["train", "gan", "--data", f"folder:{folder}", "--size", "16", "--steps", "1", "--batch", "40",
                 "--width", "8", "--latent-dim", "8", "--out", str(run), "--device", "cpu", "--quiet"]) == 0
    assert json.loads((run / "config.json").read_text())["batch"] == 40


def test_a_closed_pipe_ends_quietly_as_cat_does(tmp_path):
    """`genstudio neighbours … | head -1`: no 'genstudio: error: [Errno 32] Broken pipe' on the terminal."""
    import subprocess
    import sys

    from genstudio.bundled import bundled_path

    cmd = (f"{sys.executable} -m genstudio neighbours {bundled_path('ddpm_digits')} --n 4 --out {tmp_path / 'n.png'} "
           f"--device cpu | head -c 1")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=300)
    assert done.stderr == "", done.stderr
    assert done.returncode in (0, 141)
