"""The command line: train, sample, info, and one clear line for each kind of user error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genstudio.cli import main


@pytest.fixture(scope="module")
def gan_ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    rc = main(["train", "gan", "--data", "digits", "--size", "16", "--steps", "3", "--batch", "8",
               "--width", "8", "--latent-dim", "8", "--out", str(out), "--quiet", "--seed", "5"])
    assert rc == 0
    return out / "checkpoints" / "last.safetensors"


def test_train_writes_a_run_and_resume_extends_it(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["train", "gan", "--data", "ring8", "--steps", "4", "--batch", "8", "--out", str(out),
            "--log-every", "2", "--quiet"]
    assert main(args) == 0
    args[5] = "6"
    assert main(args + ["--resume"]) == 0
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6]


def test_sample_same_seed_same_images_and_prefix_stable(gan_ckpt, tmp_path):
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    assert main(["sample", str(gan_ckpt), "--n", "6", "--out", str(a), "--seed", "11", "--device", "cpu"]) == 0
    assert main(["sample", str(gan_ckpt), "--n", "6", "--out", str(b), "--seed", "11", "--device", "cpu"]) == 0
    assert main(["sample", str(gan_ckpt), "--n", "2", "--out", str(c), "--seed", "11", "--device", "cpu"]) == 0
    xa, xb, xc = np.load(a), np.load(b), np.load(c)
    assert xa.shape == (6, 1, 16, 16) and xa.min() >= -1 and xa.max() <= 1
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(xa[:2], xc)  # sample i does not depend on how many are drawn
    d = tmp_path / "d.npy"
    main(["sample", str(gan_ckpt), "--n", "2", "--out", str(d), "--seed", "12", "--device", "cpu"])
    assert not np.array_equal(np.load(d), xc)


def test_sample_to_folder_writes_pngs_with_metadata(gan_ckpt, tmp_path):
    out = tmp_path / "pngs"
    assert main(["sample", str(gan_ckpt), "--n", "3", "--out", str(out), "--seed", "7"]) == 0
    files = sorted(out.glob("*.png"))
    assert len(files) == 3
    img = Image.open(files[1])
    assert img.size == (16, 16)
    assert img.text["genstudio:seed"] == "7" and img.text["genstudio:step"] == "3"
    assert img.text["genstudio:index"] == "1" and "GAN" in img.text["genstudio:model"]


def test_info_describes_the_checkpoint(gan_ckpt, capsys):
    assert main(["info", str(gan_ckpt)]) == 0
    out = capsys.readouterr().out
    assert "kind:        gan" in out and "dcgan_g" in out and "step:        3" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "gan", "--data", "nope", "--steps", "2", "--out", "{tmp}/x"], "unknown data set"),
    (["train", "gan", "--data", "ring8", "--steps", "2", "--out", "{tmp}/x", "--size", "48"], "size must be"),
    (["train", "diffusion", "--data", "ring8", "--steps", "2", "--out", "{tmp}/x", "--timesteps", "1"], "timesteps"),
    (["info", "{tmp}/missing.safetensors"], "no such file"),
    (["sample", "{tmp}/garbage.safetensors", "--n", "2", "--out", "{tmp}/o.npy"], "not a readable checkpoint"),
])
def test_user_errors_give_one_line_and_nonzero_exit(argv, message, tmp_path, capsys):
    (tmp_path / "garbage.safetensors").write_bytes(b"\x00\x01 definitely not a checkpoint" * 10)
    rc = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err.strip()
    assert rc != 0
    assert err.count("\n") == 0 and err.startswith("genstudio: error:") and message in err


@pytest.mark.parametrize("argv", [
    ["train", "gan", "--data", "ring8", "--steps", "0", "--out", "x"],
    ["train", "gan", "--data", "ring8", "--steps", "5", "--out", "x", "--batch", "0"],
    ["train", "gan", "--data", "ring8", "--steps", "5", "--out", "x", "--lr", "nan"],
    ["train", "gan", "--data", "ring8", "--steps", "5", "--out", "x", "--lr", "-1"],
    ["train", "gan", "--data", "ring8", "--steps", "5", "--out", "x", "--seed", "abc"],
    ["train", "gan", "--steps", "5", "--out", "x"],
])
def test_bad_arguments_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_resume_keeps_the_runs_own_lr_and_batch_unless_changed(tmp_path):
    from genstudio.checkpoint import read_header

    out = tmp_path / "run"
    base = ["train", "gan", "--data", "ring8", "--out", str(out), "--quiet", "--checkpoint-every", "2"]
    assert main([*base, "--steps", "2", "--lr", "1e-3", "--batch", "16"]) == 0
    assert main([*base, "--steps", "4", "--resume"]) == 0  # no --lr / --batch: the run's own
    cfg = read_header(out / "checkpoints" / "last.safetensors")["config"]
    assert (cfg["lr"], cfg["batch"], cfg["steps"]) == (1e-3, 16, 4)
    assert main([*base, "--steps", "6", "--resume", "--batch", "8"]) == 0  # a smaller batch after an OOM
    cfg = read_header(out / "checkpoints" / "last.safetensors")["config"]
    assert (cfg["lr"], cfg["batch"]) == (1e-3, 8)
    assert read_header(out / "checkpoints" / "last.safetensors")["step"] == 6


def _size(path):
    with Image.open(path) as im:
        return im.size


def test_sample_png_is_a_grid_of_the_chosen_size_and_a_scatter_plot_for_points(tmp_path, capsys):
    """A 16-sample grid of a 32 px model came out 74 px wide, and a 2-D model could not write a PNG."""
    bundled = Path(__file__).resolve().parents[2] / "checkpoints"
    grid = tmp_path / "grid.png"
    assert main(["sample", str(bundled / "dcgan_digits.safetensors"), "--n", "16", "--out", str(grid),
                 "--device", "cpu"]) == 0
    assert max(_size(grid)) == 512  # the default long side
    assert main(["sample", str(bundled / "dcgan_digits.safetensors"), "--n", "16", "--out", str(grid),
                 "--device", "cpu", "--px", "0"]) == 0
    assert max(_size(grid)) < 200  # the grid's own pixels
    scatter = tmp_path / "points.png"
    assert main(["sample", str(bundled / "gan_ring8.safetensors"), "--n", "500", "--out", str(scatter),
                 "--device", "cpu", "--px", "300"]) == 0
    with Image.open(scatter) as im:
        picture = np.asarray(im.convert("RGB"))
    assert picture.shape == (300, 300, 3) and len(np.unique(picture.reshape(-1, 3), axis=0)) > 3


def test_resume_names_the_flags_the_resumed_run_does_not_take(tmp_path, capsys):
    """--g-ema 0.999 given with --resume was dropped without a word: the run kept its own 0.995."""
    from genstudio.checkpoint import read_header

    out = tmp_path / "run"
    base = ["train", "gan", "--data", "ring8", "--out", str(out), "--quiet", "--checkpoint-every", "2"]
    assert main([*base, "--steps", "2", "--g-ema", "0.9"]) == 0
    capsys.readouterr()
    assert main([*base, "--steps", "4", "--resume", "--g-ema", "0.99", "--r1", "1", "--lr", "1e-4"]) == 0
    err = capsys.readouterr().err
    assert "not taken: --g-ema 0.99, --r1 1.0" in err and "--lr" not in err, err
    cfg = read_header(out / "checkpoints" / "last.safetensors")["config"]
    assert (cfg["g_ema"], cfg["lr"], cfg["extra"].get("r1")) == (0.9, 1e-4, None)  # as the note says
    assert main([*base, "--steps", "6", "--resume", "--g-ema", "0.9"]) == 0  # the run's own value: no note
    assert "not taken" not in capsys.readouterr().err
    # how a step runs (like --device) is taken by a resume, given or not: bf16 on, then off again
    assert main([*base, "--steps", "8", "--resume", "--amp", "bf16"]) == 0
    assert "not taken" not in capsys.readouterr().err
    assert read_header(out / "checkpoints" / "last.safetensors")["config"]["extra"].get("amp") == "bf16"
    assert main([*base, "--steps", "10", "--resume"]) == 0
    assert "amp" not in read_header(out / "checkpoints" / "last.safetensors")["config"]["extra"]


def test_sample_raw_takes_the_trained_weights_not_their_average(tmp_path, capsys):
    """--raw samples the raw G of a run that kept an EMA of it; an exported file, which keeps only the
    average, says where the raw weights are."""
    out = tmp_path / "run"
    assert main(["train", "gan", "--data", "ring8", "--out", str(out), "--quiet", "--steps", "20",
                 "--g-ema", "0.9", "--lr", "1e-2"]) == 0
    last = out / "checkpoints" / "last.safetensors"
    averaged, raw = tmp_path / "ema.npy", tmp_path / "raw.npy"
    assert main(["sample", str(last), "--n", "64", "--out", str(averaged), "--device", "cpu"]) == 0
    assert main(["sample", str(last), "--n", "64", "--out", str(raw), "--device", "cpu", "--raw"]) == 0
    a, r = np.load(averaged), np.load(raw)
    assert a.shape == r.shape == (64, 2) and np.abs(a - r).mean() > 1e-3  # the same z, other weights
    exported = tmp_path / "small.safetensors"
    assert main(["export", str(last), "--out", str(exported)]) == 0
    capsys.readouterr()
    assert main(["sample", str(exported), "--n", "4", "--out", str(tmp_path / "x.npy"), "--raw"]) != 0
    assert "holds only the averaged weights" in capsys.readouterr().err
