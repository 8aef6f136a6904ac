"""A Stable Diffusion pipeline folder (a tiny random one made here) opens in the scrubber, samples with a
prompt, and shows the latent channels of x_t and x̂₀ beside their exact VAE decodes at every step."""

from __future__ import annotations

import numpy as np
import pytest

from tiny_models import tiny_sd_pipeline

pytest.importorskip("diffusers")
pytest.importorskip("transformers")


def drop(widget, path) -> bool:
    """Drop ``path`` on ``widget`` as a file manager would; whether it was taken."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(widget.rect().center(), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    widget.dragEnterEvent(enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event.isAccepted()


def test_an_sd_folder_opens_in_the_scrubber_with_latent_and_decoded_frames(make_window, qtbot, tmp_path):
    folder = tmp_path / "sd-tiny"
    tiny_sd_pipeline(folder)
    w = make_window()
    opened = []
    w.checkpointOpened.connect(lambda p, m: opened.append(m))
    assert not drop(w.scrubber.reverse, folder)  # the Reverse view takes pictures, not model folders
    with qtbot.waitSignal(w.checkpointOpened, timeout=60_000):
        assert drop(w, folder)  # dropped on the window: opened as File ▸ Open diffusers model folder does
    qtbot.waitUntil(lambda: not w.loader.is_busy(), timeout=5000)
    assert not w.errors and opened[0].sample_shape == (4, 8, 8)
    assert "Stable Diffusion" in w.statusBar().currentMessage()
    scrubber = w.scrubber
    qtbot.waitUntil(lambda: scrubber.model() is opened[0], timeout=10_000)
    rev = scrubber.reverse
    st = rev.state
    assert st.takes_text() and st.spec.sampler == "ddim" and st.spec.steps == 20 and st.spec.n == 1
    assert "about" in st.recording_note() and "U-Net step" in st.recording_note()  # the estimate, before it starts
    assert not rev.invert_button.isEnabled()
    st.edit(prompt="a red circle", negative="blue", guidance=4.0, steps=6, n=2)
    assert rev.sample()
    qtbot.waitUntil(lambda: not rev.is_busy(), timeout=30_000)
    result = st.result
    assert result is not None and result.final.shape == (2, 4, 8, 8) and len(result.trajectory) == 6
    st.set_timestep(int(result.trajectory.timesteps[2]))
    frames = rev.latent_frames
    assert not frames.isHidden()
    qtbot.waitUntil(lambda: frames.idle() and frames.decoded is not None and frames.decoded[0].startswith("t ="),
                    timeout=10_000)
    what, pics = frames.decoded
    assert pics.shape == (2, 3, 32, 32) and np.abs(pics).max() <= 1  # x_t and x̂₀ decoded by the VAE
    assert rev.shown_grid().shape[-1] == 3  # the grid: the latents through the fitted preview, in colour
    qtbot.waitUntil(lambda: rev.attention.idle() and rev.attention.words == ["a", "red", "circle"], timeout=10_000)
    # change the prompt mid-way: the branch continues from this x_t with another prompt
    st.set_branch_options(prompt="a green square")
    assert rev.branch()
    qtbot.waitUntil(lambda: not rev.is_busy() and st.branch is not None, timeout=30_000)
    assert st.branch.final.shape == (2, 4, 8, 8) and "green square" in st.branch.what
