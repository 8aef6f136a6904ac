"""The training time-lapse, Qt-free: a run folder's previews read in step order with their losses,
drawn with their step written on them, and exported as a GIF of one frame per preview."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genstudio.cli import main
from genstudio.imaging import FIELD_COLOURS
from genstudio.runs.timelapse import export_gif, frame_picture, load_preview_file, read_frames
from genstudio.views.timelapse import TimeLapseState
from timelapse_runs import COLOURS, image_run, points_run


def dominant(picture: np.ndarray) -> tuple[int, int, int]:
    """The COLOURS entry nearest to the most frequent colour of the lower half (the grid, not the
    caption), greys (the grid's padding, the background) left out."""
    lower = picture[picture.shape[0] // 2:].reshape(-1, 3).astype(int)
    lower = lower[lower.max(1) - lower.min(1) > 60]
    values, counts = np.unique(lower, axis=0, return_counts=True)
    top = values[np.argmax(counts)]
    return min(COLOURS, key=lambda c: np.abs(np.asarray(c) - top).sum())


def gif_frames(path) -> list[np.ndarray]:
    frames = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")))
    return frames


def test_frames_are_read_in_step_order_with_the_losses_at_their_steps(tmp_path):
    rd = image_run(tmp_path / "run", preview_steps=(20, 40, 65, 80, 100))  # 65: between two logs
    (rd.previews / "notes.png").write_bytes(b"not a preview")  # a synced folder holds other files too
    (rd.previews / "step_abc.png").write_bytes(b"nor this")
    frames = read_frames(rd.path)
    assert [f.step for f in frames] == [20, 40, 65, 80, 100]
    assert frames[0].losses == pytest.approx({"loss_D": 0.020, "loss_G": 2.0})  # the family's loss plot
    assert frames[2].losses["loss_D"] == pytest.approx(0.060)  # the last log before step 65
    assert [dominant(load_preview_file(f.path).data) for f in frames] == list(COLOURS[:5])


def test_gif_has_one_frame_per_saved_preview_in_step_order(tmp_path):
    rd = image_run(tmp_path / "run")
    out, n = export_gif(rd.path, tmp_path / "run.gif", fps=10, size=128)
    frames = gif_frames(out)
    assert n == 5 and len(frames) == 5  # the held last frame is one frame shown longer
    assert [dominant(f) for f in frames] == list(COLOURS[:5])
    with Image.open(out) as im:
        im.seek(4)
        assert im.info["duration"] > 100  # the last preview stays a moment before the loop
    assert export_gif(rd.path, tmp_path / "some.gif", max_frames=3)[1] == 3


def test_each_frame_has_its_step_written_above_the_grid(tmp_path):
    rd = image_run(tmp_path / "run")
    preview = load_preview_file(rd.previews / "step_000020.png")
    a = frame_picture(preview, 20, {"loss_D": 0.5}, size=128)
    b = frame_picture(preview, 4000, {"loss_D": 0.5}, size=128)
    assert a.shape == b.shape and a.shape[1] == 128 and a.shape[0] > 128  # the caption strip on top
    strip = a.shape[0] - 128
    assert not np.array_equal(a[:strip], b[:strip])  # another step, other text
    assert np.array_equal(a[strip:], b[strip:])  # the same grid


def test_points_frames_show_the_points_over_ds_field(tmp_path):
    rd = points_run(tmp_path / "ring")
    frames = read_frames(rd.path)
    assert [f.step for f in frames] == [50, 100, 150]
    preview = load_preview_file(frames[0].path)
    assert preview.kind == "points" and preview.extra["heatmap"].shape == (16, 16)
    picture = frame_picture(preview, 50, frames[0].losses, size=256)
    real_green = np.asarray(FIELD_COLOURS[-1][1])  # the field says "real" everywhere
    assert (np.abs(picture.reshape(-1, 3).astype(int) - real_green).sum(1) == 0).mean() > 0.3
    out, n = export_gif(rd.path, tmp_path / "ring.gif", size=256)
    frames_ = gif_frames(out)
    assert n == 3 and len(frames_) == 3 and frames_[0].shape == (256, 256, 3)
    assert not np.array_equal(frames_[0], frames_[2])  # the points moved


def test_timelapse_command_writes_the_gif_and_refuses_a_folder_without_previews(tmp_path, capsys):
    rd = image_run(tmp_path / "run")
    assert main(["timelapse", str(rd.path), "--out", str(tmp_path / "t.gif"), "--px", "64"]) == 0
    assert "5 frames" in capsys.readouterr().out
    assert len(gif_frames(tmp_path / "t.gif")) == 5
    (tmp_path / "empty").mkdir()
    assert main(["timelapse", str(tmp_path / "empty"), "--out", str(tmp_path / "e.gif")]) == 1
    err = capsys.readouterr().err
    assert "no saved previews" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- the view state
def test_choice_follows_the_newest_until_the_person_picks_another(tmp_path):
    st = TimeLapseState()
    seen: list[str] = []
    st.changed.connect(seen.append)
    frames = [(s, tmp_path / f"step_{s}.png") for s in (10, 20, 30)]
    st.set_frames(frames)
    assert st.step() == 30 and st.follow and seen == ["frames", "index"]
    st.set_frames(frames + [(40, tmp_path / "step_40.png")])
    assert st.step() == 40  # followed
    st.choose(1)
    assert st.step() == 20 and not st.follow
    st.set_frames(frames + [(40, tmp_path / "a"), (50, tmp_path / "b")])
    assert st.step() == 20  # held
    st.choose_step(44)  # a click on the loss curve: the nearest saved step
    assert st.step() == 40
    st.choose(4)
    assert st.follow and st.step() == 50
    st.set_frames(frames + [(40, tmp_path / "a"), (50, tmp_path / "b"), (60, tmp_path / "c")])
    assert st.step() == 60


def test_playing_runs_from_the_first_frame_to_the_newest_and_stops(tmp_path):
    st = TimeLapseState()
    st.set_frames([(s, tmp_path / f"{s}") for s in (10, 20, 30)])
    st.play()
    assert st.playing and st.step() == 10  # from the start: the newest was shown
    st.advance()
    assert st.step() == 20 and st.playing
    st.advance()
    assert st.step() == 30 and not st.playing and st.follow  # at the newest: live again


def test_clearing_the_frames_leaves_a_state_listeners_can_read(tmp_path):
    st = TimeLapseState()
    st.set_frames([(s, tmp_path / f"{s}") for s in (10, 20, 30)])
    seen: list[tuple[str, int | None]] = []
    st.changed.connect(lambda what: seen.append((what, st.step())))  # reads the state as a widget does
    st.clear()  # a new run
    assert seen == [("frames", None), ("index", None)] and st.index is None
