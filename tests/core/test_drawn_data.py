"""A drawn 2-D data set (points:FILE.npy): it is what the trainer's batches come from, bad files are
refused in one line, and a run keeps its own copy so it resumes without the file it came from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genstudio.config import RunConfig
from genstudio.data import DataError, is_points, load_dataset
from genstudio.data.drawn import DRAWN_STD, read_drawing, write_drawing
from genstudio.runs.folder import RunDir
from genstudio.runs.loop import run_to_end
from genstudio.runs.start import make_trainer

DRAWN = np.array([[-1.5, 0.5], [0.0, 1.5], [1.5, 0.5], [0.25, -1.0]], np.float32)  # four dots


def _near_a_drawn_point(points: torch.Tensor, drawn: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(points.numpy()[:, None, :] - drawn[None, :, :], axis=2)  # (N, K)
    return d.min(axis=1)


def _config(data: str, **kw) -> RunConfig:
    base = dict(kind="gan", data=data, steps=2, batch=16, width=8, num_points=300, log_every=1,
                preview_every=100, checkpoint_every=100, device="cpu")
    return RunConfig(**{**base, **kw})


def test_the_trainers_batches_come_from_the_drawn_points(tmp_path):
    file = write_drawing(tmp_path / "dots.npy", DRAWN)
    name = f"points:{file}"
    assert is_points(name)
    data = load_dataset(name, num_points=400, seed=3)
    assert data.kind == "points" and data.tensor.shape == (400, 2)
    np.testing.assert_array_equal(data.info["drawn"], DRAWN)
    trainer = make_trainer(_config(name, batch=64), torch.device("cpu"))
    batch = trainer.next_batch()  # (64, 2)
    # every point of a batch is one of the drawn points plus a little noise (std DRAWN_STD)
    assert (_near_a_drawn_point(batch, DRAWN) < 5 * DRAWN_STD).all()
    # and the whole set uses every drawn point, about equally
    nearest = np.linalg.norm(data.tensor.numpy()[:, None] - DRAWN[None], axis=2).argmin(1)
    assert np.bincount(nearest, minlength=4).min() > 60


@pytest.mark.parametrize("content, message", [
    (np.zeros((5, 3)), r"shape \(K, 2\)"),
    (np.zeros((0, 2)), "no points"),
    (np.array([[0.0, np.nan]]), "finite"),
    (np.array(["a", "b"]), "not numbers"),
])
def test_a_bad_drawing_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "bad.npy"
    np.save(path, content)
    with pytest.raises(DataError, match=message):
        load_dataset(f"points:{path}")


def test_a_pickled_drawing_is_never_unpickled(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="not a drawing"):
        read_drawing(path)
    with pytest.raises(DataError, match="drawing not found"):
        load_dataset(f"points:{tmp_path / 'missing.npy'}")
    with pytest.raises(DataError, match="needs a file"):
        load_dataset("points:")


def test_the_drawing_is_saved_with_the_run_and_survives_a_moved_folder(tmp_path):
    source = write_drawing(tmp_path / "mine.npy", DRAWN)
    run = tmp_path / "run"
    done = run_to_end(_config(f"points:{source}"), run)
    assert done.reason == "done" and done.step == 2
    rd = RunDir(run)
    np.testing.assert_array_equal(np.load(rd.drawing), DRAWN)  # the run's own copy
    assert rd.read_config().data == f"points:{rd.drawing.resolve()}"
    source.unlink()  # the drawing the run came from is gone, and the folder moves
    moved = tmp_path / "elsewhere"
    run.rename(moved)
    again = run_to_end(_config("ring8", steps=4), moved, resume=True)  # resume keeps the run's own data
    assert again.reason == "done" and again.step == 4
    config = RunDir(moved).read_config()
    assert config.data == f"points:{RunDir(moved).drawing.resolve()}"
    assert load_dataset(config.data, num_points=50).info["drawn"].shape == (4, 2)
