"""A run on the user's own folder of images: skipped files are told in the status bar, and a batch
larger than the folder is refused with a message naming both numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

GAN = {"kind": "gan", "steps": 20000, "lr": "2e-4", "preview_every": 50, "device": "cpu", "seed": 0,
       "size": 16}


def image_folder(path: Path, good: int, broken: tuple[str, ...] = ()) -> Path:
    path.mkdir()
    for i in range(good):
        Image.fromarray(np.full((20, 20, 3), 6 * i, np.uint8)).save(path / f"img{i:02d}.png")
    for name in broken:
        (path / name).write_text("not an image")
    return path


def start(w, folder: Path, batch: int) -> None:
    w.panel.set_fields({**GAN, "batch": batch})
    w.panel.set_data(f"folder:{folder}")
    w.panel.use_new_folder()
    assert w.panel.is_valid()
    assert w.start_run()


def test_skipped_files_of_a_folder_show_in_the_status_bar(qtbot, make_window, tmp_path):
    w = make_window()
    folder = image_folder(tmp_path / "pics", 8, broken=("a_broken.jpg",))
    start(w, folder, batch=4)
    status = w.run_status
    qtbot.waitUntil(lambda: status.notice_text() != "", timeout=30_000)
    assert status.notice_text() == (f"1 file in {folder} could not be read as an image and was skipped "
                                    "(e.g. a_broken.jpg: not an image, or a corrupt one)")
    assert not status.notice.isHidden() and status.notice.text() == "⚠ 1 file skipped"
    w.controller.stop()
    assert w.controller.wait_finished(20)
    assert not w.errors

    # a clean data set's run clears it
    w.panel.set_fields({**GAN, "data": "ring8", "batch": 64})
    w.panel.use_new_folder()
    assert w.start_run()
    qtbot.waitUntil(lambda: status.step_value() > 0, timeout=30_000)
    assert status.notice_text() == "" and status.notice.isHidden()
    w.controller.stop()
    assert w.controller.wait_finished(20)


def test_a_batch_larger_than_the_folder_cannot_start(qtbot, make_window, tmp_path):
    w = make_window()
    folder = image_folder(tmp_path / "pics", 40)
    with qtbot.waitSignal(w.controller.threadFinished, timeout=30_000):
        start(w, folder, batch=256)
    title, message = w.errors.pop()
    assert title == "Cannot start the run"
    assert message == (f"batch 256 is larger than the data set (40 images in folder:{folder}): "
                       "use a batch of at most 40, or add images to the folder")
    assert w.act_start.isEnabled() and not w.errors
