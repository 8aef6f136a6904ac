"""The scrubber's "Invert a picture…": a dropped picture runs back to x_T on the sampling thread, is
scrubbed like a recording, and Branch regenerates it — η = 0 reconstructs it, another prompt changes it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from genstudio.bundled import bundled_path
from genstudio.data import load_dataset
from genstudio.gui.widgets.branch_panel import SAME_ENDING
from genstudio.imaging import save_png, to_uint8
from genstudio.loading import load_model
from genstudio.views.scrubber import FINAL

WAIT_MS = 60_000


@pytest.fixture
def view(reverse_scrubber):
    return reverse_scrubber  # tests/gui/conftest.py


def drop(widget, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    widget.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))


def digit_png(tmp_path, index: int = 7):
    digit = load_dataset("digits", size=16).tensor[index:index + 1].numpy()
    return save_png(tmp_path / "digit.png", to_uint8(digit)[0])


def wait_idle(qtbot, rev) -> None:
    qtbot.waitUntil(lambda: not rev.is_busy(), timeout=WAIT_MS)


def test_a_dropped_digit_inverts_scrubs_and_regenerates_with_eta_0(qtbot, view, tmp_path):
    """On the bundled digits DDPM at 20 DDIM steps: reconstruction measured 29.0 dB PSNR; a branch from
    x_T with η = 0 retraces it exactly, with η = 1 and another seed it ends elsewhere."""
    view.set_model(load_model(bundled_path("ddpm_digits"), "cpu"))
    rev = view.reverse
    rev.state.edit(sampler="ddim", steps=20)
    drop(rev, digit_png(tmp_path))
    assert rev.is_busy() and "inverting digit.png" in view.status()
    wait_idle(qtbot, rev)
    st = rev.state
    picture = st.inverted
    assert picture is not None and st.result.trajectory.x_t.shape == (20, 1, 1, 16, 16)
    assert picture.psnr > 25 and picture.error < 0.06, picture.describe()
    assert "reconstruction" in view.status() and "dB PSNR" in view.status()
    assert rev._sel["x_t"].caption().startswith("your picture: digit.png")
    ts = st.timesteps()
    assert ts[0] > ts[-2] and ts[-1] == FINAL  # scrubbed like a recording, x_T first
    rev.bar.set_timestep(int(ts[0]))  # x_T, as the inversion found it
    assert st.timestep == ts[0] and rev._sel["x_t"].caption() == "inverted x_t"
    assert st.branch_eta == 1.0  # a DDIM η = 0 recording branches with noise unless told otherwise
    assert rev.branch(seed=5, eta=0.0)
    wait_idle(qtbot, rev)
    assert st.branch.diff < SAME_ENDING and "reconstruction" in rev.branch_panel._endings[0].caption()
    assert rev.branch(seed=5, eta=1.0)
    wait_idle(qtbot, rev)
    assert st.branch.diff > 0.05


def test_a_text_model_regenerates_the_inverted_picture_with_another_prompt(qtbot, view, tmp_path):
    """The bundled text-to-image digits model inverts a 7 with the prompt "seven"; from x_T, the same
    prompt with η = 0 gives the reconstruction back, the prompt "zero" another image."""
    view.set_model(load_model(bundled_path("t2i_digits"), "cpu"))
    rev = view.reverse
    rev.state.edit(sampler="ddim", steps=10, prompt="seven")
    assert rev.invert_file(digit_png(tmp_path))
    wait_idle(qtbot, rev)
    st = rev.state
    assert st.inverted is not None and st.result.spec.prompt == "seven" and "prompt 'seven'" in view.status()
    rev.bar.set_timestep(int(st.timesteps()[0]))
    assert rev.branch(seed=1, eta=0.0)
    wait_idle(qtbot, rev)
    assert st.branch.diff < SAME_ENDING and "prompt" not in st.branch.what
    st.set_branch_options(prompt="zero")  # the branch row's prompt (the Prompt box is the next sample's)
    assert rev.branch(seed=1, eta=0.0)
    wait_idle(qtbot, rev)
    assert st.branch_prompt == "zero" and st.branch.diff > 0.05
    assert "prompt 'zero'" in rev.branch_panel._endings[1].caption()
    st.set_branch_options(prompt="a purple seven")
    assert not rev.branch(eta=0.0) and "purple" in view.status()


def test_a_picture_that_is_not_one_is_refused_in_a_line(qtbot, view, tmp_path):
    view.set_model(load_model(bundled_path("ddpm_digits"), "cpu"))
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert not view.reverse.invert_file(tmp_path / "bad.png")
    assert "bad.png" in view.status() and not view.reverse.is_busy()
    view.set_model(None)
    assert not view.reverse.invert_button.isEnabled()


def test_cancelling_an_inversion_shows_nothing_of_it(qtbot, view, tmp_path):
    view.set_model(load_model(bundled_path("ddpm_digits"), "cpu"))
    rev = view.reverse
    rev.state.edit(sampler="ddim", steps=200)
    assert rev.invert_file(digit_png(tmp_path))
    assert not rev.invert_button.isEnabled() and not rev.controls.go.isEnabled()
    rev.cancel()
    wait_idle(qtbot, rev)
    assert rev.state.result is None and rev.state.inverted is None
    assert view.status() == "invert cancelled" and rev.invert_button.isEnabled()
