"""The Scrubber's reverse view with a text-to-image model: prompt, negative prompt, guidance s.

A tiny untrained text model (tests/tiny_models.py); every wait is on a condition.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt


from tiny_models import tiny_image_model, tiny_text_model

WAIT_MS = 20_000


@pytest.fixture
def view(reverse_scrubber):
    return reverse_scrubber  # tests/gui/conftest.py


def test_the_text_fields_show_only_for_a_model_that_takes_text(qtbot, view):
    view.set_model(tiny_image_model())
    assert not view.reverse.prompt.isVisible()
    view.set_model(tiny_text_model())
    rev = view.reverse
    assert rev.prompt.isVisible() and view.model() is not None
    assert "s = 0" in rev.prompt.guidance.toolTip() and "guidance_scale" in rev.prompt.guidance.toolTip()
    assert rev.prompt.guidance.value() == 3.0
    completer = rev.prompt.completers[0]
    assert completer.words() == ["a", "blue", "circle", "red", "star"]
    rev.prompt.prompt.setText("a red st")  # the last word is what gets completed
    assert completer.splitPath("a red st") == ["st"]
    completer.setCompletionPrefix("st")
    first = completer.completionModel().index(0, 0)
    assert completer.completionCount() == 1 and completer.pathFromIndex(first) == "a red star"


def test_a_prompt_samples_guided_and_an_unknown_word_is_refused_in_red(qtbot, view):
    view.set_model(tiny_text_model())
    rev = view.reverse
    qtbot.keyClicks(rev.prompt.prompt, "a green star")
    assert rev.state.spec.prompt == "a green star"
    assert rev.prompt.error.isVisible() and "'green'" in rev.prompt.error.text()
    assert not rev.controls.go.isEnabled()
    assert not rev.sample()  # refused with the tokenizer's message, no traceback
    rev.prompt.prompt.clear()
    qtbot.keyClicks(rev.prompt.prompt, "a red star")
    rev.prompt.guidance.setValue(5.0)
    assert not rev.prompt.error.isVisible() and rev.controls.go.isEnabled()
    rev.state.edit(n=2, sampler="ddim", steps=5)
    qtbot.mouseClick(rev.controls.go, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not rev.is_busy() and rev.state.result is not None, timeout=WAIT_MS)
    r = rev.state.result
    assert r.spec.prompt == "a red star" and r.spec.guidance == 5.0
    assert r.trajectory.guidance is not None and np.abs(r.trajectory.guidance).max() > 0


def test_scrubbing_a_guided_recording_shows_the_guidance_direction(qtbot, view):
    view.set_model(tiny_image_model())
    rev = view.reverse
    assert not rev._sel["guide"].isVisible()  # unguided models have no such panel
    view.set_model(tiny_text_model())
    rev.state.edit(prompt="a blue star", n=2, sampler="ddim", steps=5)
    assert rev.sample()
    qtbot.waitUntil(lambda: not rev.is_busy() and rev.state.result is not None, timeout=WAIT_MS)
    assert rev._sel["guide"].isVisible()
    traj = rev.state.result.trajectory
    rev.bar.set_timestep(int(traj.timesteps[2]))
    qtbot.waitUntil(lambda: rev.state.step_index() == 2, timeout=WAIT_MS)
    shown = rev._sel["guide"].current_grid()
    assert shown is not None and "ε̂_c − ε̂_∅" in rev._sel["guide"].caption()
    assert shown.std() > 0  # the direction of step 2, not a blank panel
    rev.bar.set_timestep(int(traj.timesteps[4]))
    qtbot.waitUntil(lambda: rev.state.step_index() == 4, timeout=WAIT_MS)
    assert not np.array_equal(rev._sel["guide"].current_grid(), shown)  # it follows t


def test_a_guidance_sweep_draws_one_row_per_scale_from_the_same_seed(qtbot, view):
    view.set_model(tiny_image_model())
    assert not view.tabs.isTabVisible(view.tabs.indexOf(view.sweep))
    view.set_model(tiny_text_model())
    assert view.tabs.isTabVisible(view.tabs.indexOf(view.sweep))
    view.tabs.setCurrentWidget(view.sweep)
    sweep = view.sweep
    assert sweep.state.scales == (0.0, 1.0, 3.0, 7.0)
    qtbot.keyClicks(sweep.scales, ", x")
    assert "'x' is not a number" in sweep.state.error and not sweep.go.isEnabled()
    sweep.scales.clear()
    qtbot.keyClicks(sweep.scales, "0 1 7")
    view.reverse.state.edit(prompt="a red star", n=3, sampler="ddim", steps=4, seed=5)
    assert sweep.go.isEnabled()
    qtbot.mouseClick(sweep.go, Qt.MouseButton.LeftButton)
    assert sweep.is_busy() and sweep.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not sweep.is_busy(), timeout=WAIT_MS)
    rows = sweep.state.rows
    assert [s.guidance for s in sweep.state.specs] == [0.0, 1.0, 7.0] and len(rows) == 3
    assert {s.seed for s in sweep.state.specs} == {5} and rows[0].shape[0] == 3
    assert not np.allclose(rows[0], rows[2])  # the scale changes the picture
    assert [v.caption() for v in sweep.rows[:3]] == ["s = 0 (unconditional)", "s = 1 (conditional)", "s = 7"]
    assert not sweep.rows[3].isVisible()


def test_a_guidance_sweep_cancels_and_keeps_the_rows_done(qtbot, view):
    view.set_model(tiny_text_model(num_steps=200))
    sweep = view.sweep
    view.reverse.state.edit(prompt="a blue circle", n=2, sampler="ddpm")  # 200 steps a row
    assert sweep.run()
    qtbot.waitUntil(lambda: sweep._progress.value() > 5, timeout=WAIT_MS)
    sweep.cancel()
    qtbot.waitUntil(lambda: not sweep.is_busy() and not sweep.sampler.is_busy(), timeout=WAIT_MS)
    assert len(sweep.state.rows) < 4 and "cancelled" in view.status()


def test_scrubbing_shows_one_attention_map_per_word_of_the_prompt(qtbot, view):
    view.set_model(tiny_text_model())
    rev = view.reverse
    rev.state.edit(prompt="a red star", n=2, sampler="ddim", steps=5)
    assert rev.sample()
    qtbot.waitUntil(lambda: not rev.is_busy() and rev.state.result is not None, timeout=WAIT_MS)
    traj = rev.state.result.trajectory
    rev.bar.set_timestep(int(traj.timesteps[1]))
    qtbot.waitUntil(lambda: rev.idle() and rev.attention.words == ["a", "red", "star"], timeout=WAIT_MS)
    strip = rev.attention
    assert strip.isVisible() and [v.caption() for v in strip.maps[:3]] == ["a", "red", "star"]
    assert not strip.maps[3].isVisible()
    first = [v.current_grid() for v in strip.maps[:3]]
    assert first[0].shape[:2] == (16 + 2, 16 + 2)  # one 16 px map (and its 1 px border) per word
    rev.state.select(1)  # another sample: its own maps
    qtbot.waitUntil(lambda: rev.idle(), timeout=WAIT_MS)
    assert any(not np.array_equal(a, v.current_grid()) for a, v in zip(first, strip.maps))
    view.set_model(tiny_image_model())  # no text: no maps
    assert not strip.isVisible()


def test_a_branch_changes_the_prompt_mid_way_and_shows_both_endings(qtbot, view):
    view.set_model(tiny_text_model())
    rev, panel = view.reverse, view.reverse.branch_panel
    assert not panel.text.isVisible()  # no recording yet
    rev.state.edit(prompt="a red star", n=2, sampler="ddim", steps=6, seed=3)
    assert rev.sample()
    qtbot.waitUntil(lambda: not rev.is_busy() and rev.state.result is not None, timeout=WAIT_MS)
    assert panel.text.isVisible() and panel.text.prompt.text() == "a red star" and panel.seed.value() == 3
    rev.bar.set_timestep(int(rev.state.result.trajectory.timesteps[2]))
    panel.text.prompt.clear()
    qtbot.keyClicks(panel.text.prompt, "a green star")
    assert "'green'" in panel.text.error.text() and not panel.button.isEnabled()
    panel.text.prompt.clear()
    qtbot.keyClicks(panel.text.prompt, "a blue circle")
    assert panel.button.isEnabled()
    qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not rev.is_busy() and rev.state.branch is not None, timeout=WAIT_MS)
    b = rev.state.branch
    assert b.what == "prompt 'a blue circle'" and b.diff > 1e-3
    captions = [v.caption() for v in panel._endings]
    assert captions[0] == "original: 'a red star', s = 3" and captions[1].endswith("prompt 'a blue circle'")
    assert "the new text still steers" in panel.summary()


def test_a_prompt_walk_runs_in_the_background_and_saves_a_gif(qtbot, view, tmp_path):
    from PIL import Image

    view.set_model(tiny_image_model())
    assert not view.tabs.isTabVisible(view.tabs.indexOf(view.walk))
    view.set_model(tiny_text_model())
    rev, walk = view.reverse, view.walk
    rev.state.edit(prompt="a red star", n=2, sampler="ddim", steps=4, seed=2)
    qtbot.mouseClick(rev.prompt.walk, Qt.MouseButton.LeftButton)  # "Walk to…" beside the prompt boxes
    assert view.tabs.currentWidget() is walk
    qtbot.keyClicks(walk.to, "a green circle")
    assert "'green'" in walk._error.text() and not walk.go.isEnabled()
    walk.to.clear()
    qtbot.keyClicks(walk.to, "a blue circle")
    walk.frames.setValue(5)
    assert walk.go.isEnabled() and not walk.save.isEnabled()
    qtbot.mouseClick(walk.go, Qt.MouseButton.LeftButton)
    assert walk.is_busy() and walk.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not walk.is_busy(), timeout=WAIT_MS)
    assert len(walk.state.images) == 5 and walk.state.alphas[-1] == 1.0
    assert walk.large.caption() == "frame 5 of 5: α = 1.00" and walk.save.isEnabled()
    first = view.reverse.state.spec  # frame 0 is sample #0 of what Sample draws
    from genstudio.sampling import sample

    np.testing.assert_allclose(walk.state.images[0], sample(view.model(), first).final[0], atol=1e-5)
    assert walk.save_gif(str(tmp_path / "walk.gif"), 64)
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 5


def test_a_prompt_walk_cancels_and_keeps_the_frames_done(qtbot, view):
    view.set_model(tiny_text_model(num_steps=200))
    walk = view.walk
    view.reverse.state.edit(prompt="a red star", sampler="ddpm")
    walk.state.set_options(prompt_to="a blue star", frames=6)
    assert walk.run()
    qtbot.waitUntil(lambda: walk._progress.value() > 5, timeout=WAIT_MS)
    walk.cancel()
    qtbot.waitUntil(lambda: not walk.is_busy(), timeout=WAIT_MS)
    assert len(walk.state.images) < 6 and "cancelled" in view.status() and not walk.save.isEnabled()
